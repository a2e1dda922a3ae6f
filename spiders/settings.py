"""Scrapy settings for reviewgap's spiders.

Politeness defaults follow the project's rules: obey robots.txt, identify with a User-Agent that
carries the operator's contact, AutoThrottle, one request at a time per domain, retries with
backoff on 429/5xx (see :mod:`spiders.middlewares`).

Every endpoint base URL is a setting so that tests, the demo and users (a mirror or a proxy) can
point the spiders elsewhere with ``-s KEY=VALUE``. The spider keeps the real path and query after
the base.

============================  ==========================  =====================================
setting                       default                     meaning
============================  ==========================  =====================================
REVIEWGAP_APPLE_RSS_BASE      https://itunes.apple.com    customer-reviews RSS JSON feed
REVIEWGAP_APPLE_LOOKUP_BASE   https://itunes.apple.com    iTunes lookup API
REVIEWGAP_APPLE_WEB_BASE      https://apps.apple.com      apps.apple.com web reviews API
REVIEWGAP_GOOGLE_PLAY_BASE    https://play.google.com     batchexecute RPC + details page
REVIEWGAP_TRUSTPILOT_BASE     https://www.trustpilot.com  Trustpilot review pages
REVIEWGAP_CONTACT             (empty)                     put into the User-Agent
REVIEWGAP_MAX_PAGES           0 (no limit)                pages per target at most
REVIEWGAP_EMPTY_FEED_RETRIES  3                           re-asks of an empty, rated Apple feed
REVIEWGAP_FORMAT_RETRIES      2                           re-asks of a truncated page
REVIEWGAP_BACKOFF_BASE        2.0                         seconds; doubled each retry
REVIEWGAP_BACKOFF_MAX         120.0                       seconds; the cap
REVIEWGAP_STORE_BATCH         50                          reviews per store commit
============================  ==========================  =====================================
"""

from __future__ import annotations

BOT_NAME = "reviewgap"

SPIDER_MODULES = ["spiders.sources"]
NEWSPIDER_MODULE = "spiders.sources"

REVIEWGAP_APPLE_RSS_BASE = "https://itunes.apple.com"
REVIEWGAP_APPLE_LOOKUP_BASE = "https://itunes.apple.com"
REVIEWGAP_APPLE_WEB_BASE = "https://apps.apple.com"
REVIEWGAP_GOOGLE_PLAY_BASE = "https://play.google.com"
REVIEWGAP_TRUSTPILOT_BASE = "https://www.trustpilot.com"
REVIEWGAP_CONTACT = ""
REVIEWGAP_MAX_PAGES = 0
REVIEWGAP_EMPTY_FEED_RETRIES = 3
REVIEWGAP_FORMAT_RETRIES = 2
REVIEWGAP_BACKOFF_BASE = 2.0
REVIEWGAP_BACKOFF_MAX = 120.0

# spiders.middlewares.ContactUserAgentMiddleware appends REVIEWGAP_CONTACT to this.
USER_AGENT = "reviewgap/0.1 (+https://github.com/reviewgap/reviewgap)"

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60

# Retries: our middleware replaces Scrapy's so that 429/503 honour Retry-After and back off.
RETRY_ENABLED = True
RETRY_TIMES = 5
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
    "spiders.middlewares.ContactUserAgentMiddleware": 510,
}

ITEM_PIPELINES = {
    "spiders.pipelines.ValidateItemPipeline": 100,
    "spiders.pipelines.DropDuplicatesPipeline": 200,
}

COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
