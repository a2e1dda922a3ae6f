"""Crawl stage, navigation: the ``trustpilot`` spider (a company's reviews on Trustpilot).

In: ``-a domain=acme.com`` (the company's domain on Trustpilot), optional ``languages`` (``all``
or an ISO 639-1 code), ``sort`` (``recency``: the incremental stop needs newest first) and the
common arguments (``product``, ``since``, ``known_ids``, ``max_pages``). Out: review items and
one ``app_meta`` item for target ``trustpilot:<product>:<domain>``.

Pages: ``{REVIEWGAP_TRUSTPILOT_BASE}/review/{domain}?languages=all&sort=recency`` for page 1
(never ``page=1``: it resets the filters), then ``&page=N`` while
``filters.pagination.totalPages`` and :meth:`~spiders.base.ReviewSpider.keep_paging` allow.
Parsing is in :mod:`spiders.pages.trustpilot`.

How it ends:

* Anonymous visitors get at most 10 pages; page 11 redirects to the login page (HTTP 30x to
  ``/users/connect`` or ``pageProps.__N_REDIRECT``). That ends paging cleanly: stat
  ``reviewgap/<target>/login_wall``, an info log line, no error.
* The bot-protection interstitial ("Verifying your connection", HTTP 200 or 403 without page
  data) is asked again with exponential backoff (``RETRY_TIMES`` times, ``REVIEWGAP_BACKOFF_*``),
  then the target fails: stat ``reviewgap/errors/blocked``, an error naming the URL,
  ``reviewgap/failed``.
* 429/5xx are retried by :class:`spiders.middlewares.BackoffRetryMiddleware` (``Retry-After``).
* A page with neither ``__NEXT_DATA__`` nor Review JSON-LD is a format change:
  :class:`~spiders.pages.PageFormatError` through ``format_error``.
* A page that cannot be fetched after retries (404 for an unknown domain, 5xx): stat
  ``reviewgap/errors/page_failed``, an error naming the URL, ``reviewgap/failed``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import pydantic
import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from spiders.base import CommonParams, ReviewSpider
from spiders.pages import PageFormatError
from spiders.pages.trustpilot import is_bot_challenge, is_login_redirect, parse_trustpilot_page

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.[a-z]{2,63}$"
)
_REDIRECTS = (301, 302, 303, 307, 308)
# Handed to the callback instead of being filtered: redirects (login wall) and 403 (the
# interstitial is sometimes served with it).
_HANDLED = [*_REDIRECTS, 403]


class TrustpilotParams(CommonParams):
    """``-a`` arguments of the ``trustpilot`` spider."""

    domain: str
    """The company's domain as Trustpilot names it (``bt.com`` for ``/review/bt.com``)."""
    languages: str = "all"
    """``all`` or one ISO 639-1 code (``en``): Trustpilot's language filter."""
    sort: Literal["recency"] = "recency"
    """Newest first: the only order in which ``since`` and ``known_ids`` can stop paging."""

    @pydantic.field_validator("domain")
    @classmethod
    def _check_domain(cls, value: str) -> str:
        domain = value.strip().lower().removeprefix("www.")
        if not _HOSTNAME.match(domain):
            raise ValueError(
                f"{value!r} is not a domain name like 'acme.com' (no scheme, path or port)"
            )
        return domain

    @pydantic.field_validator("languages")
    @classmethod
    def _check_languages(cls, value: str) -> str:
        value = value.strip().lower()
        if value != "all" and not re.fullmatch(r"[a-z]{2}", value):
            raise ValueError(f"{value!r} is neither 'all' nor an ISO 639-1 code such as 'en'")
        return value


class TrustpilotSpider(ReviewSpider):
    """A company's Trustpilot reviews, newest first (see the module docstring)."""

    name = "trustpilot"
    Params: ClassVar[type[CommonParams]] = TrustpilotParams
    params: TrustpilotParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.domain = self.params.domain
        self.target = f"{self.name}:{self.product}:{self.domain}"

    def default_product(self) -> str:
        """Without ``-a product`` the domain names the product."""
        return str(self.params.domain)  # type: ignore[attr-defined]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Page 1 of the company's reviews."""
        yield self.page_request(1)

    def page_url(self, page: int) -> str:
        """URL of review page ``page``; page 1 has no ``page`` parameter (it resets filters)."""
        base = self.setting("REVIEWGAP_TRUSTPILOT_BASE")
        url = (
            f"{base}/review/{quote(self.domain)}"
            f"?languages={self.params.languages}&sort={self.params.sort}"
        )
        return url if page == 1 else f"{url}&page={page}"

    def page_request(self, page: int, challenges: int = 0) -> scrapy.Request:
        """The request for page ``page``; ``challenges`` counts interstitials seen for it."""
        return scrapy.Request(
            self.page_url(page),
            callback=self.parse_page,
            errback=self.page_failed,
            dont_filter=challenges > 0,
            meta={
                "page": page,
                "challenges": challenges,
                "dont_redirect": True,
                "handle_httpstatus_list": _HANDLED,
            },
        )

    async def parse_page(self, response: Response) -> AsyncIterator[Any]:
        """Emit a page's reviews; follow the next page, stop at the login wall, retry a block."""
        page: int = response.meta["page"]
        if response.status in _REDIRECTS:
            location = response.headers.get(b"Location", b"").decode("latin-1")
            self._redirected(response.url, location)
            return
        if is_bot_challenge(response.body):
            retry = await self._after_challenge(response)
            if retry is not None:
                yield retry
            return
        if response.status == 403:
            self.fail(self.target, "http_403", "%s answered HTTP 403 (blocked?)", response.url)
            return
        try:
            parsed = parse_trustpilot_page(
                response.url,
                response.body,
                domain=self.domain,
                product=self.product,
                target=self.target,
                fetched_at=self.now_iso(),
            )
        except PageFormatError as err:
            self.format_error(self.target, err)
            return
        if parsed.redirect is not None:
            self._redirected(response.url, parsed.redirect)
            return
        if parsed.via == "json_ld":
            self.logger.info(
                "%s: %s has no __NEXT_DATA__; read its JSON-LD reviews instead",
                self.target,
                response.url,
            )
            self.count(f"{self.target}/jsonld_fallback")
        if page == 1 and parsed.app_meta is not None:
            yield parsed.app_meta
        for item in self.emit(self.target, parsed.reviews):
            yield item
        if self._has_next(parsed.total_pages, page, len(parsed.reviews)) and self.keep_paging(
            self.target
        ):
            yield self.page_request(page + 1)

    @staticmethod
    def _has_next(total_pages: int | None, page: int, n_reviews: int) -> bool:
        if total_pages is not None:
            return page < total_pages
        # The JSON-LD fallback carries no pagination: a full page (Trustpilot shows 20) may have
        # a successor; the login wall or a short page ends it.
        return n_reviews >= 20

    def _redirected(self, url: str, location: str) -> None:
        if is_login_redirect(location):
            self.logger.info(
                "%s: %s redirects to the login page: Trustpilot shows anonymous visitors "
                "10 pages at most; stopping here",
                self.target,
                url,
            )
            self.count(f"{self.target}/login_wall")
            return
        self.fail(self.target, "redirect",
                  "%s redirects to %r; check -a domain (company renamed?)", url, location)

    async def _after_challenge(self, response: Response) -> scrapy.Request | None:
        """The same page again after a backoff, or the error once retries are spent."""
        request = response.request
        assert request is not None
        seen = int(request.meta.get("challenges", 0)) + 1
        self.count(f"{self.target}/bot_challenges")
        limit = self.settings.getint("RETRY_TIMES", 5)
        if seen > limit:
            self.fail(self.target, "blocked",
                "%s is still the bot-protection interstitial after %d "
                "attempts; giving up (Trustpilot blocks automated clients)",
                response.url,
                seen,
            )
            return None
        base = self.settings.getfloat("REVIEWGAP_BACKOFF_BASE", 2.0)
        cap = self.settings.getfloat("REVIEWGAP_BACKOFF_MAX", 120.0)
        delay = min(base * 2 ** (seen - 1), cap)
        self.logger.warning(
            "%s: %s is the bot-protection interstitial; asking again in %.1fs",
            self.target,
            response.url,
            delay,
        )
        # Waiting in the callback delays only this page; the asyncio reactor keeps running.
        await asyncio.sleep(delay)
        return self.page_request(int(request.meta["page"]), challenges=seen)

    def page_failed(self, failure: Failure) -> None:
        """A page could not be fetched even after the middleware's retries: the target failed."""
        request = failure.request  # type: ignore[attr-defined]
        # The retry middleware already counted each retried status as errors/http_<status>;
        # this counts the page given up on.
        if failure.check(HttpError):
            status = failure.value.response.status
            hint = " (no Trustpilot page for this domain?)" if status == 404 else ""
            self.fail(self.target, "page_failed", "%s answered HTTP %d%s", request.url, status,
                      hint)
        else:
            self.fail(self.target, "page_failed",
                "%s failed: %s: %s",
                request.url,
                type(failure.value).__name__,
                failure.value,
            )
