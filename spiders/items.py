"""The crawl stage's output contract: what every spider yields.

Spiders yield plain dicts (Scrapy exports them as flat JSON lines); :class:`ReviewItem` and
:class:`AppMetaItem` document the keys and :func:`review_item` / :func:`app_meta_item` build them so
that no spider forgets one. :mod:`spiders.pipelines` validates them.
"""

from __future__ import annotations

from typing import Any

import attrs

REVIEW_KEYS: tuple[str, ...] = (
    "kind",
    "source",
    "product",
    "target",
    "review_id",
    "rating",
    "title",
    "text",
    "published_at",
    "version",
    "country",
    "language",
    "url",
    "reply_text",
    "reply_at",
    "helpful_count",
    "fetched_at",
)


@attrs.define(kw_only=True)
class ReviewItem:
    """One review as a source shows it, normalised to the project's fields."""

    source: str
    """Spider name, e.g. ``apple_app_store``."""
    product: str
    """Product key from reviewgap.toml (or the app id/domain when run standalone)."""
    target: str
    """Crawl unit ``<source>:<product>:<variant>``, e.g. ``apple_app_store:acme:us``."""
    review_id: str
    """The source's own id, stable across crawls."""
    text: str
    """Plain review text (markup removed, entities replaced, whitespace folded)."""
    url: str
    """Where a reader can see the review; always the real host, never a test server."""
    fetched_at: str
    """ISO 8601 UTC time of download."""
    rating: int | None = None
    """Stars 1-5, rescaled from the source's scale."""
    title: str | None = None
    """Review title, where the source has one."""
    published_at: str | None = None
    """ISO 8601 UTC (``YYYY-MM-DDTHH:MM:SSZ``)."""
    version: str | None = None
    """App version the review was written on."""
    country: str | None = None
    """Storefront / reviewer country, ISO 3166 alpha-2, lower case."""
    language: str | None = None
    """Language as the source states it (ISO 639-1), or None."""
    reply_text: str | None = None
    """Developer or company reply."""
    reply_at: str | None = None
    """ISO 8601 UTC time of the reply."""
    helpful_count: int | None = None
    """Helpful / thumbs-up votes."""
    kind: str = "review"
    """Item kind: always ``review`` here."""


@attrs.define(kw_only=True)
class AppMetaItem:
    """A store's own aggregate for one target (rating average and counts)."""

    source: str
    product: str
    target: str
    url: str
    fetched_at: str
    name: str | None = None
    average_rating: float | None = None
    rating_count: int | None = None
    review_count: int | None = None
    histogram: dict[str, int] | None = None
    """Stars ("1".."5") to number of ratings, where the source gives one."""
    kind: str = "app_meta"


def review_item(**fields: Any) -> dict[str, Any]:
    """Build a review dict with every key of :class:`ReviewItem` (missing optional keys -> None).

    >>> sorted(review_item(source="s", product="p", target="s:p:x", review_id="1", text="t",
    ...     url="u", fetched_at="2026-01-01T00:00:00Z"))[:3]
    ['country', 'fetched_at', 'helpful_count']
    """
    return attrs.asdict(ReviewItem(**fields))


def app_meta_item(**fields: Any) -> dict[str, Any]:
    """Build an ``app_meta`` dict with every key of :class:`AppMetaItem`."""
    return attrs.asdict(AppMetaItem(**fields))
