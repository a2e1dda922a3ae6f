"""Crawl stage, Apple App Store: pure parsers for the three Apple endpoints the spider uses.

Bytes in, plain dicts out; no network, no Scrapy. The spider
(:mod:`spiders.sources.apple_app_store`) adds the crawl context (source, product, target,
country, url, fetched_at) and builds the items.

* :func:`parse_rss_page`: one page of the customer-reviews RSS feed (JSON variant),
  ``/{cc}/rss/customerreviews/page={n}/id={app_id}/sortby=mostrecent/json``.
* :func:`parse_lookup`: the iTunes Lookup API answer, ``/lookup?id={app_id}&country={cc}``.
* :func:`parse_web_page`: one page of the token-less apps.apple.com web reviews API,
  ``/api/apps/v1/catalog/{cc}/apps/{app_id}/reviews?platform=web&...``.

Every parser raises :class:`~spiders.pages.PageFormatError` (naming the URL and the field) when a
body no longer has the documented structure, and :class:`TruncatedBodyError` (a subclass) when
the body looks cut off mid-document, which is usually transient and worth one more request.
Shapes are documented in ``research/scrapers.md`` section 1; reviewer names are never read.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from spiders.pages import PageFormatError, clean_text, to_stars, to_utc_iso

RSS_PAGE_SIZE = 50
"""Entries per full RSS page; a shorter page is the last one."""
RSS_MAX_PAGE = 10
"""Apple serves pages 1..10 only: at most 500 reviews per storefront and sort order."""
WEB_PAGE_SIZE = 20
"""``limit`` of the web reviews API (larger values return nothing)."""


class TruncatedBodyError(PageFormatError):
    """The body ends in the middle of a JSON document (a cut-off download)."""


def app_page_url(country: str, app_id: str, *, reviews: bool = False) -> str:
    """The public apps.apple.com page of an app (the ``url`` items carry; always the real host).

    >>> app_page_url("us", "123", reviews=True)
    'https://apps.apple.com/us/app/id123?see-all=reviews'
    """
    url = f"https://apps.apple.com/{country}/app/id{app_id}"
    return url + "?see-all=reviews" if reviews else url


@attrs.frozen
class RssPage:
    """One parsed RSS page."""

    reviews: list[dict[str, Any]]
    """Review fields (review_id, rating, title, text, published_at, version, helpful_count)."""
    app_entries: int = 0
    """Leading app-metadata entries (old feeds) that were skipped."""

    @property
    def is_full(self) -> bool:
        """Whether the page holds a full 50 reviews, i.e. a next page may exist."""
        return len(self.reviews) >= RSS_PAGE_SIZE


@attrs.frozen
class LookupResult:
    """The store's own aggregate for one app in one storefront."""

    name: str | None
    average_rating: float | None
    rating_count: int
    """``userRatingCount``; Apple omits it for an app nobody rated, which means 0."""


@attrs.frozen
class WebPage:
    """One parsed page of the web reviews API."""

    reviews: list[dict[str, Any]]
    next_path: str | None
    """The response's relative ``next`` (path and query), or None on the last page."""


# -- shared --------------------------------------------------------------------------------


def load_document(url: str, body: bytes | str) -> Any:
    """Parse a JSON body; a cut-off body raises :class:`TruncatedBodyError`, other junk
    :class:`PageFormatError`.

    >>> try:
    ...     load_document("u", b'{"a": [1')
    ... except TruncatedBodyError as exc:
    ...     print(exc.problem)
    body ends mid-document after 8 bytes (truncated download?)
    """
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        # A multi-byte character cut in half at the very end is truncation, elsewhere junk.
        if isinstance(body, bytes) and exc.start >= len(body) - 3 and exc.reason.startswith(
            "unexpected end"
        ):
            raise TruncatedBodyError(url, _truncated_msg(body)) from exc
        raise PageFormatError(url, f"body is not UTF-8 ({exc})") from exc
    stripped = text.rstrip()
    if not stripped:
        raise TruncatedBodyError(url, "body is empty (truncated download?)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # The decoder fails at the end of input when the document was cut off; an
        # unterminated string reports where the string *started*, but is also a cut-off.
        if exc.pos >= len(stripped) or exc.msg.startswith("Unterminated string"):
            raise TruncatedBodyError(url, _truncated_msg(body)) from exc
        raise PageFormatError(url, f"body is not valid JSON ({exc})") from exc
    except (ValueError, RecursionError) as exc:
        raise PageFormatError(url, f"body is not valid JSON ({exc})") from exc


def _truncated_msg(body: bytes | str) -> str:
    return f"body ends mid-document after {len(body)} bytes (truncated download?)"


def _obj(url: str, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PageFormatError(url, f"{where} is {type(value).__name__}, expected an object")
    return value


def _label(url: str, entry: dict[str, Any], key: str, where: str) -> str | None:
    """The ``{"label": "..."}`` value every RSS field is wrapped in; None when absent."""
    if key not in entry or entry[key] is None:
        return None
    node = _obj(url, entry[key], f"{where}.{key}")
    label = node.get("label")
    if label is None:
        return None
    if not isinstance(label, str | int | float) or isinstance(label, bool):
        raise PageFormatError(url, f"{where}.{key}.label is {type(label).__name__}, expected text")
    return str(label)


def _date(url: str, value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise PageFormatError(url, f"{where} is {type(value).__name__}, expected an ISO date")
    try:
        return to_utc_iso(value)
    except (ValueError, OverflowError) as exc:
        raise PageFormatError(url, f"{where} {value!r} is not an ISO date") from exc


def _stars(url: str, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PageFormatError(url, f"{where} is {type(value).__name__}, expected 1-5")
    try:
        stars = to_stars(value)
    except (ValueError, OverflowError) as exc:
        raise PageFormatError(url, f"{where} {value!r} is not a rating 1-5") from exc
    if stars is None:
        raise PageFormatError(url, f"{where} is empty")
    return stars


def _text_or_none(value: str | None) -> str | None:
    cleaned = clean_text(value)
    return cleaned or None


# -- RSS feed ------------------------------------------------------------------------------


def parse_rss_page(url: str, body: bytes | str) -> RssPage:
    """Parse one page of the customer-reviews RSS JSON feed.

    ``feed.entry`` may be a list, a single object (exactly one review) or absent (no reviews,
    or Apple throttling: the caller decides which). Old feeds put an app-metadata entry
    (``im:name``, no ``im:rating``) first; it is skipped and counted in ``app_entries``.

    Args:
        url: The page's URL, for error messages.
        body: The response body.

    Returns:
        The page's reviews, newest first as Apple sends them.

    Raises:
        PageFormatError: ``feed`` is missing, an entry lacks its id or has a field of the
            wrong type, or the body is not JSON (:class:`TruncatedBodyError` if cut off).
    """
    doc = load_document(url, body)
    root = _obj(url, doc, "document")
    if "feed" not in root:
        raise PageFormatError(url, "no 'feed' object (not an RSS customer-reviews feed)")
    feed = _obj(url, root["feed"], "feed")
    entries = feed.get("entry")
    if entries is None:
        return RssPage(reviews=[])
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise PageFormatError(url, f"feed.entry is {type(entries).__name__}, expected a list")
    reviews: list[dict[str, Any]] = []
    app_entries = 0
    for i, raw in enumerate(entries):
        where = f"feed.entry[{i}]"
        entry = _obj(url, raw, where)
        if "im:rating" not in entry:
            if "im:name" in entry:
                app_entries += 1  # the app's own metadata entry of pre-2019 feeds
                continue
            raise PageFormatError(url, f"{where} has no im:rating and is not the app entry")
        reviews.append(_rss_review(url, entry, where))
    return RssPage(reviews=reviews, app_entries=app_entries)


def _rss_review(url: str, entry: dict[str, Any], where: str) -> dict[str, Any]:
    review_id = _label(url, entry, "id", where)
    if not review_id:
        raise PageFormatError(url, f"{where} has no id")
    rating = _stars(url, _label(url, entry, "im:rating", where), f"{where}.im:rating")
    votes = _label(url, entry, "im:voteSum", where)
    try:
        helpful = int(votes) if votes not in (None, "") else None
    except ValueError as exc:
        raise PageFormatError(url, f"{where}.im:voteSum {votes!r} is not a number") from exc
    return {
        "review_id": review_id,
        "rating": rating,
        "title": _text_or_none(_label(url, entry, "title", where)),
        "text": clean_text(_rss_content(url, entry, where)),
        # Old JSON feeds (<= 2018) carried no date: None, never a guess.
        "published_at": _date(url, _label(url, entry, "updated", where), f"{where}.updated"),
        "version": _label(url, entry, "im:version", where) or None,
        "helpful_count": helpful,
    }


def _rss_content(url: str, entry: dict[str, Any], where: str) -> str | None:
    content = entry.get("content")
    if isinstance(content, list):
        # Some feed variants carry the body twice (text and html); prefer the text one.
        parts = [_obj(url, c, f"{where}.content[]") for c in content]
        parts.sort(key=lambda c: not (isinstance(c.get("attributes"), dict)
                                      and c["attributes"].get("type") == "text"))
        content = parts[0] if parts else None
    if content is None:
        return None
    return _label(url, {"content": content}, "content", where)


# -- Lookup API ----------------------------------------------------------------------------


def parse_lookup(url: str, body: bytes | str, app_id: str) -> LookupResult | None:
    """Parse an iTunes Lookup answer and pick the result for ``app_id``.

    Args:
        url: The request URL, for error messages.
        body: The response body.
        app_id: The numeric App Store id that was looked up.

    Returns:
        The app's store aggregate, or None when Apple knows no such app in that storefront
        (``resultCount`` 0, or no result with that ``trackId``).

    Raises:
        PageFormatError: not JSON, or ``results`` / a rating field has the wrong type.
    """
    root = _obj(url, load_document(url, body), "document")
    results = root.get("results")
    if not isinstance(results, list):
        raise PageFormatError(url, "no 'results' list (not an iTunes lookup answer)")
    match = None
    for i, raw in enumerate(results):
        result = _obj(url, raw, f"results[{i}]")
        if str(result.get("trackId")) == str(app_id):
            match = result
            break
    if match is None:
        return None
    name = match.get("trackName")
    average = match.get("averageUserRating")
    count = match.get("userRatingCount", 0)  # omitted when nobody has rated the app
    if name is not None and not isinstance(name, str):
        raise PageFormatError(url, f"trackName is {type(name).__name__}, expected text")
    if average is not None and (isinstance(average, bool) or not isinstance(average, int | float)):
        raise PageFormatError(url, f"averageUserRating {average!r} is not a number")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise PageFormatError(url, f"userRatingCount {count!r} is not a count")
    return LookupResult(
        name=name,
        average_rating=float(average) if average is not None else None,
        rating_count=count,
    )


# -- web reviews API -----------------------------------------------------------------------


def parse_web_page(url: str, body: bytes | str) -> WebPage:
    """Parse one page of ``apps.apple.com/api/apps/v1/catalog/{cc}/apps/{id}/reviews``.

    Fields per review: ``id``, ``attributes.{date, rating, title, review}`` and an optional
    ``attributes.developerResponse.{body, modified}`` (-> ``reply_text`` / ``reply_at``). This
    API has no app version and no helpful votes.

    Raises:
        PageFormatError: ``data`` missing (an ``errors`` answer is quoted), a review without id
            or attributes, a field of the wrong type, or a body that is not JSON.
    """
    root = _obj(url, load_document(url, body), "document")
    if "data" not in root:
        errors = root.get("errors")
        detail = f": errors={json.dumps(errors)[:200]}" if errors else ""
        raise PageFormatError(url, f"no 'data' list (not a reviews answer){detail}")
    data = root["data"]
    if not isinstance(data, list):
        raise PageFormatError(url, f"data is {type(data).__name__}, expected a list")
    nxt = root.get("next")
    if nxt is not None and not isinstance(nxt, str):
        raise PageFormatError(url, f"next is {type(nxt).__name__}, expected a path")
    reviews = [_web_review(url, _obj(url, raw, f"data[{i}]"), f"data[{i}]")
               for i, raw in enumerate(data)]
    return WebPage(reviews=reviews, next_path=nxt or None)


def _web_review(url: str, node: dict[str, Any], where: str) -> dict[str, Any]:
    review_id = node.get("id")
    if isinstance(review_id, bool) or not isinstance(review_id, str | int) or review_id == "":
        raise PageFormatError(url, f"{where} has no id")
    attrs_ = _obj(url, node.get("attributes"), f"{where}.attributes")
    texts: dict[str, str | None] = {}
    for key in ("title", "review"):
        value = attrs_.get(key)
        if value is not None and not isinstance(value, str):
            raise PageFormatError(url, f"{where}.attributes.{key} is {type(value).__name__}")
        texts[key] = value
    reply_text = reply_at = None
    if attrs_.get("developerResponse") is not None:
        reply = _obj(url, attrs_["developerResponse"], f"{where}.attributes.developerResponse")
        body = reply.get("body")
        if body is not None and not isinstance(body, str):
            raise PageFormatError(url, f"{where}.attributes.developerResponse.body is not text")
        reply_text = _text_or_none(body)
        reply_at = _date(url, reply.get("modified"),
                         f"{where}.attributes.developerResponse.modified")
    return {
        "review_id": str(review_id),
        "rating": _stars(url, attrs_.get("rating"), f"{where}.attributes.rating"),
        "title": _text_or_none(texts["title"]),
        "text": clean_text(texts["review"]),
        "published_at": _date(url, attrs_.get("date"), f"{where}.attributes.date"),
        "version": None,
        "helpful_count": None,
        "reply_text": reply_text,
        "reply_at": reply_at,
    }
