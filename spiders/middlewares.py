"""Downloader middlewares: polite retries with backoff, and a User-Agent carrying a contact.

:class:`BackoffRetryMiddleware` replaces Scrapy's RetryMiddleware. On a retryable status (429,
5xx, ``RETRY_HTTP_CODES``) it waits ``Retry-After`` when the server sends one (seconds or an HTTP
date, capped at ``REVIEWGAP_BACKOFF_MAX``), else ``REVIEWGAP_BACKOFF_BASE * 2**attempt``, then
retries the same request. Exceptions (timeouts, refused connections) are retried the same way.
Every retry and every give-up increments a ``reviewgap/errors/<kind>`` stat.
"""

from __future__ import annotations

import asyncio
import email.utils
from datetime import UTC, datetime
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.http import Response


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value (delta-seconds or HTTP date).

    >>> retry_after_seconds(b"7")
    7.0
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:05 GMT",
    ...     now=datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC))
    5.0
    >>> retry_after_seconds("soon") is None
    True
    """
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry logic plus a wait before each retry (see module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.base = crawler.settings.getfloat("REVIEWGAP_BACKOFF_BASE", 2.0)
        self.cap = crawler.settings.getfloat("REVIEWGAP_BACKOFF_MAX", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    def _delay(self, request: Request, response: Response | None) -> float:
        attempt = int(request.meta.get("retry_times", 0))
        delay = self.base * (2**attempt)
        if response is not None:
            hinted = retry_after_seconds(response.headers.get(b"Retry-After"))
            if hinted is not None:
                delay = hinted
        return min(delay, self.cap)

    def _stat(self, key: str) -> None:
        if self.crawler.stats:
            self.crawler.stats.inc_value(f"reviewgap/errors/{key}")

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        self._stat(f"http_{response.status}")
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"HTTP {response.status}",
            max_retry_times=self.max_retry_times,
            stats_base_key="retry",
        )
        if retry is None:
            self._stat("gave_up")
            return response
        await asyncio.sleep(self._delay(request, response))
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry"):
            return None
        self._stat(type(exception).__name__)
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=type(exception).__name__,
            max_retry_times=self.max_retry_times,
        )
        if retry is None:
            self._stat("gave_up")
            return None
        await asyncio.sleep(self._delay(request, None))
        return retry


class ContactUserAgentMiddleware:
    """Appends ``REVIEWGAP_CONTACT`` to the User-Agent so site owners can reach the operator."""

    def __init__(self, user_agent: str) -> None:
        self.user_agent = user_agent

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactUserAgentMiddleware:
        ua = crawler.settings.get("USER_AGENT")
        contact = crawler.settings.get("REVIEWGAP_CONTACT")
        if contact:
            ua = f"{ua} contact: {contact}"
        return cls(ua)

    def process_request(self, request: Request, spider: Any = None) -> None:
        request.headers[b"User-Agent"] = self.user_agent.encode()
