"""Real Scrapy crawls of the ``schema_org`` spider against the local replay server.

The server serves the real samples from ``../shared/fixtures/raw/`` (one path per file) and small
generated pages (written here) for paging with ``next_selector`` and for failures.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import scrapy.utils.defer

from spiders.sources.schema_org import SchemaOrgSpider, target_variant
from tests.support.crawl import crawl_items
from tests.support.jsonld import jsonld_reviews
from tests.support.server import LocalServer, Resp

REPO = Path(__file__).resolve().parent.parent
HTML = "text/html; charset=utf-8"
RECIPE = (
    "jsonld_reviews/"
    "recipe-scrapers__realmomnutrition.com_easy-lemonade_recipe_jsonld_100reviews.html"
)
BOOK = "jsonld_reviews/extruct__schemaorg_example_Book_jsonld_Review_edgecases.html"
PRODUCT = "other/extruct__schemaorg_example_Product_microdata_AggregateRating.html"
APPLE = "other/mywork-dragon__legacy_2017_apps.apple.com_uber_us_app_page_microdata.html"


def _serve(server: LocalServer, raw_fixtures: Path, path: str, name: str) -> str:
    body = (raw_fixtures / name).read_bytes()
    server.route("GET", re.escape(path), Resp(200, body, content_type=HTML))
    return f"{server.base}{path}"


def _stats(crawler: Any) -> dict[str, Any]:
    return crawler.stats.get_stats()


def _kind(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == kind]




def _review_page(texts: list[str], next_href: str | None) -> str:
    """A generated page: JSON-LD Product with one Review per text, and maybe a next link."""
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "Widget",
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.5", "reviewCount": 6},
        "review": [
            {
                "@type": "Review",
                "reviewBody": t,
                "datePublished": f"2026-0{i + 1}-01",
                "reviewRating": {"@type": "Rating", "ratingValue": str(i % 5 + 1)},
            }
            for i, t in enumerate(texts)
        ],
    }
    link = f'<a class="next" href="{next_href}">Next</a>' if next_href else ""
    return (
        f'<html><head><script type="application/ld+json">{json.dumps(product)}</script>'
        f'</head><body><ul class="pager">{link}</ul></body></html>'
    )


# -- real samples --------------------------------------------------------------------------------


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_recipe_page(server: LocalServer, raw_fixtures: Path) -> None:
    url = _serve(server, raw_fixtures, "/easy-lemonade/", RECIPE)
    raw = jsonld_reviews((raw_fixtures / RECIPE).read_bytes())
    items, crawler = await crawl_items(SchemaOrgSpider, urls=url, product="lemonade")
    assert server.unmatched == []
    target = f"schema_org:lemonade:{target_variant(url)}"
    stats = _stats(crawler)
    assert stats[f"reviewgap/{target}/reviews"] == len(raw) == 100
    # Rating-only reviews (no body, no title) are parsed but the item pipeline drops them,
    # counted: the contract wants text or a title.
    with_text = [r for r in raw if r.get("reviewBody") or r.get("name")]
    reviews = _kind(items, "review")
    assert len(reviews) == len(with_text)
    assert stats.get("reviewgap/dropped/empty_text", 0) == len(raw) - len(with_text)
    assert {r["target"] for r in reviews} == {target}
    assert sorted(r["rating"] for r in reviews) == sorted(
        round(float(r["reviewRating"]["ratingValue"])) for r in with_text
    )
    assert all(r["url"] == url for r in reviews)
    (meta,) = _kind(items, "app_meta")
    assert (meta["average_rating"], meta["review_count"]) == (4.6, 174)
    assert "reviewgap/failed" not in stats


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_edge_case_page(server: LocalServer, raw_fixtures: Path) -> None:
    url = _serve(server, raw_fixtures, "/book", BOOK)
    items, crawler = await crawl_items(SchemaOrgSpider, urls=url, product="book")
    assert server.unmatched == []
    reviews = _kind(items, "review")
    assert [(r["rating"], r["published_at"]) for r in reviews] == [
        (5, "2006-05-04T00:00:00Z"),
        (4, "2006-06-15T00:00:00Z"),
    ]
    assert len(_kind(items, "app_meta")) == 1
    assert "reviewgap/failed" not in _stats(crawler)


@pytest.mark.parametrize(("name", "review_count"), [(PRODUCT, 89), (APPLE, 2067)])
@scrapy.utils.defer.deferred_f_from_coro_f
async def test_aggregate_only_pages(
    server: LocalServer, raw_fixtures: Path, name: str, review_count: int, caplog: Any
) -> None:
    url = _serve(server, raw_fixtures, "/product", name)
    items, crawler = await crawl_items(SchemaOrgSpider, urls=url, product="prod")
    assert server.unmatched == []
    (meta,) = items
    assert meta["kind"] == "app_meta"
    assert meta["review_count"] == review_count
    assert meta["url"] == url
    stats = _stats(crawler)
    target = f"schema_org:prod:{target_variant(url)}"
    assert stats[f"reviewgap/{target}/no_review_markup"] == 1
    assert "reviewgap/failed" not in stats
    assert any(
        "no Review markup" in r.getMessage() and r.levelno == logging.WARNING
        for r in caplog.records
    )


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_aggregate_only_fails_when_reviews_are_expected(
    server: LocalServer, raw_fixtures: Path
) -> None:
    url = _serve(server, raw_fixtures, "/product", PRODUCT)
    items, crawler = await crawl_items(SchemaOrgSpider, urls=url, expect_reviews="true")
    assert server.unmatched == []
    assert items == []
    stats = _stats(crawler)
    assert stats["reviewgap/page_format_errors"] == 1
    assert stats["reviewgap/failed"] is True


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_two_urls_are_two_targets(server: LocalServer, raw_fixtures: Path) -> None:
    book = _serve(server, raw_fixtures, "/book", BOOK)
    product = _serve(server, raw_fixtures, "/product", PRODUCT)
    items, _ = await crawl_items(SchemaOrgSpider, urls=f"{book},{product}", product="mix")
    assert server.unmatched == []
    assert {i["target"] for i in items} == {
        f"schema_org:mix:{target_variant(book)}",
        f"schema_org:mix:{target_variant(product)}",
    }
    assert len(_kind(items, "app_meta")) == 2


# -- generated pages: paging and failures ----------------------------------------------------------


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_next_selector_follows_pages(server: LocalServer) -> None:
    server.route(
        "GET",
        "/reviews",
        Resp(200, _review_page(["one a", "one b", "one c"], "/reviews/2"), content_type=HTML),
    )
    # Page 2 links back to page 1: the spider must not loop.
    server.route(
        "GET",
        "/reviews/2",
        Resp(200, _review_page(["two a", "two b"], "/reviews"), content_type=HTML),
    )
    url = f"{server.base}/reviews"
    items, crawler = await crawl_items(SchemaOrgSpider, urls=url, next_selector="ul.pager a.next")
    assert server.unmatched == []
    assert [r["text"] for r in _kind(items, "review")] == [
        "one a",
        "one b",
        "one c",
        "two a",
        "two b",
    ]
    assert [r.path for r in server.requests if r.path != "/robots.txt"] == [
        "/reviews",
        "/reviews/2",
    ]
    assert len(_kind(items, "app_meta")) == 1  # once per target, not per page
    assert {r["url"] for r in _kind(items, "review")} == {url, f"{server.base}/reviews/2"}
    stats = _stats(crawler)
    assert stats[f"reviewgap/schema_org:127.0.0.1:{target_variant(url)}/pages"] == 2


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_max_pages_stops_next_selector(server: LocalServer) -> None:
    server.route(
        "GET", "/reviews", Resp(200, _review_page(["one"], "/reviews/2"), content_type=HTML)
    )
    items, _ = await crawl_items(
        SchemaOrgSpider, urls=f"{server.base}/reviews", next_selector="a.next", max_pages=1
    )
    assert server.unmatched == []
    assert [r["text"] for r in _kind(items, "review")] == ["one"]


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_without_next_selector_one_page_only(server: LocalServer) -> None:
    server.route(
        "GET", "/reviews", Resp(200, _review_page(["one"], "/reviews/2"), content_type=HTML)
    )
    items, _ = await crawl_items(SchemaOrgSpider, urls=f"{server.base}/reviews")
    assert server.unmatched == []
    assert len(_kind(items, "review")) == 1


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_malformed_page_is_a_page_format_error(server: LocalServer, caplog: Any) -> None:
    broken = (
        '<html><head><script type="application/ld+json">{"@type": "Review", "reviewBody": '
        "</script></head><body>cut off"
    )
    server.route("GET", "/broken", Resp(200, broken, content_type=HTML))
    url = f"{server.base}/broken"
    items, crawler = await crawl_items(SchemaOrgSpider, urls=url)
    assert server.unmatched == []
    assert items == []
    stats = _stats(crawler)
    assert stats["reviewgap/page_format_errors"] == 1
    assert stats["reviewgap/failed"] is True
    assert any(
        url in r.getMessage() and "JSON-LD block #1" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR
    )


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_field_problems_are_counted(server: LocalServer) -> None:
    page = _review_page(["fine"], None).replace('"ratingValue": "1"', '"ratingValue": "eleven"')
    server.route("GET", "/p", Resp(200, page, content_type=HTML))
    url = f"{server.base}/p"
    items, crawler = await crawl_items(SchemaOrgSpider, urls=url, product="x")
    assert server.unmatched == []
    (review,) = _kind(items, "review")
    assert review["rating"] is None
    assert _stats(crawler)[f"reviewgap/schema_org:x:{target_variant(url)}/problems/bad_rating"] == 1


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_server_error_fails_the_target(server: LocalServer) -> None:
    server.route("GET", "/down", Resp(500, "oops", content_type="text/plain"))
    url = f"{server.base}/down"
    items, crawler = await crawl_items(SchemaOrgSpider, {"RETRY_TIMES": 1}, urls=url, product="x")
    assert server.unmatched == []
    assert items == []
    assert server.count("/down") == 2  # first try + one retry
    stats = _stats(crawler)
    assert stats["reviewgap/errors/http_500"] == 2  # counted per answer by the retry middleware
    assert stats["reviewgap/errors/page_failed"] == 1
    assert stats[f"reviewgap/schema_org:x:{target_variant(url)}/errors/page_failed"] == 1
    assert stats["reviewgap/failed"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"urls": "ftp://x.example/a"}, "not an http"),
        ({"urls": "shop.example/a"}, "not an http"),
        ({"urls": ""}, "-a urls"),
        ({"urls": "https://x.example/", "next_selector": "a[["}, "not a CSS selector"),
        ({"urls": "https://x.example/", "pages": "2"}, "-a pages"),
    ],
)
def test_bad_arguments_name_the_argument(args: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SchemaOrgSpider(**args)


def test_targets_and_default_product() -> None:
    spider = SchemaOrgSpider(urls="https://www.shop.example/, https://shop.example/p?id=2")
    assert spider.product == "shop.example"
    assert list(spider.targets.values()) == [
        "schema_org:shop.example:www.shop.example",
        f"schema_org:shop.example:{target_variant('https://shop.example/p?id=2')}",
    ]
    assert re.fullmatch(r"shop\.example-[0-9a-f]{8}", target_variant("https://shop.example/p?id=2"))


def test_standalone_scrapy_crawl_two_urls(server: LocalServer, tmp_path: Path) -> None:
    server.route("GET", "/a", Resp(200, _review_page(["alpha"], None), content_type=HTML))
    server.route("GET", "/b", Resp(200, _review_page(["beta", "gamma"], None), content_type=HTML))
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "schema_org",
            "-a",
            f"urls={server.base}/a,{server.base}/b",
            "-O",
            str(out),
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert server.unmatched == []
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert sorted(r["text"] for r in lines if r["kind"] == "review") == ["alpha", "beta", "gamma"]
    assert len({r["target"] for r in lines}) == 2
