"""Crawl stage, Apple App Store: navigation for ``scrapy crawl apple_app_store``.

In: ``-a app_id=<digits> -a countries=us,gb [-a route=rss|web] [-a product=KEY]`` plus the
common arguments (``since``, ``known_ids``, ``max_pages``). Out: one ``app_meta`` item and the
review items of each storefront; one crawl unit (target) per storefront,
``apple_app_store:<product>:<cc>``. Parsing lives in :mod:`spiders.pages.apple_app_store`.

Per storefront the spider asks the Lookup API first (the store's own average and rating count),
then the reviews, newest first:

* ``route=rss`` (default): the customer-reviews RSS JSON feed, pages 1..10 of 50, so at most 500
  reviews per storefront (Apple's cap). Paging stops at a short or empty page, at page 10, or
  when :meth:`ReviewSpider.keep_paging` says so (known ids, ``since``, ``max_pages``).
* ``route=web``: the token-less apps.apple.com web reviews API, 20 per page, following the
  answer's ``next`` until it is absent; it goes deeper than 500 and carries developer replies.

An empty first page while the lookup reports ratings is Apple throttling, not "no reviews": the
page is asked again with doubling waits (``REVIEWGAP_BACKOFF_BASE``,
``REVIEWGAP_EMPTY_FEED_RETRIES`` times) and, if still empty, the target is recorded as failed
(``reviewgap/<target>/empty_feed_throttled``). With a rating count of 0 it is a legitimate
``reviewgap/<target>/no_reviews``. A cut-off body is fetched again (up to
:data:`TRUNCATED_RETRIES` times, ``reviewgap/errors/truncated``) before it counts as a page
format error.

Item fields filled per route (every other key of the review item is None):

=============  ================================  =====================================
key            route=rss                         route=web
=============  ================================  =====================================
kind           ``review``                        ``review``
source         ``apple_app_store``               ``apple_app_store``
product        ``-a product`` or the app id      same
target         ``apple_app_store:<product>:<cc>``  same
review_id      ``entry.id.label``                ``data[].id``
rating         ``im:rating`` (int 1-5)           ``attributes.rating``
title          ``title.label``                   ``attributes.title``
text           ``content.label`` (plain text)    ``attributes.review``
published_at   ``updated`` in UTC (None in       ``attributes.date`` in UTC
               pre-2019 feeds)
version        ``im:version``                    None (the API has none)
country        the storefront ``cc``             the storefront ``cc``
language       None (Apple states none)          None
url            ``https://apps.apple.com/<cc>/app/id<app_id>?see-all=reviews`` (both)
reply_text     None (not in the feed)            ``developerResponse.body``
reply_at       None                              ``developerResponse.modified`` in UTC
helpful_count  ``im:voteSum``                    None (the API has none)
fetched_at     download time (UTC)               download time (UTC)
=============  ================================  =====================================

The ``app_meta`` item: ``name`` (trackName), ``average_rating`` (averageUserRating),
``rating_count`` (userRatingCount, 0 when Apple omits it), ``review_count`` and ``histogram``
None (the Lookup API has neither), ``url`` the app page.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import attrs
import pydantic
import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import CommonParams, ReviewSpider, failure_text, split_list
from spiders.items import app_meta_item, review_item
from spiders.pages import PageFormatError
from spiders.pages.apple_app_store import (
    RSS_MAX_PAGE,
    WEB_PAGE_SIZE,
    TruncatedBodyError,
    app_page_url,
    parse_lookup,
    parse_rss_page,
    parse_web_page,
)

TRUNCATED_RETRIES = 2
"""How often a cut-off body is fetched again before it counts as a page format error."""

_COUNTRY = re.compile(r"[a-z]{2}")
_OWN_META = frozenset({"target", "page", "empty_retries", "truncated_retries"})

_JSON_HEADERS = {"Accept": "application/json"}
# The web API answers the App Store site's own XHRs: send what a browser sends there.
_WEB_HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "en-US,en;q=0.9",
    "Origin": "https://apps.apple.com",
}


class AppleAppStoreParams(CommonParams):
    """``-a`` arguments of the Apple App Store spider (and the ``apple_app_store`` config table)."""

    app_id: str = pydantic.Field(pattern=r"^[0-9]{1,15}$")
    """Numeric App Store id: the digits after ``id`` in ``apps.apple.com/us/app/<slug>/id<N>``."""
    countries: list[str] = pydantic.Field(default_factory=lambda: ["us"], min_length=1)
    """Storefronts, ISO 3166 alpha-2 (``"us,gb"`` on the command line); each is one target."""
    route: Literal["rss", "web"] = "rss"
    """``rss``: the RSS feed (500 newest per storefront); ``web``: the apps.apple.com web API."""

    @pydantic.field_validator("app_id", mode="before")
    @classmethod
    def _app_id_text(cls, value: Any) -> Any:
        # TOML gives a number; `-a` gives text. Both mean the same id.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @pydantic.field_validator("countries", mode="before")
    @classmethod
    def _split_countries(cls, value: Any) -> Any:
        value = split_list(value)
        if isinstance(value, list):
            return [v.strip().lower() if isinstance(v, str) else v for v in value]
        return value

    @pydantic.field_validator("countries")
    @classmethod
    def _check_countries(cls, value: list[str]) -> list[str]:
        for cc in value:
            if not _COUNTRY.fullmatch(cc):
                raise ValueError(
                    f"{cc!r} is not a two-letter storefront country code (e.g. us, gb, de)"
                )
        return list(dict.fromkeys(value))  # a storefront listed twice is crawled once


@attrs.define
class _Target:
    """What the spider knows about one storefront while crawling it."""

    cc: str
    rating_count: int | None = None
    """From the lookup; None when the lookup failed (an empty feed is then suspicious)."""
    seen_next: set[str] = attrs.field(factory=set)


class AppleAppStoreSpider(ReviewSpider):
    """Reviews of one App Store app in one or more storefronts (see the module docstring)."""

    name = "apple_app_store"
    Params: ClassVar[type[CommonParams]] = AppleAppStoreParams
    params: AppleAppStoreParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app_id = self.params.app_id
        self.targets: dict[str, _Target] = {
            self.target_of(cc): _Target(cc) for cc in self.params.countries
        }

    def default_product(self) -> str:
        """Without ``-a product`` the app id names the product."""
        return str(self.params.app_id)  # type: ignore[attr-defined]

    def target_of(self, cc: str) -> str:
        """The crawl unit of a storefront, ``apple_app_store:<product>:<cc>``."""
        return f"{self.name}:{self.product}:{cc}"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One lookup per storefront; each lookup answer then asks for the first review page."""
        for target, state in self.targets.items():
            yield self.lookup_request(target, state.cc)

    # -- request builders --------------------------------------------------------------

    def lookup_request(self, target: str, cc: str) -> scrapy.Request:
        """The iTunes Lookup request for the app in storefront ``cc``."""
        base = self.setting("REVIEWGAP_APPLE_LOOKUP_BASE")
        url = f"{base}/lookup?id={self.app_id}&country={cc}&entity=software"
        return scrapy.Request(url, callback=self.parse_lookup, errback=self.lookup_failed,
                              headers=_JSON_HEADERS, meta={"target": target})

    def first_reviews_request(self, target: str) -> scrapy.Request:
        """Page 1 of the chosen route."""
        cc = self.targets[target].cc
        if self.params.route == "web":
            base = self.setting("REVIEWGAP_APPLE_WEB_BASE")
            url = (f"{base}{self._web_path(cc)}?platform=web&sort=recent"
                   f"&limit={WEB_PAGE_SIZE}&offset=0")
            return self.web_request(target, url, page=1)
        return self.rss_request(target, page=1)

    def rss_request(self, target: str, page: int) -> scrapy.Request:
        """Page ``page`` (1..10) of the newest-first RSS feed."""
        base = self.setting("REVIEWGAP_APPLE_RSS_BASE")
        cc = self.targets[target].cc
        url = f"{base}/{cc}/rss/customerreviews/page={page}/id={self.app_id}/sortby=mostrecent/json"
        return scrapy.Request(url, callback=self.parse_rss, errback=self.reviews_failed,
                              headers=_JSON_HEADERS, meta={"target": target, "page": page})

    def web_request(self, target: str, url: str, page: int) -> scrapy.Request:
        """A page of the apps.apple.com web reviews API."""
        cc = self.targets[target].cc
        headers = {**_WEB_HEADERS, "Referer": app_page_url(cc, self.app_id)}
        return scrapy.Request(url, callback=self.parse_web, errback=self.reviews_failed,
                              headers=headers, meta={"target": target, "page": page})

    def _web_path(self, cc: str) -> str:
        return f"/api/apps/v1/catalog/{cc}/apps/{self.app_id}/reviews"

    # -- callbacks ----------------------------------------------------------------------

    def parse_lookup(self, response: Response) -> Iterator[Any]:
        """Emit the ``app_meta`` item, remember the rating count, ask for the first review page."""
        target = response.meta["target"]
        state = self.targets[target]
        try:
            result = parse_lookup(response.url, response.body, self.app_id)
        except TruncatedBodyError as err:
            again = self._again_truncated(response, target, err)
            if again is not None:
                yield again
                return
            result = None  # counted as a format error; the reviews are still worth fetching
        except PageFormatError as err:
            self.format_error(target, err)
            result = None
        else:
            if result is None:
                self.fail(target, "app_not_found",
                           "app id %s is not in the %s storefront (lookup resultCount 0 at %s); "
                           "check app_id and countries", self.app_id, state.cc, response.url)
                return
            state.rating_count = result.rating_count
            yield app_meta_item(
                source=self.name, product=self.product, target=target,
                name=result.name, average_rating=result.average_rating,
                rating_count=result.rating_count, review_count=None, histogram=None,
                url=app_page_url(state.cc, self.app_id), fetched_at=self.now_iso(),
            )
        yield self.first_reviews_request(target)

    def lookup_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """The lookup could not be fetched: record it, and crawl the reviews regardless."""
        request = failure.request  # type: ignore[attr-defined]
        target = request.meta["target"]
        self.fail(target, "lookup_failed", "lookup %s failed: %s", request.url,
                   failure_text(failure))
        yield self.first_reviews_request(target)

    async def parse_rss(self, response: Response) -> AsyncIterator[Any]:
        """Emit a feed page's reviews and ask for the next page while paging should go on."""
        target, page = response.meta["target"], response.meta["page"]
        parsed, again = self._read(response, lambda: parse_rss_page(response.url, response.body))
        if parsed is None:
            if again is not None:
                yield again
            return
        if parsed.app_entries:
            self.count(f"{target}/skipped_app_entries", parsed.app_entries)
        if not parsed.reviews and page == 1:
            async for request in self._empty_first_page(response, target):
                yield request
            return
        for item in self.emit(target, self._items(target, parsed.reviews)):
            yield item
        if not parsed.is_full:
            return  # a short or empty page is the feed's last
        if page >= RSS_MAX_PAGE:
            self.logger.info("%s: reached the RSS feed's last page (%d pages of 50 reviews)",
                             target, RSS_MAX_PAGE)
            self.count(f"{target}/rss_cap_reached")
            return
        if self.keep_paging(target):
            yield self.rss_request(target, page + 1)

    async def parse_web(self, response: Response) -> AsyncIterator[Any]:
        """Emit a web-API page's reviews and follow its ``next`` while paging should go on."""
        target, page = response.meta["target"], response.meta["page"]

        def read() -> tuple[Any, str | None]:
            page_ = parse_web_page(response.url, response.body)
            return page_, self._web_next_url(response, target, page_.next_path)

        result, again = self._read(response, read)
        if result is None:
            if again is not None:
                yield again
            return
        parsed, next_url = result
        if not parsed.reviews and page == 1:
            async for request in self._empty_first_page(response, target):
                yield request
            return
        for item in self.emit(target, self._items(target, parsed.reviews)):
            yield item
        if next_url is not None and self.keep_paging(target):
            yield self.web_request(target, next_url, page + 1)

    def reviews_failed(self, failure: Failure) -> None:
        """A review page could not be fetched even after retries: the target failed."""
        request = failure.request  # type: ignore[attr-defined]
        self.fail(request.meta["target"], "page_failed", "giving up on %s: %s", request.url,
                   failure_text(failure))

    # -- helpers ------------------------------------------------------------------------

    def _read(
        self, response: Response, parse: Callable[[], Any]
    ) -> tuple[Any | None, scrapy.Request | None]:
        """Run ``parse``; on a cut-off body return a retry request, on a bad page count it.

        Returns ``(parsed, None)``, ``(None, retry_request_or_None)``.
        """
        target = response.meta["target"]
        try:
            return parse(), None
        except TruncatedBodyError as err:
            return None, self._again_truncated(response, target, err)
        except PageFormatError as err:
            self.format_error(target, err)
            return None, None

    def _items(self, target: str, reviews: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        cc = self.targets[target].cc
        context = {
            "source": self.name, "product": self.product, "target": target, "country": cc,
            "language": None, "url": app_page_url(cc, self.app_id, reviews=True),
            "fetched_at": self.now_iso(),
        }
        for fields in reviews:
            yield review_item(**context, **fields)

    async def _empty_first_page(self, response: Response, target: str) -> AsyncIterator[Any]:
        """Decide what an empty first page means: no reviews, or Apple throttling."""
        rating_count = self.targets[target].rating_count
        if rating_count == 0:
            self.logger.info("%s: no reviews (the store reports 0 ratings)", target)
            self.count(f"{target}/no_reviews")
            for _ in self.emit(target, []):  # counts the page
                pass
            return
        tries = int(response.meta.get("empty_retries", 0))
        limit = self.settings.getint("REVIEWGAP_EMPTY_FEED_RETRIES", 3)
        if tries < limit:
            delay = min(self.settings.getfloat("REVIEWGAP_BACKOFF_BASE", 2.0) * 2**tries,
                        self.settings.getfloat("REVIEWGAP_BACKOFF_MAX", 120.0))
            self.logger.warning(
                "%s: %s is empty although %s; asking again in %.2fs (%d/%d)",
                target, response.url, _ratings_text(rating_count), delay, tries + 1, limit)
            self.count(f"{target}/empty_feed_retries")
            await asyncio.sleep(delay)
            yield self._again(response, empty_retries=tries + 1)
            return
        self.count(f"{target}/empty_feed_throttled")
        self.fail(target, "empty_feed",
                   "%s stayed empty after %d retries although %s: Apple is throttling or "
                   "hiding the feed; NOT recorded as 0 reviews",
                   response.url, limit, _ratings_text(rating_count))

    def _web_next_url(self, response: Response, target: str, next_path: str | None) -> str | None:
        """The absolute URL of the web API's ``next`` (relative to the API's ``/v1`` root).

        ``platform=web``, ``sort=recent`` and ``limit`` are added back because ``next`` omits
        them: the proxy refuses requests without ``platform``, would sort by helpfulness
        without ``sort`` and fall back to its default page size without ``limit``.
        """
        if next_path is None:
            return None
        state = self.targets[target]
        parts = urlsplit(next_path)
        path = parts.path
        if path.startswith("/v1/"):
            path = "/api/apps" + path
        if path != self._web_path(state.cc):
            raise PageFormatError(response.url, f"next {next_path!r} leaves this app's reviews")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        query.setdefault("platform", "web")
        query.setdefault("sort", "recent")
        query.setdefault("limit", str(WEB_PAGE_SIZE))
        url = f"{self.setting('REVIEWGAP_APPLE_WEB_BASE')}{path}?{urlencode(query)}"
        if url in state.seen_next or url == response.url:
            raise PageFormatError(response.url, f"next {next_path!r} repeats an earlier page")
        state.seen_next.add(url)
        return url

    def _again_truncated(
        self, response: Response, target: str, err: TruncatedBodyError
    ) -> scrapy.Request | None:
        """Ask once more for a cut-off body, or give up and record a page format error."""
        self.count("errors/truncated")
        tries = int(response.meta.get("truncated_retries", 0))
        if tries < TRUNCATED_RETRIES:
            self.logger.warning("%s: %s; fetching it again (%d/%d)", target, err, tries + 1,
                                TRUNCATED_RETRIES)
            return self._again(response, truncated_retries=tries + 1)
        self.format_error(target, err)
        return None

    @staticmethod
    def _again(response: Response, **meta: Any) -> scrapy.Request:
        """The same request once more (not filtered as a duplicate, HTTP retry count reset).

        Only the spider's own meta keys are carried over: Scrapy's (``retry_times``,
        ``download_latency``, ...) describe the previous download, not this one.
        """
        request = response.request
        assert request is not None
        own = {k: v for k, v in request.meta.items() if k in _OWN_META}
        return request.replace(dont_filter=True, meta={**own, **meta})


def _ratings_text(rating_count: int | None) -> str:
    if rating_count is None:
        return "the lookup failed, so the app may well have reviews"
    return f"the store reports {rating_count} ratings"
