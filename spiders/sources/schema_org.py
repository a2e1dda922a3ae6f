"""Crawl stage, navigation: the ``schema_org`` spider (reviews marked up with schema.org).

In: ``-a urls=URL1,URL2`` (pages that carry schema.org ``Review``/``AggregateRating`` markup in
JSON-LD, microdata or RDFa: product pages, G2/Capterra-style review pages), optional
``next_selector`` (CSS selector of the next-page link, followed when given), ``expect_reviews``
(a page without Review markup is then an error) and the common arguments. Out: review items and
at most one ``app_meta`` item (the page's AggregateRating) per URL.

Each URL is one target, ``schema_org:<product>:<host>`` for a site's root page or
``schema_org:<product>:<host>-<hash of the path>`` for any other page; pages reached through
``next_selector`` belong to the target of the URL they started from.

Standalone: ``scrapy crawl schema_org -a urls=https://a.example/p,https://b.example/q -O x.jsonl``.
Parsing is in :mod:`spiders.pages.schema_org`; failures:

* no markup at all, or no Review markup with ``expect_reviews``: ``PageFormatError`` via
  ``format_error`` (the crawl fails);
* AggregateRating only: the ``app_meta`` item, a warning and stat
  ``reviewgap/<target>/no_review_markup`` (many sites mark up only their average);
* unreadable fields: a warning and stat ``reviewgap/<target>/problems/<kind>``;
* a page that cannot be fetched after retries: ``reviewgap/errors/page_failed`` (beside the
  retry middleware's ``reviewgap/errors/http_<status>``), an error naming the URL, a failed crawl.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pydantic
import scrapy
from cssselect import SelectorError
from parsel import Selector
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from spiders.base import CommonParams, ReviewSpider, failure_text, split_list
from spiders.pages import PageFormatError
from spiders.pages.schema_org import parse_schema_org_page


class SchemaOrgParams(CommonParams):
    """``-a`` arguments of the ``schema_org`` spider."""

    urls: list[str] = pydantic.Field(min_length=1)
    """Pages to read (comma-separated on the command line); each must be http(s)."""
    next_selector: str | None = None
    """CSS selector of the next-page link (``a.next``, ``link[rel=next]``); none: one page."""
    expect_reviews: bool = False
    """A page without Review markup is an error (else: app_meta only, with a warning)."""

    _split_urls = pydantic.field_validator("urls", mode="before")(split_list)

    @pydantic.field_validator("urls")
    @classmethod
    def _check_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL")
        return list(dict.fromkeys(urls))  # the same page twice would be one target anyway

    @pydantic.field_validator("next_selector")
    @classmethod
    def _check_selector(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            Selector(text="<html></html>").css(value)
        except (SelectorError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a CSS selector ({exc})") from exc
        return value


def target_variant(url: str) -> str:
    """``host`` for a site's root page, else ``host-<8 hex of sha1(port, path, query)>``.

    >>> target_variant("https://www.example.com/"), target_variant("https://example.com/p?x=1")
    ('www.example.com', 'example.com-3eb26042')
    """
    parts = urlsplit(url)
    host = parts.hostname or "unknown"
    rest = f"{parts.port or ''}{parts.path}?{parts.query}"
    if rest in ("/?", "?"):
        return host
    return f"{host}-{hashlib.sha1(rest.encode('utf-8')).hexdigest()[:8]}"


class SchemaOrgSpider(ReviewSpider):
    """Reviews from schema.org markup on the given pages (see the module docstring)."""

    name = "schema_org"
    Params: ClassVar[type[CommonParams]] = SchemaOrgParams
    params: SchemaOrgParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets: dict[str, str] = {
            url: f"{self.name}:{self.product}:{target_variant(url)}" for url in self.params.urls
        }
        self.meta_sent: set[str] = set()
        self.visited: dict[str, set[str]] = {t: set() for t in self.targets.values()}

    def default_product(self) -> str:
        """Without ``-a product`` the first URL's host (without ``www.``) names the product."""
        host = urlsplit(self.params.urls[0]).hostname or "unknown"  # type: ignore[attr-defined]
        return host.removeprefix("www.")

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """One request per configured URL."""
        for url, target in self.targets.items():
            yield self.page_request(url, target, start_url=url, page=1)

    def page_request(self, url: str, target: str, *, start_url: str, page: int) -> scrapy.Request:
        """A page of ``target`` (``start_url`` is the configured URL it started from)."""
        self.visited[target].add(url)
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.page_failed,
            meta={"target": target, "start_url": start_url, "page": page},
        )

    def parse_page(self, response: Response) -> Iterator[Any]:
        """Emit the page's reviews and aggregate; follow ``next_selector`` when given."""
        target: str = response.meta["target"]
        if not isinstance(response, TextResponse):
            content_type = response.headers.get(b"Content-Type", b"").decode("latin-1")
            self.format_error(
                target,
                PageFormatError(response.url, f"not an HTML page (Content-Type {content_type!r})"),
            )
            return
        try:
            page = parse_schema_org_page(
                response.url,
                response.text,
                source=self.name,
                product=self.product,
                target=target,
                fetched_at=self.now_iso(),
                id_base=response.meta["start_url"],
                expect_reviews=self.params.expect_reviews,
                next_selector=self.params.next_selector,
            )
        except PageFormatError as err:
            self.format_error(target, err)
            return
        for problem in page.problems:
            self.logger.warning("%s: %s", target, problem.message)
            self.count(f"{target}/problems/{problem.kind}")
        if page.app_meta is not None and target not in self.meta_sent:
            self.meta_sent.add(target)
            yield page.app_meta
        if not page.reviews:
            self.logger.warning(
                "%s: %s has an AggregateRating but no Review markup: stored the aggregate only",
                target,
                response.url,
            )
            self.count(f"{target}/no_review_markup")
        yield from self.emit(target, page.reviews)
        if page.next_url is None:
            return
        if page.next_url in self.visited[target]:
            self.logger.info(
                "%s: next link of %s leads back to %s; stopping",
                target,
                response.url,
                page.next_url,
            )
            return
        if self.keep_paging(target):
            yield self.page_request(
                page.next_url,
                target,
                start_url=response.meta["start_url"],
                page=int(response.meta["page"]) + 1,
            )

    def page_failed(self, failure: Failure) -> None:
        """A page could not be fetched even after the middleware's retries: the target failed."""
        request = failure.request  # type: ignore[attr-defined]
        # The retry middleware already counted each status as errors/http_<status>; this
        # counts the page given up on.
        self.fail(request.meta["target"], "page_failed", "%s failed: %s", request.url,
                  failure_text(failure))
