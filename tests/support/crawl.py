"""Run a real Scrapy crawl inside a test (pytest-twisted, asyncio reactor) and collect items.

Modelled on Scrapy's own ``tests/utils/crawl.py``: ``crawl_items`` returns the items and the
crawler (for stats). Use it from a test decorated with
``@scrapy.utils.defer.deferred_f_from_coro_f``.
"""

from __future__ import annotations

from typing import Any

from scrapy import signals
from scrapy.utils.test import get_crawler

from spiders import settings as project_settings

TEST_SETTINGS: dict[str, Any] = {
    # No waiting in tests; retries still happen, backoff is tiny.
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "REVIEWGAP_BACKOFF_BASE": 0.01,
    "REVIEWGAP_BACKOFF_MAX": 0.05,
    "REVIEWGAP_FIXED_NOW": "2026-11-01T00:00:00Z",
    "LOG_LEVEL": "WARNING",
}


def project_settings_dict() -> dict[str, Any]:
    """The project's settings module as a dict (get_crawler does not read scrapy.cfg)."""
    return {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}


async def crawl_items(
    spider_cls: type, settings: dict[str, Any] | None = None, **spider_args: Any
) -> tuple[list[dict[str, Any]], Any]:
    """Crawl with project settings + ``TEST_SETTINGS`` + ``settings``; return (items, crawler)."""
    items: list[dict[str, Any]] = []

    def collect(item: dict[str, Any]) -> None:  # named: signal receivers are weak references
        items.append(item)

    crawler = get_crawler(
        spider_cls, {**project_settings_dict(), **TEST_SETTINGS, **(settings or {})}
    )
    crawler.signals.connect(collect, signals.item_scraped)
    await crawler.crawl_async(**spider_args)
    return items, crawler
