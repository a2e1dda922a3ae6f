"""A Scrapy item pipeline that writes crawled items into the review store as they arrive.

``analysis.crawl`` injects it through ``ITEM_PIPELINES`` (``spiders/`` never imports
``analysis/``). Settings it reads: ``REVIEWGAP_STORE_PATH`` (the SQLite file) and
``REVIEWGAP_RUN_ID``.

Items are committed in small batches (``REVIEWGAP_STORE_BATCH``, default 50) and at the end, so a
crawl killed mid-way loses at most one batch, which the next crawl fetches again: the store's
upsert keyed by ``(source, review_id)`` makes that harmless. When the spider finishes cleanly, each
target it crawled is marked complete (``target_state``), which is what lets the next crawl stop
early at reviews it already has; a failed or killed crawl marks nothing, so the next one pages
past what this one stored and finishes the job.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from analysis.store import ReviewStore, UpsertCounts

logger = logging.getLogger(__name__)

_TARGET_PAGES = re.compile(r"^reviewgap/(.+)/pages$")


class StorePipeline:
    """Upserts review items and records ``app_meta`` items (see module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.store = ReviewStore(settings.get("REVIEWGAP_STORE_PATH"))
        self.run_id = settings.get("REVIEWGAP_RUN_ID")
        self.batch_size = settings.getint("REVIEWGAP_STORE_BATCH", 50)
        self.buffer: list[dict[str, Any]] = []
        self.per_target: dict[str, Counter[str]] = {}
        self.total = UpsertCounts()
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("kind") == "app_meta":
            self.store.add_app_meta(item, run_id=self.run_id)
            return item
        self.buffer.append(dict(item))
        if len(self.buffer) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        """Commit buffered reviews; count new/updated/unchanged per target."""
        if not self.buffer:
            return
        outcomes = self.store.upsert_each(self.buffer, run_id=self.run_id)
        for item, counts in zip(self.buffer, outcomes, strict=True):
            tally = self.per_target.setdefault(item["target"], Counter())
            for key, value in counts.as_dict().items():
                tally[key] += value
            self.total.add(counts)
        self.buffer.clear()
        logger.info(
            "%s: stored %d reviews so far (%d new, %d updated, %d unchanged)",
            self.crawler.spider.name if self.crawler.spider else "crawl",
            self.total.new + self.total.updated + self.total.unchanged,
            self.total.new, self.total.updated, self.total.unchanged,
        )

    def spider_closed(self, spider: Any, reason: str) -> None:
        self.flush()
        stats = self.crawler.stats
        assert stats is not None
        for target, tally in self.per_target.items():
            for key, value in tally.items():
                stats.set_value(f"reviewgap/{target}/{key}", value)
        failed = bool(stats.get_value("reviewgap/failed")) or reason != "finished"
        if failed:
            logger.warning("%s: crawl did not finish cleanly (%s): no target marked complete",
                           spider.name, reason)
        else:
            for key in list(stats.get_stats()):
                match = _TARGET_PAGES.match(key)
                if not match:
                    continue
                target = match.group(1)
                if any(k.startswith(f"reviewgap/{target}/errors/") for k in stats.get_stats()):
                    continue
                seen = int(stats.get_value(f"reviewgap/{target}/reviews", 0))
                self.store.complete_target(target, run_id=self.run_id, reviews_seen=seen)
        self.store.close()
