"""Crawl stage, Google Play spider: navigation only (parsing: :mod:`spiders.pages.google_play`).

In: ``-a package=<app id>`` plus ``langs``/``countries`` and the common arguments (``product``,
``since``, ``known_ids``, ``max_pages``). Out: review items and one ``app_meta`` item per target
``google_play:<product>:<lang>-<country>``.

Per target the spider GETs the details page (store aggregates) and pages through the
``batchexecute`` reviews RPC, newest first, 150 per page, following the continuation token in one
cookie jar per target (Google honours a token only on the backend session that issued it). Three
kinds of bad answer are handled here rather than in the downloader:

* an error envelope inside HTTP 200 (``PlayDataError``): retried with the same token after
  ``REVIEWGAP_BACKOFF_BASE * 2**n`` seconds, up to ``RETRY_TIMES``; then the target fails;
* a truncated or malformed body: retried ``REVIEWGAP_FORMAT_RETRIES`` times (default 2), then a
  page format error (the layout changed);
* a page with no reviews although the previous token promised more: a page format error.

HTTP 429/5xx are retried by :class:`spiders.middlewares.BackoffRetryMiddleware`.

Usage::

    scrapy crawl google_play -a package=com.google.android.apps.translate -a langs=en,fr \\
        -a countries=us -O reviews.jsonl
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import attrs
import pydantic
import scrapy
from scrapy.http import FormRequest, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from spiders.base import CommonParams, ReviewSpider, split_list
from spiders.items import app_meta_item, review_item
from spiders.pages import PageFormatError
from spiders.pages.google_play import (
    PAGE_SIZE,
    SORT_NEWEST,
    RpcErrorEnvelope,
    details_url,
    parse_details,
    parse_reviews,
    reviews_freq,
)

PACKAGE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$"
LangCode = Annotated[str, pydantic.StringConstraints(pattern=r"^[a-z]{2}$")]
CountryCode = Annotated[str, pydantic.StringConstraints(pattern=r"^[a-z]{2}$")]


class GooglePlayParams(CommonParams):
    """Arguments of the ``google_play`` spider."""

    package: str = pydantic.Field(pattern=PACKAGE_PATTERN)
    """App id as in the store URL, e.g. ``com.google.android.apps.translate``."""
    langs: list[LangCode] = pydantic.Field(default_factory=lambda: ["en"], min_length=1)
    """Review languages (ISO 639-1): Play returns only reviews written in the asked language."""
    countries: list[CountryCode] = pydantic.Field(default_factory=lambda: ["us"], min_length=1)
    """Storefront countries (ISO 3166 alpha-2)."""

    @pydantic.field_validator("langs", "countries", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # Lower-cased before the pattern check: "FR" and "US" are fine from the command line.
        value = split_list(value)
        return [v.lower() if isinstance(v, str) else v for v in value] if isinstance(
            value, list) else value

    @pydantic.field_validator("langs", "countries")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        repeated = sorted({v for v in value if value.count(v) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} given more than once")
        return value


@attrs.frozen
class PageState:
    """Where a reviews request stands: carried in ``Request.meta["gp"]``."""

    target: str
    lang: str
    country: str
    token: str | None = None
    page_no: int = 1
    rpc_retries: int = 0
    """Error envelopes (PlayDataError in a 200) answered to this token so far."""
    format_retries: int = 0
    """Truncated/malformed answers to this token so far."""


class GooglePlaySpider(ReviewSpider):
    """Reviews and store aggregates of one Play app per (language, country); see module doc."""

    name = "google_play"
    Params = GooglePlayParams
    params: GooglePlayParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.package = self.params.package
        # Ids already yielded per target: a page with none new means Google is looping.
        self.seen_ids: dict[str, set[str]] = {}

    def default_product(self) -> str:
        """Standalone runs key the product by the app id."""
        return self.params.package

    def targets(self) -> list[tuple[str, str, str]]:
        """``(target, lang, country)`` for every language x country asked for."""
        return [
            (f"{self.name}:{self.product}:{lang}-{country}", lang, country)
            for lang in self.params.langs
            for country in self.params.countries
        ]

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """Details page and first reviews page of every target."""
        for target, lang, country in self.targets():
            self.seen_ids[target] = set()
            yield scrapy.Request(
                f"{self.setting('REVIEWGAP_GOOGLE_PLAY_BASE')}/store/apps/details"
                f"?id={self.package}&hl={lang}&gl={country}",
                callback=self.parse_details,
                errback=self.on_error,
                meta={"cookiejar": target, "gp": PageState(target, lang, country)},
            )
            yield self.reviews_request(PageState(target, lang, country))

    def reviews_request(self, state: PageState) -> FormRequest:
        """The batchexecute POST for ``state.token`` (a fresh request, so retry counters reset)."""
        base = self.setting("REVIEWGAP_GOOGLE_PLAY_BASE")
        return FormRequest(
            f"{base}/_/PlayStoreUi/data/batchexecute?hl={state.lang}&gl={state.country}",
            formdata={"f.req": reviews_freq(self.package, state.token, PAGE_SIZE, SORT_NEWEST)},
            callback=self.parse_reviews,
            errback=self.on_error,
            # Retries of one token are the same POST: the dupe filter must let them through.
            dont_filter=True,
            meta={"cookiejar": state.target, "gp": state},
        )

    # -- reviews ---------------------------------------------------------------------------

    async def parse_reviews(self, response: Response) -> AsyncIterator[Any]:
        """Emit one page's reviews and ask for the next, or retry/stop (see module doc)."""
        state: PageState = response.meta["gp"]
        target = state.target
        try:
            page = parse_reviews(response.url, response.body, self.package)
        except RpcErrorEnvelope as err:
            retry = await self._retry_rpc_error(state, err)
            if retry is not None:
                yield retry
            return
        except PageFormatError as err:
            retry = self._retry_malformed(state, err)
            if retry is not None:
                yield retry
            return
        if not page.reviews and state.token is not None:
            self.format_error(target, PageFormatError(
                response.url, f"page {state.page_no} has no reviews although the token of "
                              f"page {state.page_no - 1} promised more"))
            return
        if not page.reviews:
            self.logger.info("%s: no reviews in this language and country", target)
            self.count(f"{target}/pages")
            return
        seen = self.seen_ids[target]
        fresh = [r for r in page.reviews if r["review_id"] not in seen]
        seen.update(r["review_id"] for r in fresh)
        common = {
            "source": self.name, "product": self.product, "target": target,
            "language": state.lang, "country": state.country, "fetched_at": self.now_iso(),
        }
        for item in self.emit(target, (review_item(**common, **r) for r in fresh)):
            yield item
        if not fresh:
            self.logger.warning("%s: page %d repeats reviews already seen; stopping (loop guard)",
                                target, state.page_no)
            self.count(f"{target}/stopped_no_new_ids")
            return
        if page.next_token and self.keep_paging(target):
            yield self.reviews_request(
                PageState(target, state.lang, state.country, page.next_token, state.page_no + 1)
            )

    async def _retry_rpc_error(self, state: PageState, err: RpcErrorEnvelope) -> Any:
        """Same token again after a backoff, or give up (stat + error + failed run)."""
        self.count("errors/play_data_error")
        limit = self.settings.getint("RETRY_TIMES", 5)
        if state.rpc_retries >= limit:
            self.count("errors/play_data_error_gave_up")
            self.fail(state.target, "play_data_error",
                      "page %d: error envelope after %d retries: %s",
                      state.page_no, state.rpc_retries, err, count_global=False)
            return None
        base = self.settings.getfloat("REVIEWGAP_BACKOFF_BASE", 2.0)
        cap = self.settings.getfloat("REVIEWGAP_BACKOFF_MAX", 120.0)
        delay = min(base * 2**state.rpc_retries, cap)
        self.logger.info("%s: page %d: %s; retrying the same token in %.2fs",
                         state.target, state.page_no, err.problem, delay)
        # Waiting inside the callback keeps the token's session; the asyncio reactor runs on.
        await asyncio.sleep(delay)
        return self.reviews_request(attrs.evolve(state, rpc_retries=state.rpc_retries + 1))

    def _retry_malformed(self, state: PageState, err: PageFormatError) -> FormRequest | None:
        """Re-ask a truncated/malformed page a couple of times, then report a format error."""
        self.count("errors/truncated")
        if state.format_retries >= self.settings.getint("REVIEWGAP_FORMAT_RETRIES", 2):
            self.format_error(state.target, err)
            return None
        self.logger.warning("%s: page %d unreadable (%s); asking again",
                            state.target, state.page_no, err.problem)
        return self.reviews_request(attrs.evolve(state, format_retries=state.format_retries + 1))

    # -- details ---------------------------------------------------------------------------

    def parse_details(self, response: Response) -> Any:
        """One ``app_meta`` item from the details page; missing blocks are counted warnings."""
        state: PageState = response.meta["gp"]
        try:
            details = parse_details(response.url, response.body)
        except PageFormatError as err:
            self.format_error(state.target, err)
            return
        for warning in details.warnings:
            self.logger.warning("%s: details page %s: %s", state.target, response.url, warning)
            self.count("warnings/google_play_details")
            self.count(f"{state.target}/warnings/details")
        yield app_meta_item(
            source=self.name, product=self.product, target=state.target,
            url=details_url(self.package, state.lang, state.country),
            fetched_at=self.now_iso(), name=details.name,
            average_rating=details.average_rating, rating_count=details.rating_count,
            review_count=details.review_count, histogram=details.histogram,
        )

    # -- failures --------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        """A request that failed for good (HTTP error after retries, network): the target fails."""
        request = failure.request  # type: ignore[attr-defined]
        state: PageState = request.meta["gp"]
        if failure.check(HttpError):
            status = failure.value.response.status
            kind, what = f"http_{status}", f"HTTP {status}"
            # The retry middleware already counted each answer of a retryable status.
            retryable = {int(c) for c in self.settings.getlist("RETRY_HTTP_CODES")}
            count_global = status not in retryable
        else:
            kind, what = type(failure.value).__name__, f"{failure.value!r}"
            count_global = False
        self.fail(state.target, kind, "%s %s failed: %s", request.method, request.url, what,
                  count_global=count_global)
