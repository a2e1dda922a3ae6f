"""Real Scrapy crawls of the Apple App Store spider against the local replay server.

Page 1 is served from the real recorded feeds in ``../shared`` (expected values are computed from
those files here); paging, throttling, retries and the web route use synthetic payloads from
``tests/support/apple_payloads.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from spiders.sources.apple_app_store import AppleAppStoreSpider
from tests.support.apple_payloads import (
    APP_ID,
    dumps,
    generated_reviews,
    lookup_answer,
    rss_entry,
    rss_feed,
    web_page,
    web_review,
)
from tests.support.crawl import TEST_SETTINGS, crawl_items
from tests.support.server import LocalServer, Resp

REPO = Path(__file__).resolve().parent.parent
NL_FEED = "appstore_rss/sanderdekoning-demo__nl_474495017_mostrecent_page1_2023-02.json"
LEGACY_FEED = "appstore_rss/kazucocoa__jp_375380948_2015-06_legacy_with_app_entry.json"
EMPTY_FEED = "appstore_rss/kazucocoa__empty_feed_no_entries.json"

RSS = r"/(?P<cc>[a-z]{2})/rss/customerreviews/page=(?P<page>\d+)/id=%s/sortby=mostrecent/json"
LOOKUP = "/lookup"
WEB = rf"/api/apps/v1/catalog/us/apps/{APP_ID}/reviews"


def rss_path(page: int | str = r"\d+", cc: str = "us", app_id: str = APP_ID) -> str:
    return rf"/{cc}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json"


def base_settings(server: LocalServer, **extra: Any) -> dict[str, Any]:
    return {
        "REVIEWGAP_APPLE_RSS_BASE": server.base,
        "REVIEWGAP_APPLE_LOOKUP_BASE": server.base,
        "REVIEWGAP_APPLE_WEB_BASE": server.base,
        **extra,
    }


def reviews_of(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == "review"]


def stat(crawler: Any, key: str) -> Any:
    return crawler.stats.get_value(f"reviewgap/{key}")


def lookup(rating_count: int | None = 1234, **kw: Any) -> Resp:
    return Resp(200, dumps(lookup_answer(rating_count=rating_count, **kw)))


def serve_pages(server: LocalServer, pages: list[list[dict[str, Any]]], cc: str = "us") -> None:
    """Pages 1..n of the feed; any later page is an empty envelope."""
    def handler(req: Any) -> Resp:
        page = int(req.path.split("page=")[1].split("/")[0])
        entries = pages[page - 1] if page <= len(pages) else None
        return Resp(200, dumps(rss_feed(entries or None, cc=cc)))
    server.route("GET", rss_path(cc=cc), handler)


# -- real samples as page 1 ----------------------------------------------------------------


@pytest.mark.parametrize(("sample", "app_id", "cc"),
                         [(NL_FEED, "474495017", "nl"), (LEGACY_FEED, "375380948", "jp")])
@deferred_f_from_coro_f
async def test_real_feed_page_one(server: LocalServer, raw_fixtures: Path, sample: str,
                                  app_id: str, cc: str) -> None:
    body = (raw_fixtures / sample).read_bytes()
    rated = [e for e in json.loads(body)["feed"]["entry"] if "im:rating" in e]
    server.route("GET", LOOKUP, lookup(app_id=app_id, rating_count=999))
    server.route("GET", rss_path(1, cc, app_id), Resp(200, body))
    # Both samples hold a full 50 reviews, so the spider asks for page 2: the real empty envelope.
    empty = (raw_fixtures / EMPTY_FEED).read_bytes()
    server.route("GET", rss_path(2, cc, app_id), Resp(200, empty))

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server),
                                       app_id=app_id, countries=cc, product="bank")

    assert server.unmatched == []
    reviews = reviews_of(items)
    assert len(reviews) == len(rated) == 50
    assert [r["review_id"] for r in reviews] == [e["id"]["label"] for e in rated]
    assert [r["rating"] for r in reviews] == [int(e["im:rating"]["label"]) for e in rated]
    assert all(type(r["rating"]) is int for r in reviews)
    assert [r["version"] for r in reviews] == [e["im:version"]["label"] for e in rated]
    assert [r["helpful_count"] for r in reviews] == [int(e["im:voteSum"]["label"]) for e in rated]
    target = f"apple_app_store:bank:{cc}"
    for r in reviews:
        assert r["source"] == "apple_app_store"
        assert r["product"] == "bank"
        assert r["target"] == target
        assert r["country"] == cc
        assert r["language"] is None
        assert r["url"] == f"https://apps.apple.com/{cc}/app/id{app_id}?see-all=reviews"
        assert "127.0.0.1" not in r["url"]
        assert r["fetched_at"] == TEST_SETTINGS["REVIEWGAP_FIXED_NOW"]
        assert r["reply_text"] is None
    authors = {e["author"]["name"]["label"] for e in rated}
    assert not authors & {v for r in reviews for v in r.values() if isinstance(v, str)}
    if "updated" in rated[0]:
        assert reviews[0]["published_at"] == "2023-02-01T12:06:45Z"
    else:
        assert all(r["published_at"] is None for r in reviews)
    (meta,) = [i for i in items if i["kind"] == "app_meta"]
    assert (meta["rating_count"], meta["target"]) == (999, target)
    assert stat(crawler, f"{target}/reviews") == 50
    assert stat(crawler, f"{target}/pages") == 2
    assert stat(crawler, "failed") is None
    assert server.count(rss_path(cc=cc, app_id=app_id)) == 2


@pytest.mark.parametrize("rating_count", [0, 250])
@deferred_f_from_coro_f
async def test_real_empty_feed_no_reviews_or_throttled(server: LocalServer, raw_fixtures: Path,
                                                       rating_count: int,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    server.route("GET", LOOKUP, lookup(rating_count=rating_count))
    server.route("GET", rss_path(1), Resp(200, (raw_fixtures / EMPTY_FEED).read_bytes()))

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID)

    assert server.unmatched == []
    assert reviews_of(items) == []
    target = f"apple_app_store:{APP_ID}:us"
    if rating_count == 0:
        assert stat(crawler, f"{target}/no_reviews") == 1
        assert stat(crawler, "failed") is None
        assert server.count(rss_path(1)) == 1
    else:
        retries = crawler.settings.getint("REVIEWGAP_EMPTY_FEED_RETRIES")
        assert retries >= 1
        assert server.count(rss_path(1)) == 1 + retries
        assert stat(crawler, f"{target}/empty_feed_throttled") == 1
        assert stat(crawler, f"{target}/empty_feed_retries") == retries
        assert stat(crawler, "failed") is True
        assert stat(crawler, f"{target}/no_reviews") is None
        errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
        assert any(rss_path(1) in m and "NOT recorded as 0" in m
                   for m in errors), errors
    # Re-asked requests carry only the spider's own meta (Scrapy warns about copied meta).
    assert not [r for r in caplog.records if r.name.endswith("metacopy")]


# -- paging --------------------------------------------------------------------------------


@deferred_f_from_coro_f
async def test_multi_page_feed_with_overlap(server: LocalServer) -> None:
    all_reviews = generated_reviews(180)
    pages = [all_reviews[0:50], all_reviews[50:100], all_reviews[100:150], all_reviews[150:180]]
    # A new review arrived while paging: page 2 starts with page 1's last review again.
    pages[1] = [all_reviews[49], *all_reviews[50:99]]
    server.route("GET", LOOKUP, lookup())
    serve_pages(server, pages)

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID)

    assert server.unmatched == []
    assert server.count(rss_path()) == 4
    ids = [r["review_id"] for r in reviews_of(items)]
    expected = {e["id"]["label"] for page in pages for e in page}
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
    assert stat(crawler, "dropped/duplicate_in_crawl") == 1
    assert stat(crawler, f"apple_app_store:{APP_ID}:us/pages") == 4


@deferred_f_from_coro_f
async def test_ten_page_cap_and_two_countries(server: LocalServer) -> None:
    full = generated_reviews(50)
    server.route("GET", LOOKUP, lookup())
    server.route("GET", rss_path(cc="us"), Resp(200, dumps(rss_feed(full))))
    serve_pages(server, [generated_reviews(3, first_id=500, cc="gb")], cc="gb")

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server),
                                       app_id=APP_ID, countries="us,gb")

    assert server.unmatched == []
    assert server.count(rss_path(cc="us")) == 10
    assert server.count(rss_path(cc="gb")) == 1
    assert stat(crawler, f"apple_app_store:{APP_ID}:us/rss_cap_reached") == 1
    gb = [r for r in reviews_of(items) if r["country"] == "gb"]
    assert len(gb) == 3
    assert all(r["target"] == f"apple_app_store:{APP_ID}:gb" for r in gb)
    assert {q["country"][0] for q in (r.query for r in server.requests if r.path == LOOKUP)} == {
        "us", "gb"}


@deferred_f_from_coro_f
async def test_second_crawl_with_known_ids_stops_at_page_one(server: LocalServer,
                                                            tmp_path: Path) -> None:
    all_reviews = generated_reviews(120)
    server.route("GET", LOOKUP, lookup())
    serve_pages(server, [all_reviews[0:50], all_reviews[50:100], all_reviews[100:]])

    first, _ = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID)
    assert server.count(rss_path()) == 3
    known = tmp_path / "known.txt"
    known.write_text("\n".join(r["review_id"] for r in reviews_of(first)), "utf-8")

    second, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server),
                                        app_id=APP_ID, known_ids=str(known))
    assert server.count(rss_path()) == 3 + 1
    assert server.unmatched == []
    assert len(reviews_of(first)) == 120
    assert len(reviews_of(second)) == 50
    assert stat(crawler, f"apple_app_store:{APP_ID}:us/stopped_at_known") == 1


@deferred_f_from_coro_f
async def test_since_cut_off(server: LocalServer) -> None:
    all_reviews = generated_reviews(150)  # 5 hours apart, newest 2026-10-30T12:00Z
    server.route("GET", LOOKUP, lookup())
    serve_pages(server, [all_reviews[0:50], all_reviews[50:100], all_reviews[100:150]])
    since = "2026-10-25"

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server),
                                       app_id=APP_ID, since=since)

    reviews = reviews_of(items)
    assert reviews
    assert all(r["published_at"] >= "2026-10-25T00:00:00Z" for r in reviews)
    newer = [e for e in all_reviews if e["updated"]["label"] >= "2026-10-24T17:00:00-07:00"]
    assert len(reviews) == len(newer)
    assert server.count(rss_path()) == 1  # page 1 already reaches past the cut-off
    assert stat(crawler, f"apple_app_store:{APP_ID}:us/skipped_before_since") == 50 - len(newer)
    assert server.unmatched == []


# -- errors and retries --------------------------------------------------------------------


@deferred_f_from_coro_f
async def test_503_twice_then_200(server: LocalServer) -> None:
    server.route("GET", LOOKUP, lookup())
    server.route("GET", rss_path(1), [(503, b"busy"), (503, b"busy"),
                                       (200, dumps(rss_feed(generated_reviews(7))))])

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID)

    assert server.unmatched == []
    assert server.count(rss_path(1)) == 3
    assert len(reviews_of(items)) == 7
    assert stat(crawler, "errors/http_503") == 2
    assert stat(crawler, "failed") is None


@deferred_f_from_coro_f
async def test_429_with_retry_after(server: LocalServer) -> None:
    server.route("GET", LOOKUP, lookup())
    server.route("GET", rss_path(1), [Resp(429, b"slow down", {"Retry-After": "0"}),
                                      Resp(200, dumps(rss_feed(generated_reviews(4))))])

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID)

    assert server.count(rss_path(1)) == 2
    assert len(reviews_of(items)) == 4
    assert stat(crawler, "errors/http_429") == 1
    assert server.unmatched == []


@deferred_f_from_coro_f
async def test_throttled_feed_recovers_after_backoff(server: LocalServer) -> None:
    server.route("GET", LOOKUP, lookup())
    server.route("GET", rss_path(1), [(200, dumps(rss_feed(None))), (200, dumps(rss_feed(None))),
                                       (200, dumps(rss_feed(generated_reviews(5))))])

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID)

    assert server.count(rss_path(1)) == 3
    assert len(reviews_of(items)) == 5
    assert stat(crawler, f"apple_app_store:{APP_ID}:us/empty_feed_retries") == 2
    assert stat(crawler, "failed") is None
    assert server.unmatched == []


@deferred_f_from_coro_f
async def test_malformed_page_is_a_counted_format_error(server: LocalServer) -> None:
    broken = rss_feed([rss_entry("1"), {k: v for k, v in rss_entry("2").items() if k != "id"}])
    server.route("GET", LOOKUP, lookup())
    server.route("GET", rss_path(1), Resp(200, dumps(rss_feed(generated_reviews(50)))))
    server.route("GET", rss_path(2), Resp(200, dumps(broken)))
    server.route("GET", rss_path(1, cc="gb"), Resp(200, b"<html>not json</html>"))

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server),
                                       app_id=APP_ID, countries="us,gb")

    assert server.unmatched == []
    assert len(reviews_of(items)) == 50  # page 1 kept, page 2 refused whole, no crash
    assert stat(crawler, "page_format_errors") == 2
    assert stat(crawler, f"apple_app_store:{APP_ID}:us/errors/page_format") == 1
    assert stat(crawler, f"apple_app_store:{APP_ID}:gb/errors/page_format") == 1
    assert stat(crawler, "failed") is True
    assert server.count(rss_path(3)) == 0


@deferred_f_from_coro_f
async def test_truncated_body_is_fetched_again(server: LocalServer) -> None:
    body = dumps(rss_feed(generated_reviews(6)))
    server.route("GET", LOOKUP, lookup())
    server.route("GET", rss_path(1), [(200, body[: len(body) // 2]), (200, body)])
    server.route("GET", rss_path(1, cc="gb"), (200, body[:-10]))  # always cut off

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server),
                                       app_id=APP_ID, countries="us,gb")

    assert server.unmatched == []
    assert server.count(rss_path(1)) == 2
    assert server.count(rss_path(1, cc="gb")) == 3  # first try + 2 more, then a format error
    assert [r["country"] for r in reviews_of(items)] == ["us"] * 6
    assert stat(crawler, "errors/truncated") == 1 + 3
    assert stat(crawler, f"apple_app_store:{APP_ID}:gb/errors/page_format") == 1
    assert stat(crawler, "failed") is True


@deferred_f_from_coro_f
async def test_unknown_app_in_lookup_is_a_clear_error(server: LocalServer,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    server.route("GET", LOOKUP, lookup(found=False))

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID)

    assert items == []
    assert server.unmatched == []
    assert server.count(rss_path()) == 0
    assert stat(crawler, "errors/app_not_found") == 1
    assert stat(crawler, "failed") is True
    assert any(APP_ID in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


@deferred_f_from_coro_f
async def test_missing_rating_count_means_zero(server: LocalServer) -> None:
    server.route("GET", LOOKUP, lookup(rating_count=None))
    server.route("GET", rss_path(1), Resp(200, dumps(rss_feed(None))))

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID)

    (meta,) = items
    assert meta["kind"] == "app_meta"
    assert meta["rating_count"] == 0
    assert meta["url"] == f"https://apps.apple.com/us/app/id{APP_ID}"
    assert stat(crawler, f"apple_app_store:{APP_ID}:us/no_reviews") == 1
    assert stat(crawler, "failed") is None
    assert server.unmatched == []


@deferred_f_from_coro_f
async def test_failed_lookup_still_crawls_reviews_and_fails_the_run(server: LocalServer) -> None:
    server.route("GET", LOOKUP, (404, b"gone"))
    server.route("GET", rss_path(1), Resp(200, dumps(rss_feed(generated_reviews(3)))))

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID)

    assert [i["kind"] for i in items] == ["review"] * 3
    assert stat(crawler, "errors/lookup_failed") == 1
    assert stat(crawler, "failed") is True
    assert server.unmatched == []


# -- web route -----------------------------------------------------------------------------


@deferred_f_from_coro_f
async def test_web_route_follows_next_and_keeps_replies(server: LocalServer) -> None:
    pages = {
        "0": web_page([web_review(str(900 - i), reply="Thanks, fixed" if i == 1 else None)
                       for i in range(20)], next_offset=20),
        "20": web_page([web_review(str(880 - i)) for i in range(20)], next_offset=40),
        "40": web_page([web_review(str(860 - i), date="2026-09-01T00:00:00Z") for i in range(5)],
                       next_offset=None),
    }

    def handler(req: Any) -> Resp:
        return Resp(200, dumps(pages[req.query["offset"][0]]))

    server.route("GET", LOOKUP, lookup())
    server.route("GET", WEB, handler)

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server),
                                       app_id=APP_ID, route="web")

    assert server.unmatched == []
    assert server.count(WEB) == 3
    asked = [r for r in server.requests if r.path == WEB]
    assert [r.query["offset"][0] for r in asked] == ["0", "20", "40"]
    # The spider puts back what Apple's relative `next` leaves out, and asks for JSON.
    assert all(r.query["platform"] == ["web"] for r in asked)
    assert all(r.query["sort"] == ["recent"] and r.query["limit"] == ["20"] for r in asked)
    assert all(r.headers["accept"].startswith("application/json") for r in asked)
    reviews = reviews_of(items)
    assert len(reviews) == 45
    replied = [r for r in reviews if r["reply_text"]]
    assert [(r["review_id"], r["reply_text"], r["reply_at"]) for r in replied] == [
        ("899", "Thanks, fixed", "2026-10-04T08:00:00Z")]
    assert all(r["version"] is None and r["helpful_count"] is None for r in reviews)
    assert reviews[-1]["published_at"] == "2026-09-01T00:00:00Z"
    assert reviews[0]["url"] == f"https://apps.apple.com/us/app/id{APP_ID}?see-all=reviews"
    assert stat(crawler, "failed") is None


@deferred_f_from_coro_f
async def test_web_route_known_ids_stop(server: LocalServer, tmp_path: Path) -> None:
    server.route("GET", LOOKUP, lookup())
    server.route("GET", WEB, lambda req: Resp(200, dumps(web_page(
        [web_review(f"{req.query['offset'][0]}-{i}") for i in range(20)],
        next_offset=int(req.query["offset"][0]) + 20))))
    known = tmp_path / "known.txt"
    known.write_text("20-3\n", "utf-8")

    items, _ = await crawl_items(AppleAppStoreSpider, base_settings(server), app_id=APP_ID,
                                 route="web", known_ids=str(known))

    assert server.count(WEB) == 2
    assert len(reviews_of(items)) == 40
    assert server.unmatched == []


@pytest.mark.parametrize(("rating_count", "stat_key"), [(0, "no_reviews"),
                                                       (10, "empty_feed_throttled")])
@deferred_f_from_coro_f
async def test_web_route_empty_first_page(server: LocalServer, rating_count: int,
                                          stat_key: str) -> None:
    server.route("GET", LOOKUP, lookup(rating_count=rating_count))
    server.route("GET", WEB, Resp(200, dumps(web_page([], None))))

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server),
                                       app_id=APP_ID, route="web")

    assert reviews_of(items) == []
    assert stat(crawler, f"apple_app_store:{APP_ID}:us/{stat_key}") == 1
    assert stat(crawler, "failed") is (None if rating_count == 0 else True)
    assert server.unmatched == []


@deferred_f_from_coro_f
async def test_web_route_error_answer_is_a_format_error(server: LocalServer) -> None:
    server.route("GET", LOOKUP, lookup())
    server.route("GET", WEB, Resp(200, dumps({"errors": [{"status": "400", "code": "40005"}]})))

    items, crawler = await crawl_items(AppleAppStoreSpider, base_settings(server),
                                       app_id=APP_ID, route="web")

    assert reviews_of(items) == []
    assert stat(crawler, "page_format_errors") == 1
    assert stat(crawler, "failed") is True
    assert server.unmatched == []


# -- arguments and the standalone command --------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"app_id": "abc"}, "-a app_id"),
        ({"app_id": "id12345"}, "-a app_id"),
        ({}, "-a app_id"),
        ({"app_id": "123", "countries": "us,usa"}, "'usa' is not a two-letter"),
        ({"app_id": "123", "countries": "u1"}, "-a countries"),
        ({"app_id": "123", "countries": ""}, "-a countries"),
        ({"app_id": "123", "route": "amp"}, "-a route"),
        ({"app_id": "123", "contry": "us"}, "-a contry"),
    ],
)
def test_bad_arguments_raise_clear_value_error(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match="apple_app_store: bad arguments") as err:
        AppleAppStoreSpider(**kwargs)
    assert named in str(err.value)


def test_arguments_are_normalised() -> None:
    spider = AppleAppStoreSpider(app_id=123, countries=" US, gb ,us")
    assert spider.params.app_id == "123"
    assert spider.params.countries == ["us", "gb"]
    assert spider.product == "123"
    assert list(spider.targets) == ["apple_app_store:123:us", "apple_app_store:123:gb"]


def test_standalone_scrapy_crawl_command(server: LocalServer, tmp_path: Path) -> None:
    server.route("GET", LOOKUP, lookup())
    serve_pages(server, [generated_reviews(3)], cc="us")
    serve_pages(server, [generated_reviews(2, first_id=700, cc="gb")], cc="gb")
    out = tmp_path / "out.jsonl"
    settings = {**base_settings(server), "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                "LOG_LEVEL": "INFO"}
    cmd = [sys.executable, "-m", "scrapy", "crawl", "apple_app_store", "-a", f"app_id={APP_ID}",
           "-a", "countries=us,gb", "-a", "product=acme", "-O", str(out)]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    reviews = [i for i in lines if i["kind"] == "review"]
    assert sorted(r["target"] for r in reviews) == ["apple_app_store:acme:gb"] * 2 + [
        "apple_app_store:acme:us"] * 3
    assert sum(1 for i in lines if i["kind"] == "app_meta") == 2
    assert server.unmatched == []
