"""Crawl stage, pure parser: schema.org ``Review`` / ``AggregateRating`` markup -> item dicts.

In: a page URL and its HTML body (bytes or str). Out: a :class:`SchemaOrgPage` with review items
(``spiders.items.review_item`` dicts), at most one ``app_meta`` item built from the page's
``AggregateRating``, the next-page URL (when a CSS selector for it is given) and a list of
counted :class:`Problem` s (fields that could not be read, broken JSON-LD blocks, duplicates).

`extruct` reads the three syntaxes sites use: JSON-LD, microdata and RDFa. Review nodes are found
wherever they sit (top level, ``@graph``, nested under ``review``/``reviews``/``mainEntity`` or any
other property, microdata items with ``itemprop=review``) and normalised for the edge cases real
pages produce: ``review`` as object or list, ``reviewRating`` as a ``Rating`` object or a bare
string, ``ratingValue`` as string or number, ``bestRating``/``worstRating`` missing (5/1).
Reviewer names (``author``) are never read.

No network, no Scrapy: the spider in ``spiders/sources/schema_org.py`` does navigation.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import attrs
import extruct
from cssselect import SelectorError
from extruct.utils import parse_xmldom_html
from lxml import etree
from parsel import Selector

from spiders.items import app_meta_item, review_item
from spiders.pages import PageFormatError, clean_text, to_stars, to_utc_iso

REVIEW_TYPES = frozenset({"Review", "UserReview", "CriticReview", "EmployerReview"})
"""schema.org types read as a customer review (ClaimReview is a fact check, not a review)."""

SYNTAXES = ("json-ld", "microdata", "rdfa")

# Deeper nesting than this is not markup a site writes on purpose; stopping keeps the walk safe
# from pathological bodies (and from Python's recursion limit).
_MAX_DEPTH = 40
_SCHEMA_PREFIXES = ("http://schema.org/", "https://schema.org/")
_LANG = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]+)*$")
_NUMBER = re.compile(r"\d[\d,.\s]*")


@attrs.frozen
class Problem:
    """Something on the page that could not be read; the spider logs and counts it by ``kind``."""

    kind: str
    """Stat key: ``bad_rating``, ``bad_date``, ``empty_review``, ``broken_markup``, ``duplicate``.
    """
    message: str
    """Human-readable, names the URL and the field."""


@attrs.frozen
class StructuredData:
    """All schema.org nodes of a page (each syntax normalised to plain nested dicts)."""

    nodes: list[dict[str, Any]]
    problems: list[Problem]


@attrs.frozen
class ReviewFields:
    """One Review node normalised to the project's fields (no identity of the author)."""

    node_id: str | None
    rating: int | None
    title: str | None
    text: str
    published_at: str | None
    language: str | None
    url: str | None


@attrs.frozen
class AggregateFields:
    """One AggregateRating node, its average rescaled to 1-5."""

    name: str | None
    average_rating: float | None
    rating_count: int | None
    review_count: int | None


@attrs.frozen
class SchemaOrgPage:
    """What one page yields (see the module docstring)."""

    url: str
    reviews: list[dict[str, Any]]
    app_meta: dict[str, Any] | None
    next_url: str | None
    problems: list[Problem]


# -- reading the markup ---------------------------------------------------------------------


def structured_data(
    url: str, body: bytes | str, syntaxes: tuple[str, ...] = SYNTAXES
) -> StructuredData:
    """Every schema.org node in ``body``, from JSON-LD, microdata and RDFa, as nested dicts.

    A JSON-LD block that is not JSON is reported as a ``broken_markup`` problem and skipped (sites
    often carry one broken block beside good ones); the page as a whole failing to parse raises.

    Raises:
        PageFormatError: the body is not an HTML document at all.
    """
    tree = _parse_tree(url, body)
    nodes: list[dict[str, Any]] = []
    problems: list[Problem] = []
    if "json-ld" in syntaxes:
        scripts = tree.xpath('//script[@type="application/ld+json"]')
        for index, script in enumerate(scripts):
            try:
                # One block at a time (extruct reads a script node as a tree of its own), so that
                # a broken block does not hide the others.
                found = extruct.extract(script, base_url=url, syntaxes=["json-ld"])["json-ld"]
                nodes.extend(n for n in found if isinstance(n, dict))
            except (ValueError, RecursionError) as exc:
                problems.append(
                    Problem(
                        "broken_markup",
                        f"{url}: JSON-LD block #{index + 1} is not valid JSON ({_short(exc)})",
                    )
                )
    if "microdata" in syntaxes:
        try:
            found = extruct.extract(tree, base_url=url, syntaxes=["microdata"], uniform=True)
            nodes.extend(n for n in found["microdata"] if isinstance(n, dict))
        except Exception as exc:  # extruct/lxml fail in many ways on broken markup
            problems.append(
                Problem("broken_markup", f"{url}: microdata unreadable ({_short(exc)})")
            )
    # RDFa parsing (rdflib) costs ~10x the other two on a large page; a Review or AggregateRating
    # in RDFa needs a typeof attribute, so pages without one are skipped.
    if "rdfa" in syntaxes and tree.xpath("boolean(//*[@typeof])"):
        try:
            nodes.extend(
                _rdfa_nodes(extruct.extract(tree, base_url=url, syntaxes=["rdfa"])["rdfa"])
            )
        except Exception as exc:  # rdflib/pyRdfa raise their own errors on broken markup
            problems.append(Problem("broken_markup", f"{url}: RDFa unreadable ({_short(exc)})"))
    return StructuredData(nodes, problems)


def _parse_tree(url: str, body: bytes | str) -> Any:
    data = body.encode("utf-8", "replace") if isinstance(body, str) else body
    if not data.strip():
        raise PageFormatError(url, "empty body, expected an HTML page")
    try:
        tree = parse_xmldom_html(data, encoding="utf-8")
    except (etree.LxmlError, ValueError) as exc:
        raise PageFormatError(url, f"body is not HTML ({_short(exc)})") from exc
    if tree is None:
        raise PageFormatError(url, "body is not HTML (no document element)")
    return tree


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _rdfa_nodes(expanded: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """RDFa comes out as flat expanded JSON-LD (full IRIs, ``{"@value"}``, ``{"@id"}`` links).

    Rebuild nested dicts with short schema.org names from the root nodes (nodes nobody links
    to) so the same walk as for JSON-LD finds Reviews with their ratings.
    """
    by_id = {n["@id"]: n for n in expanded if isinstance(n, dict) and "@id" in n}
    linked = {
        v["@id"]
        for n in by_id.values()
        for key, values in n.items()
        if not key.startswith("@") and isinstance(values, list)
        for v in values
        if isinstance(v, dict) and "@id" in v
    }
    roots = [n for i, n in by_id.items() if i not in linked] or list(by_id.values())
    return [_compact_rdfa(n, by_id, frozenset(), 0) for n in roots]


def _compact_rdfa(
    node: dict[str, Any], by_id: dict[str, Any], seen: frozenset[str], depth: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node_id = node.get("@id")
    if isinstance(node_id, str) and not node_id.startswith("_:"):
        out["@id"] = node_id
    types = node.get("@type")
    if types:
        out["@type"] = [_short_name(t) for t in (types if isinstance(types, list) else [types])]
    seen = seen | {node_id} if isinstance(node_id, str) else seen
    for key, values in node.items():
        if key.startswith("@") or not key.startswith(_SCHEMA_PREFIXES):
            continue
        converted = []
        for v in values if isinstance(values, list) else [values]:
            if isinstance(v, dict) and "@value" in v:
                converted.append(v["@value"])
            elif isinstance(v, dict) and "@id" in v:
                ref = v["@id"]
                if ref in by_id and ref not in seen and depth < _MAX_DEPTH:
                    converted.append(_compact_rdfa(by_id[ref], by_id, seen, depth + 1))
                else:  # a link to something outside the page (or a cycle): keep the IRI
                    converted.append(ref)
        out[_short_name(key)] = converted[0] if len(converted) == 1 else converted
    return out


def _short_name(iri: Any) -> str:
    """``http://schema.org/Review``, ``schema:Review`` -> ``Review``."""
    return re.split(r"[/#:]", str(iri).rstrip("/"))[-1]


def walk(
    value: Any, parent: dict[str, Any] | None = None, depth: int = 0
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every dict inside ``value`` (document order) with the dict that holds it."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, dict):
        yield value, parent
        for key, child in value.items():
            if key != "@context":
                yield from walk(child, value, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from walk(child, parent, depth + 1)


def node_types(node: dict[str, Any]) -> set[str]:
    """Short schema.org type names of a node (``@type`` string or list, IRIs shortened)."""
    types = node.get("@type")
    if types is None:
        return set()
    return {_short_name(t) for t in (types if isinstance(types, list) else [types])}


def is_review(node: dict[str, Any]) -> bool:
    """Whether ``node`` is a schema.org Review (or a subtype that is a customer review)."""
    return bool(node_types(node) & REVIEW_TYPES)


# -- normalising nodes ----------------------------------------------------------------------


def _first(value: Any) -> Any:
    """Microdata and RDFa repeat properties as lists; the first value is the one meant."""
    while isinstance(value, list):
        if not value:
            return None
        value = value[0]
    return value


def _text(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):  # e.g. {"@value": ...} or a TextObject
        value = value.get("@value", value.get("text"))
    if value is None or isinstance(value, dict | list):
        return None
    return clean_text(value) or None


def _count(value: Any) -> int | None:
    """``"174"``, ``174``, ``"2067 Ratings"``, ``"1,234"`` -> int; None when there is no number."""
    value = _first(value)
    if value is None or isinstance(value, bool | dict):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    match = _NUMBER.search(str(value))
    if not match:
        return None
    digits = re.sub(r"[,\s]", "", match.group(0)).split(".")[0]
    return int(digits) if digits else None


def _scale(rating: Any) -> tuple[Any, Any, Any]:
    """(value, best, worst) of a ``reviewRating``/``AggregateRating``: object or bare value."""
    rating = _first(rating)
    if isinstance(rating, dict):
        best = _first(rating.get("bestRating"))
        worst = _first(rating.get("worstRating"))
        return (
            _first(rating.get("ratingValue")),
            5 if best in (None, "") else best,
            1 if worst in (None, "") else worst,
        )
    return rating, 5, 1


def language_code(value: Any) -> str | None:
    """``"en-US"`` -> ``"en"``; text that is not an ISO 639-1 tag (``"English"``) -> None."""
    value = _first(value)
    if not isinstance(value, str):
        return None
    match = _LANG.match(value.strip())
    return match.group(1).lower() if match else None


def review_fields(
    url: str, node: dict[str, Any], index: int
) -> tuple[ReviewFields | None, list[Problem]]:
    """Normalise one Review node. None when it carries nothing to keep (a bare ``@id`` link).

    A field that cannot be read (a rating outside its scale, a date that is not a date) becomes
    None and is reported as a problem: the rest of the review is still worth keeping.
    """
    where = f"{url}: review #{index + 1}"
    problems: list[Problem] = []
    value, best, worst = _scale(node.get("reviewRating"))
    rating: int | None = None
    if isinstance(value, dict | list):
        problems.append(Problem("bad_rating", f"{where}: reviewRating.ratingValue is not a number"))
    else:
        try:
            rating = to_stars(value, best, worst)
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            problems.append(
                Problem(
                    "bad_rating",
                    f"{where}: reviewRating {value!r} (best {best!r}, worst {worst!r}) "
                    "is not a 1-5 rating",
                )
            )
    published: str | None = None
    raw_date = _first(node.get("datePublished") or node.get("dateCreated"))
    if raw_date not in (None, ""):
        try:
            published = to_utc_iso(raw_date if isinstance(raw_date, int | float) else str(raw_date))
        except (ValueError, TypeError, OverflowError, OSError):
            problems.append(
                Problem("bad_date", f"{where}: datePublished {raw_date!r} is not an ISO date")
            )
    text = (
        _text(node.get("reviewBody"))
        or _text(node.get("description"))
        or _text(node.get("text"))
        or ""
    )
    title = _text(node.get("name")) or _text(node.get("headline"))
    if not text and not title and rating is None:
        if not problems and set(node) - {"@id", "@type", "id", "@context"}:
            problems.append(Problem("empty_review", f"{where}: has no rating, title or text"))
        return None, problems
    node_id = _first(node.get("@id")) or _first(node.get("id"))
    link = _first(node.get("url"))
    return ReviewFields(
        node_id=str(node_id) if isinstance(node_id, str) and not node_id.startswith("_:") else None,
        rating=rating,
        title=title,
        text=text,
        published_at=published,
        language=language_code(node.get("inLanguage")),
        url=_join(url, link),
    ), problems


def _join(base: str, link: Any) -> str | None:
    """An absolute http(s) URL from a (relative) link; None for anything else."""
    if not isinstance(link, str) or not link.strip():
        return None
    try:
        joined = urljoin(base, link.strip())
    except ValueError:  # e.g. "http://[" (a broken IPv6 literal)
        return None
    return joined if joined.startswith(("http://", "https://")) else None


def aggregate_fields(node: dict[str, Any], parent: dict[str, Any] | None) -> AggregateFields:
    """Normalise an AggregateRating node; the name comes from the item it rates."""
    value, best, worst = _scale(node)
    average: float | None = None
    try:
        v, b, w = float(value), float(best), float(worst)
        average = round(v if (b, w) == (5.0, 1.0) or b == w else 1 + 4 * (v - w) / (b - w), 3)
    except (TypeError, ValueError):
        average = None
    reviewed = _first(node.get("itemReviewed"))
    name_from = parent if parent is not None and parent is not node else reviewed
    return AggregateFields(
        name=_text(name_from.get("name")) if isinstance(name_from, dict) else None,
        average_rating=average if average is not None and 0 <= average <= 5 else None,
        rating_count=_count(node.get("ratingCount")),
        review_count=_count(node.get("reviewCount")),
    )


def stable_review_id(id_base: str, fields: ReviewFields) -> str:
    """sha1 of the page the reviews belong to and the review's author-less content.

    Title and rating are part of it beside date and body: rating-only reviews posted in the same
    second (real pages have them) would otherwise share an id.
    """
    key = "\x1f".join(
        [id_base, fields.published_at or "", fields.title or "", fields.text, str(fields.rating)]
    )
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def next_page_url(url: str, body: bytes | str, selector: str) -> str | None:
    """Absolute URL of the next-page link ``selector`` picks (its href, or an ``a`` inside it)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        found = Selector(text=text).css(selector)
    except (SelectorError, ValueError) as exc:
        raise PageFormatError(
            url, f"next_selector {selector!r} is not a CSS selector ({exc})"
        ) from exc
    except etree.LxmlError as exc:
        raise PageFormatError(url, f"body is not HTML ({_short(exc)})") from exc
    for element in found:
        try:
            href = element.attrib.get("href") or element.css("a::attr(href)").get()
        except ValueError:  # lxml refuses attributes holding control characters
            continue
        if href and not href.strip().startswith("#"):
            joined = _join(url, href)
            if joined is not None:
                return joined
    return None


# -- the page --------------------------------------------------------------------------------


def parse_schema_org_page(
    url: str,
    body: bytes | str,
    *,
    source: str,
    product: str,
    target: str,
    fetched_at: str,
    id_base: str | None = None,
    expect_reviews: bool = False,
    next_selector: str | None = None,
) -> SchemaOrgPage:
    """Read a page's Review and AggregateRating markup into items.

    Args:
        url: the page URL (base for relative links; item ``url`` when a review has none).
        body: the HTML.
        source, product, target, fetched_at: copied into every item.
        id_base: the URL hashed into ids of reviews without their own ``@id``/``url``; the
            target's start URL, so a review keeps its id when it moves to another page.
        expect_reviews: a page without Review markup is an error (the site changed).
        next_selector: CSS selector of the next-page link.

    Raises:
        PageFormatError: not HTML; no Review and no AggregateRating markup at all; no Review
            markup although ``expect_reviews``.
    """
    data = structured_data(url, body)
    problems = list(data.problems)
    fields: list[ReviewFields] = []
    aggregates: list[AggregateFields] = []
    review_index = 0
    for root in data.nodes:
        for node, parent in walk(root):
            if is_review(node):
                found, node_problems = review_fields(url, node, review_index)
                review_index += 1
                problems.extend(node_problems)
                if found is not None:
                    fields.append(found)
            elif "AggregateRating" in node_types(node):
                aggregates.append(aggregate_fields(node, parent))
    if not fields and not aggregates:
        broken = "; ".join(p.message for p in problems if p.kind == "broken_markup")
        raise PageFormatError(
            url,
            "no schema.org Review or AggregateRating markup (JSON-LD, microdata, RDFa)"
            + (f"; {broken}" if broken else ""),
        )
    if not fields and expect_reviews:
        raise PageFormatError(url, "no schema.org Review markup, but this target expects reviews")
    reviews = _review_items(
        url,
        id_base or url,
        fields,
        problems,
        source=source,
        product=product,
        target=target,
        fetched_at=fetched_at,
    )
    app_meta = None
    if aggregates:
        agg = aggregates[0]
        app_meta = app_meta_item(
            source=source,
            product=product,
            target=target,
            url=url,
            fetched_at=fetched_at,
            name=agg.name,
            average_rating=agg.average_rating,
            rating_count=agg.rating_count,
            review_count=agg.review_count,
            histogram=None,
        )
    next_url = next_page_url(url, body, next_selector) if next_selector else None
    return SchemaOrgPage(
        url=url, reviews=reviews, app_meta=app_meta, next_url=next_url, problems=problems
    )


def _review_items(
    url: str, id_base: str, fields: list[ReviewFields], problems: list[Problem], **common: str
) -> list[dict[str, Any]]:
    # An @id or url shared by several reviews (some sites set every review's url to the page)
    # is not an identity: those reviews fall back to the content hash.
    shared = Counter(f.node_id or f.url for f in fields)
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for f in fields:
        own = f.node_id or f.url
        review_id = own if own and shared[own] == 1 and own != url else stable_review_id(id_base, f)
        if review_id in seen:
            # Sites often carry the same reviews in JSON-LD and in microdata.
            problems.append(
                Problem("duplicate", f"{url}: review {review_id} appears twice on the page")
            )
            continue
        seen.add(review_id)
        items.append(
            review_item(
                review_id=review_id,
                rating=f.rating,
                title=f.title,
                text=f.text,
                published_at=f.published_at,
                language=f.language,
                url=f.url or url,
                **common,
            )
        )
    return items
