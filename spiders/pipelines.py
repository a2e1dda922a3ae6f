"""Item pipelines of the crawl stage: validate items, drop in-crawl duplicates, count both.

Dropped items raise :class:`scrapy.exceptions.DropItem` and increment
``reviewgap/dropped/<reason>`` so that nothing disappears silently.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from spiders.items import REVIEW_KEYS


class _CountingPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> _CountingPipeline:
        return cls(crawler)

    def drop(self, reason: str, message: str) -> DropItem:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"reviewgap/dropped/{reason}")
        return DropItem(message)


class ValidateItemPipeline(_CountingPipeline):
    """Checks a review item has every contract key and sane values (see docs/architecture.md)."""

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("kind") == "app_meta":
            return item
        missing = [k for k in REVIEW_KEYS if k not in item]
        if missing:
            raise self.drop("missing_keys", f"item from {item.get('url')} lacks {missing}")
        if not item["review_id"]:
            raise self.drop("no_id", f"item from {item['url']} has no review_id")
        rating = item["rating"]
        if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
            raise self.drop("bad_rating", f"review {item['review_id']}: rating {rating!r}")
        if not (item["text"] or item["title"]):
            raise self.drop("empty_text", f"review {item['review_id']} at {item['url']} is empty")
        return item


class DropDuplicatesPipeline(_CountingPipeline):
    """Drops a review seen earlier in the same crawl (pages shift while new reviews arrive)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.seen: set[tuple[str, str]] = set()

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("kind") == "app_meta":
            return item
        key = (item["source"], item["review_id"])
        if key in self.seen:
            raise self.drop("duplicate_in_crawl", f"review {key[1]} seen twice in this crawl")
        self.seen.add(key)
        return item
