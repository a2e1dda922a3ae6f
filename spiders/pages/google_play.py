"""Crawl stage, Google Play: pure parsers for the reviews RPC and the app details page.

In: the bytes of a ``batchexecute`` answer for rpc ``UsvDTd`` (reviews), or the HTML of
``/store/apps/details``. Out: :class:`ReviewsPage` (the review fields of one page plus the
continuation token) and :class:`AppDetails` (store name, average, counts, histogram). No network,
no Scrapy: the spider in :mod:`spiders.sources.google_play` adds target, product and download time.

Wire format (see ``research/scrapers.md`` §2): the body is ``)]}'`` + blank line, then one JSON
array of rows (older answers interleave byte-length lines between several arrays). The row
``["wrb.fr", "UsvDTd", "<payload JSON string>", ...]`` carries the payload; ``payload[0]`` is the
list of reviews and ``payload[1][1]`` the next-page token. When Google fails inside an HTTP 200,
``row[2]`` is null and ``row[5]`` names a ``PlayDataError``: that is :class:`RpcErrorEnvelope`, a
transient error the spider retries with the same token, never the end of the data.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import attrs
import parsel

from spiders.pages import PageFormatError, load_json, to_utc_iso

REVIEWS_RPC = "UsvDTd"
SORT_NEWEST = 2
PAGE_SIZE = 150
"""Reviews per request: the most the endpoint honours (it cuts larger asks to ~150)."""
PLAY_HOST = "https://play.google.com"
"""Item URLs always point here, whatever base URL the crawl used."""

# Per-review array indices (identical in rpcs UsvDTd and oCPfdb).
I_ID, I_RATING, I_TEXT, I_TIME, I_HELPFUL, I_REPLY, I_VERSION = 0, 2, 4, 5, 6, 7, 10

# Where the details page's ds: block keeps the app's figures. A table, not code, because Google
# moves these whenever it redeploys (paths verified on the 2026 fixture).
DETAILS_PATHS: dict[str, tuple[int, ...]] = {
    "name": (1, 2, 0, 0),
    "average_rating": (1, 2, 51, 0, 1),
    "histogram": (1, 2, 51, 1),
    "rating_count": (1, 2, 51, 2, 1),
    "review_count": (1, 2, 51, 3, 1),
}
DETAILS_BLOCK = "ds:5"
"""The block those paths were verified in; other blocks are tried when it lacks them."""

_WS = re.compile(r"\s+")
_AF_KEY = re.compile(r"AF_initDataCallback\(\s*\{\s*key:\s*'(ds:\d+)'")
_AF_DATA = re.compile(r"\bdata:")


class RpcErrorEnvelope(PageFormatError):
    """An error inside an HTTP 200 (``row[2]`` null, ``row[5]`` naming e.g. ``PlayDataError``).

    Transient on Google's side: retry the same request (same token) after a backoff.
    """


@attrs.frozen
class ReviewsPage:
    """One parsed page of the reviews RPC."""

    reviews: list[dict[str, Any]]
    """Review fields (``review_id``, ``rating``, ``text``, ... ``url``) in page order."""
    next_token: str | None
    """Continuation token; None on the last page."""


@attrs.frozen
class AppDetails:
    """Store aggregates read from a details page, plus what could not be read."""

    name: str | None = None
    average_rating: float | None = None
    rating_count: int | None = None
    review_count: int | None = None
    histogram: dict[str, int] | None = None
    warnings: tuple[str, ...] = ()
    """Blocks or fields that were missing (the spider logs and counts each)."""


# -- requests ----------------------------------------------------------------------------------


def reviews_freq(package: str, token: str | None, count: int = PAGE_SIZE,
                 sort: int = SORT_NEWEST) -> str:
    """The ``f.req`` form value asking rpc ``UsvDTd`` for one page of reviews.

    Args:
        package: App id, e.g. ``com.google.android.apps.translate``.
        token: Continuation token from the previous page, None for the first page.
        count: Page size; a token only continues a query with the same count and sort.
        sort: 1 most relevant, 2 newest, 3 rating.

    Returns:
        The JSON text to send as form field ``f.req``.
    """
    inner = [None, None, [2, sort, [count, None, token], None, []], [package, 7]]
    outer = [[[REVIEWS_RPC, _compact(inner), None, "generic"]]]
    return _compact(outer)


def review_url(package: str, review_id: str) -> str:
    """Permalink of a review on the real Play host."""
    return f"{PLAY_HOST}/store/apps/details?id={quote(package)}&reviewId={quote(review_id)}"


def details_url(package: str, lang: str, country: str) -> str:
    """The app's details page on the real Play host (used as the ``app_meta`` item URL)."""
    return f"{PLAY_HOST}/store/apps/details?id={quote(package)}&hl={lang}&gl={country}"


# -- reviews -----------------------------------------------------------------------------------


def parse_reviews(url: str, body: bytes | str, package: str) -> ReviewsPage:
    """Parse a ``batchexecute`` answer of rpc ``UsvDTd`` into review fields and the next token.

    Args:
        url: The request URL (named in errors).
        body: The raw response body.
        package: App id, used to build each review's permalink.

    Returns:
        The page; an empty payload (``"[]"``, unknown app or no reviews) is a page with no
        reviews and no token.

    Raises:
        RpcErrorEnvelope: Google reported an error inside the 200 (retry the same request).
        PageFormatError: The body is truncated or no longer has the expected shape.
    """
    rows = envelope_rows(url, body)
    row = _rpc_row(url, rows, REVIEWS_RPC)
    if row[2] is None:
        raise RpcErrorEnvelope(url, f"rpc {REVIEWS_RPC} returned an error: {_error_names(row)}")
    if not isinstance(row[2], str):
        raise PageFormatError(url, f"rpc {REVIEWS_RPC} payload is {type(row[2]).__name__}, not str")
    payload = load_json(url, row[2])
    if payload is None or payload == []:
        return ReviewsPage([], None)
    if not isinstance(payload, list):
        raise PageFormatError(url, f"payload is {type(payload).__name__}, not a list")
    raw_reviews = payload[0]
    if raw_reviews is None:
        raw_reviews = []
    if not isinstance(raw_reviews, list):
        raise PageFormatError(url, f"payload[0] is {type(raw_reviews).__name__}, not a list")
    reviews = [_review_fields(url, package, i, r) for i, r in enumerate(raw_reviews)]
    return ReviewsPage(reviews, _next_token(url, payload))


def envelope_rows(url: str, body: bytes | str) -> list[Any]:
    """All rows of a ``batchexecute`` envelope, from either framing Google uses.

    The ``)]}'`` guard is skipped; then the body is one JSON array or several, each preceded by
    a line giving its byte length (older answers). The lengths are ignored: JSON delimits itself.
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise PageFormatError(url, f"body is not UTF-8 ({exc})") from exc
    start = text.find("[")
    if start < 0:
        raise PageFormatError(url, "no JSON array in the batchexecute body (truncated?)")
    decoder = json.JSONDecoder()
    rows: list[Any] = []
    pos, end = start, len(text)
    while pos < end:
        ch = text[pos]
        if ch.isspace():
            pos += 1
        elif ch.isdigit():  # a chunk-length line of the length-prefixed framing
            while pos < end and text[pos].isdigit():
                pos += 1
        elif ch == "[":
            try:
                chunk, pos = decoder.raw_decode(text, pos)
            except ValueError as exc:
                raise PageFormatError(url, f"batchexecute body is not valid JSON ({exc})") from exc
            rows.extend(chunk)
        else:
            raise PageFormatError(url, f"unexpected {ch!r} at offset {pos} of the envelope")
    return rows


def _rpc_row(url: str, rows: list[Any], rpc: str) -> list[Any]:
    for row in rows:
        if isinstance(row, list) and len(row) >= 3 and row[0] == "wrb.fr" and row[1] == rpc:
            return row
    raise PageFormatError(url, f"no [\"wrb.fr\", \"{rpc}\", ...] row in the envelope")


def _error_names(row: list[Any]) -> str:
    """The error type names Google put into an error row (for the log), or the raw detail."""
    detail = row[5] if len(row) > 5 else None
    names = [s.rsplit(".", 1)[-1] for s in _strings(detail) if "Error" in s]
    return ", ".join(names) or f"detail {json.dumps(detail)[:200]}"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _next_token(url: str, payload: list[Any]) -> str | None:
    paging = payload[1] if len(payload) > 1 else None
    if paging is None:
        return None
    if not isinstance(paging, list):
        raise PageFormatError(url, f"payload[1] (paging) is {type(paging).__name__}, not a list")
    token = paging[1] if len(paging) > 1 else None
    if token is not None and not isinstance(token, str):
        raise PageFormatError(url, f"payload[1][1] (token) is {type(token).__name__}, not str")
    return token or None


def _at(review: list[Any], index: int) -> Any:
    # Google's array encoding drops trailing nulls, so a short array means "absent", not broken.
    return review[index] if index < len(review) else None


def _review_fields(url: str, package: str, i: int, review: Any) -> dict[str, Any]:
    where = f"payload[0][{i}]"
    if not isinstance(review, list):
        raise PageFormatError(url, f"{where} is {type(review).__name__}, not a list")
    review_id = _at(review, I_ID)
    if not isinstance(review_id, str) or not review_id:
        raise PageFormatError(url, f"{where}[{I_ID}] (review id) is {review_id!r}")
    rating = _at(review, I_RATING)
    if type(rating) is not int or not 1 <= rating <= 5:
        raise PageFormatError(url, f"{where}[{I_RATING}] (rating) is {rating!r}, not 1-5")
    text = _at(review, I_TEXT)
    if text is not None and not isinstance(text, str):
        raise PageFormatError(url, f"{where}[{I_TEXT}] (text) is {type(text).__name__}")
    helpful = _at(review, I_HELPFUL)
    if helpful is not None and (type(helpful) is not int or helpful < 0):
        raise PageFormatError(url, f"{where}[{I_HELPFUL}] (thumbs-up) is {helpful!r}")
    version = _at(review, I_VERSION)
    if version is not None and not isinstance(version, str):
        raise PageFormatError(url, f"{where}[{I_VERSION}] (version) is {version!r}")
    reply_text, reply_at = _reply(url, f"{where}[{I_REPLY}]", _at(review, I_REPLY))
    return {
        "review_id": review_id,
        "rating": rating,
        "title": None,  # Play reviews have no title
        "text": plain_text(text),
        "published_at": _timestamp(url, f"{where}[{I_TIME}]", _at(review, I_TIME)),
        "version": version or None,
        "helpful_count": helpful,
        "reply_text": plain_text(reply_text) or None,
        "reply_at": reply_at,
        "url": review_url(package, review_id),
    }


def _reply(url: str, where: str, reply: Any) -> tuple[str | None, str | None]:
    """``[developer name, text, [seconds, nanos]]`` -> (text, ISO time)."""
    if reply is None:
        return None, None
    if not isinstance(reply, list) or len(reply) < 2:
        raise PageFormatError(url, f"{where} (developer reply) is {reply!r:.80}")
    text = reply[1]
    if text is not None and not isinstance(text, str):
        raise PageFormatError(url, f"{where}[1] (reply text) is {type(text).__name__}")
    return text, _timestamp(url, f"{where}[2]", reply[2] if len(reply) > 2 else None)


def _timestamp(url: str, where: str, value: Any) -> str | None:
    """``[seconds, nanos]`` (UTC epoch) -> ``YYYY-MM-DDTHH:MM:SSZ``."""
    if value is None:
        return None
    seconds = value[0] if isinstance(value, list) and value else None
    if type(seconds) is not int or not 0 <= seconds < 253402300800:  # year 1970..9999
        raise PageFormatError(url, f"{where} (timestamp) is {value!r:.80}, not [seconds, nanos]")
    return to_utc_iso(seconds)


def plain_text(value: str | None) -> str:
    """Whitespace folded. Play sends plain text, so no tag stripping: it would eat "I <3 it"."""
    return _WS.sub(" ", value).strip() if value else ""


# -- details page ------------------------------------------------------------------------------


def parse_details(url: str, html: bytes | str) -> AppDetails:
    """Read the store's aggregates from an app details page.

    JSON-LD ``SoftwareApplication`` comes first (name, average, rating count: the most stable
    markup); the ``AF_initDataCallback`` block (``ds:5`` today) fills in what JSON-LD lacks:
    written-review count and the star histogram. A missing block is reported in ``warnings``.

    Args:
        url: The page URL (named in errors and warnings).
        html: The page body.

    Returns:
        The aggregates found and the warnings.

    Raises:
        PageFormatError: The page has neither JSON-LD nor any data block (not a details page:
            a consent page, an error page, or a new layout).
    """
    try:
        text = html.decode("utf-8") if isinstance(html, bytes) else html
    except UnicodeDecodeError as exc:
        raise PageFormatError(url, f"page is not UTF-8 ({exc})") from exc
    sel = parsel.Selector(text=text)
    warnings: list[str] = []
    ld = _software_application(sel)
    blocks = _data_blocks(sel)
    if ld is None and not blocks:
        raise PageFormatError(url, "no JSON-LD SoftwareApplication and no AF_initDataCallback data")
    found: dict[str, Any] = {}
    if ld is None:
        warnings.append("no JSON-LD SoftwareApplication")
    else:
        found.update(_from_json_ld(ld))
    ds = _from_blocks(blocks)
    if ds is None:
        warnings.append(f"no AF_initDataCallback block with app ratings at {DETAILS_BLOCK} paths")
        ds = {}
    for key, value in ds.items():
        found.setdefault(key, value)  # JSON-LD wins where both have a value
    for key in ("name", "average_rating", "rating_count", "review_count", "histogram"):
        if found.get(key) is None:
            warnings.append(f"no {key}")
    return AppDetails(**{k: v for k, v in found.items() if v is not None},
                      warnings=tuple(warnings))


def _software_application(sel: parsel.Selector) -> dict[str, Any] | None:
    for raw in sel.xpath('//script[@type="application/ld+json"]/text()').getall():
        try:
            data = json.loads(raw)
        except ValueError:
            continue  # another script's broken JSON-LD must not hide the app's
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict) and node.get("@type") == "SoftwareApplication":
                return node
    return None


def _from_json_ld(node: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": node.get("name") if isinstance(node.get("name"), str) else None}
    agg = node.get("aggregateRating")
    if isinstance(agg, dict):
        out["average_rating"] = _number(agg.get("ratingValue"), float)
        out["rating_count"] = _number(agg.get("ratingCount"), int)
    return out


def _data_blocks(sel: parsel.Selector) -> dict[str, Any]:
    """``{"ds:5": data, ...}`` from the page's ``AF_initDataCallback({key:..., data:...})``."""
    decoder = json.JSONDecoder()
    blocks: dict[str, Any] = {}
    for script in sel.xpath('//script[contains(., "AF_initDataCallback")]/text()').getall():
        key = _AF_KEY.search(script)
        data = _AF_DATA.search(script, key.end()) if key else None
        if key is None or data is None:
            continue
        try:
            # The call's argument is a JS object, not JSON, but its data: value is JSON.
            blocks[key.group(1)], _ = decoder.raw_decode(script, data.end())
        except ValueError:
            continue
    return blocks


def _from_blocks(blocks: dict[str, Any]) -> dict[str, Any] | None:
    """The figures at :data:`DETAILS_PATHS`, from ``ds:5`` or else the first block that has them."""
    order = [DETAILS_BLOCK] + [k for k in blocks if k != DETAILS_BLOCK]
    for key in order:
        if key not in blocks:
            continue
        data = blocks[key]
        average = _number(_dig(data, DETAILS_PATHS["average_rating"]), float)
        histogram = _histogram(_dig(data, DETAILS_PATHS["histogram"]))
        if average is None and histogram is None:
            continue  # not the app block (or the paths moved)
        name = _dig(data, DETAILS_PATHS["name"])
        return {
            "name": name if isinstance(name, str) else None,
            "average_rating": average,
            "rating_count": _number(_dig(data, DETAILS_PATHS["rating_count"]), int),
            "review_count": _number(_dig(data, DETAILS_PATHS["review_count"]), int),
            "histogram": histogram,
        }
    return None


def _dig(data: Any, path: Sequence[int]) -> Any:
    for index in path:
        if not isinstance(data, list) or index >= len(data):
            return None
        data = data[index]
    return data


def _histogram(value: Any) -> dict[str, int] | None:
    """``[null, [label, n1], ..., [label, n5]]`` -> ``{"1": n1, ..., "5": n5}``."""
    if not isinstance(value, list) or len(value) != 6:
        return None
    out: dict[str, int] = {}
    for stars in range(1, 6):
        bucket = value[stars]
        n = _number(bucket[1], int) if isinstance(bucket, list) and len(bucket) > 1 else None
        if n is None:
            return None
        out[str(stars)] = n
    return out


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    """A JSON number or numeric string as ``kind``, None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0:  # not a count or an average
        return None
    return int(number) if kind is int else number


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
