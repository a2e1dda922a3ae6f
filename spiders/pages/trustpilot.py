"""Crawl stage, pure parser: a Trustpilot company review page -> review and app_meta items.

In: the page URL and its HTML (``/review/{domain}?languages=all&sort=recency[&page=N]``). Out: a
:class:`TrustpilotPage` with up to 20 review items, the business unit's aggregate as an
``app_meta`` item, the pagination (current and total pages) and, when the page is Trustpilot's
login wall, the redirect target instead of reviews.

The page is a Next.js app: ``<script id="__NEXT_DATA__">`` carries ``props.pageProps`` with
``reviews``, ``businessUnit`` and ``filters`` (pagination, star histogram). When that script is
absent but the page still has its JSON-LD ``@graph`` with ``Review`` nodes, those are read
instead (no replies, likes or country there). Consumer names and profiles are never read.

:func:`is_bot_challenge` recognises the "Verifying your connection" interstitial, which is not a
format change but a block: the spider retries it. Anything else that is neither format raises
:class:`~spiders.pages.PageFormatError`.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

import attrs
from lxml import etree
from parsel import Selector

from spiders.items import app_meta_item, review_item
from spiders.pages import PageFormatError, clean_text, load_json, to_utc_iso
from spiders.pages.schema_org import (
    aggregate_fields,
    is_review,
    language_code,
    node_types,
    review_fields,
    structured_data,
    walk,
)

REAL_HOST = "https://www.trustpilot.com"
"""Item URLs always point at the real site, whatever base URL the crawl used."""

LOGIN_PATH = "/users/connect"
"""Where Trustpilot sends anonymous visitors past page 10."""

_CHALLENGE_MARKERS = (
    "verifying your connection",
    "verify your browser",
    "just a moment...",
    "challenge-platform",
    "cf-browser-verification",
    "cf_chl_",
)
_STARS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5"}


@attrs.frozen
class TrustpilotPage:
    """What one review page yields (see the module docstring)."""

    url: str
    reviews: list[dict[str, Any]]
    app_meta: dict[str, Any] | None
    current_page: int | None
    total_pages: int | None
    """From ``filters.pagination``; None when the page came from the JSON-LD fallback."""
    redirect: str | None = None
    """``pageProps.__N_REDIRECT`` (the login wall past page 10); reviews are then empty."""
    via: Literal["next_data", "json_ld", "redirect"] = "next_data"


def review_url(review_id: str) -> str:
    """Permalink of a review on the real site."""
    return f"{REAL_HOST}/reviews/{review_id}"


def company_url(domain: str) -> str:
    """The company's review page on the real site."""
    return f"{REAL_HOST}/review/{domain}"


def is_login_redirect(location: str) -> bool:
    """Whether a redirect target (absolute or a path) is Trustpilot's login page."""
    return urlsplit(location.strip()).path.rstrip("/").startswith(LOGIN_PATH)


def is_bot_challenge(body: bytes | str) -> bool:
    """Whether ``body`` is the bot-protection interstitial rather than a review page.

    The interstitial is HTML without ``__NEXT_DATA__`` and without JSON-LD, saying "Verifying your
    connection" (Cloudflare-style wording varies, so several markers count).
    """
    text = _decode(body)
    if "__NEXT_DATA__" in text or "application/ld+json" in text:
        return False
    lowered = text.lower()
    return any(marker in lowered for marker in _CHALLENGE_MARKERS)


def _decode(body: bytes | str) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


def parse_trustpilot_page(
    url: str, body: bytes | str, *, domain: str, product: str, target: str, fetched_at: str
) -> TrustpilotPage:
    """Read one Trustpilot review page.

    Args:
        url: the URL fetched (named in errors).
        body: the HTML.
        domain: the company's domain (``bt.com``), for the app_meta URL.
        product, target, fetched_at: copied into every item.

    Raises:
        PageFormatError: the page has neither ``__NEXT_DATA__`` nor Review JSON-LD, or either of
            them lacks a field every review page has.
    """
    text = _decode(body)
    common = {
        "source": "trustpilot",
        "product": product,
        "target": target,
        "fetched_at": fetched_at,
    }
    try:
        raw = Selector(text=text).css("script#__NEXT_DATA__::text").get()
    except (ValueError, TypeError, etree.LxmlError) as exc:  # lxml refuses some bodies outright
        raise PageFormatError(url, f"body is not HTML ({exc})") from exc
    if raw is not None:
        return _from_next_data(url, load_json(url, raw), domain, common)
    return _from_json_ld(url, text, domain, common)


# -- __NEXT_DATA__ ---------------------------------------------------------------------------


def _from_next_data(url: str, data: Any, domain: str, common: dict[str, str]) -> TrustpilotPage:
    props = data.get("props", {}).get("pageProps") if isinstance(data, dict) else None
    if not isinstance(props, dict):
        raise PageFormatError(url, "__NEXT_DATA__ has no props.pageProps object")
    redirect = props.get("__N_REDIRECT")
    if redirect:
        return TrustpilotPage(
            url=url,
            reviews=[],
            app_meta=None,
            current_page=None,
            total_pages=None,
            redirect=str(redirect),
            via="redirect",
        )
    reviews = props.get("reviews")
    if not isinstance(reviews, list):
        raise PageFormatError(url, "__NEXT_DATA__ props.pageProps.reviews is missing or not a list")
    items = [_review(url, i, r, common) for i, r in enumerate(reviews)]
    filters = props.get("filters") if isinstance(props.get("filters"), dict) else {}
    pagination = filters.get("pagination") if isinstance(filters.get("pagination"), dict) else {}
    return TrustpilotPage(
        url=url,
        reviews=items,
        app_meta=_app_meta(url, props.get("businessUnit"), filters, domain, common),
        current_page=_int_or_none(
            url, "filters.pagination.currentPage", pagination.get("currentPage")
        ),
        total_pages=_int_or_none(
            url, "filters.pagination.totalPages", pagination.get("totalPages")
        ),
    )


def _review(url: str, index: int, r: Any, common: dict[str, str]) -> dict[str, Any]:
    where = f"props.pageProps.reviews[{index}]"
    if not isinstance(r, dict):
        raise PageFormatError(url, f"{where} is not an object")
    review_id = r.get("id")
    if not isinstance(review_id, str) or not review_id.strip():
        raise PageFormatError(url, f"{where} has no id")
    rating = r.get("rating")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise PageFormatError(url, f"{where}.rating {rating!r} is not 1-5")
    dates = r.get("dates") if isinstance(r.get("dates"), dict) else {}
    reply = r.get("reply") if isinstance(r.get("reply"), dict) else {}
    consumer = r.get("consumer") if isinstance(r.get("consumer"), dict) else {}
    likes = r.get("likes")
    country = consumer.get("countryCode")
    return review_item(
        review_id=review_id.strip(),
        rating=rating,
        title=clean_text(r.get("title")) or None,
        text=clean_text(r.get("text")),
        published_at=_date(url, f"{where}.dates.publishedDate", dates.get("publishedDate")),
        country=country.lower() if isinstance(country, str) and len(country) == 2 else None,
        language=language_code(r.get("language")),
        url=review_url(review_id.strip()),
        reply_text=clean_text(reply.get("message")) or None,
        reply_at=_date(url, f"{where}.reply.publishedDate", reply.get("publishedDate")),
        helpful_count=likes if isinstance(likes, int) and not isinstance(likes, bool) else None,
        **common,
    )


def _date(url: str, field: str, value: Any) -> str | None:
    try:
        return to_utc_iso(
            value if isinstance(value, str | int | float) or value is None else str(value)
        )
    except (ValueError, TypeError, OverflowError, OSError) as exc:
        raise PageFormatError(url, f"{field} {value!r} is not a date") from exc


def _int_or_none(url: str, field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise PageFormatError(url, f"{field} {value!r} is not an integer")


def _app_meta(
    url: str, unit: Any, filters: dict[str, Any], domain: str, common: dict[str, str]
) -> dict[str, Any] | None:
    if not isinstance(unit, dict):
        return None
    stats = (
        filters.get("reviewStatistics") if isinstance(filters.get("reviewStatistics"), dict) else {}
    )
    ratings = stats.get("ratings") if isinstance(stats.get("ratings"), dict) else {}
    histogram = {
        star: ratings[word]
        for word, star in _STARS.items()
        if isinstance(ratings.get(word), int) and not isinstance(ratings.get(word), bool)
    }
    score = unit.get("trustScore") if unit.get("trustScore") is not None else unit.get("stars")
    average: float | None = None
    if score is not None:
        if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 5:
            raise PageFormatError(url, f"businessUnit.trustScore {score!r} is not a 0-5 score")
        average = float(score)
    total = ratings.get("total")
    count = unit.get("numberOfReviews")
    return app_meta_item(
        name=clean_text(unit.get("displayName")) or None,
        average_rating=average,
        rating_count=total if isinstance(total, int) and not isinstance(total, bool) else None,
        review_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        histogram=histogram if len(histogram) == 5 else None,
        url=company_url(domain),
        **common,
    )


# -- JSON-LD fallback ------------------------------------------------------------------------


def _from_json_ld(url: str, text: str, domain: str, common: dict[str, str]) -> TrustpilotPage:
    data = structured_data(url, text, syntaxes=("json-ld",))
    items: list[dict[str, Any]] = []
    app_meta = None
    index = 0
    for root in data.nodes:
        for node, parent in walk(root):
            if is_review(node):
                fields, problems = review_fields(url, node, index)
                index += 1
                if problems:  # Trustpilot's own markup is regular: any oddity is a format change
                    raise PageFormatError(url, problems[0].message)
                if fields is None:
                    continue  # an {"@id": ...} link from the LocalBusiness node
                if not fields.node_id:
                    raise PageFormatError(url, f"JSON-LD Review #{index} has no @id")
                # "https://www.trustpilot.com/#/schema/Review/bt.com/<review id>"
                review_id = fields.node_id.rstrip("/").rsplit("/", 1)[-1]
                items.append(
                    review_item(
                        review_id=review_id,
                        rating=fields.rating,
                        title=fields.title,
                        text=fields.text,
                        published_at=fields.published_at,
                        language=fields.language,
                        url=review_url(review_id),
                        **common,
                    )
                )
            elif app_meta is None and "AggregateRating" in node_types(node):
                agg = aggregate_fields(node, parent)
                app_meta = app_meta_item(
                    name=agg.name,
                    average_rating=agg.average_rating,
                    rating_count=agg.rating_count,
                    review_count=agg.review_count,
                    histogram=None,
                    url=company_url(domain),
                    **common,
                )
    if not items:
        broken = "; ".join(p.message for p in data.problems)
        raise PageFormatError(
            url,
            "neither __NEXT_DATA__ nor JSON-LD Review nodes found (page layout changed?)"
            + (f"; {broken}" if broken else ""),
        )
    return TrustpilotPage(
        url=url,
        reviews=items,
        app_meta=app_meta,
        current_page=None,
        total_pages=None,
        via="json_ld",
    )
