"""Real Scrapy crawls of the ``trustpilot`` spider against the local replay server.

Real pages (``../shared/fixtures/raw/trustpilot/``) check the fields end to end; the synthetic
site in tests/support/trustpilot_payloads.py checks paging, the login wall past page 10, the bot
interstitial, 429 with Retry-After and the incremental stops.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import scrapy.utils.defer

from spiders.sources.trustpilot import TrustpilotSpider
from tests.support import trustpilot_payloads as tp
from tests.support.crawl import crawl_items
from tests.support.server import LocalServer, Resp

REPO = Path(__file__).resolve().parent.parent
BT = "bottasai-llmproject__review_bt.com_2023-05.html"
EVENTNET = "hallomax__review_eventnet.de_en-US_2024-06-19_bs4-prettified.html"


async def _crawl(server: LocalServer, **args: Any) -> tuple[list[dict[str, Any]], Any]:
    settings = {"REVIEWGAP_TRUSTPILOT_BASE": server.base, **args.pop("settings", {})}
    return await crawl_items(TrustpilotSpider, settings, **args)


def _reviews(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == "review"]


def _stats(crawler: Any) -> dict[str, Any]:
    return crawler.stats.get_stats()


def _page_requests(server: LocalServer, domain: str) -> list[dict[str, list[str]]]:
    return [r.query for r in server.requests if r.path == f"/review/{domain}"]


def _fixture_props(body: bytes) -> dict[str, Any]:
    match = re.search(rb'<script id="__NEXT_DATA__"[^>]*>(.*?)</script>', body, re.S)
    assert match
    return json.loads(match.group(1))["props"]["pageProps"]


# -- real pages -----------------------------------------------------------------------------


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_bt_page(server: LocalServer, raw_fixtures: Path) -> None:
    body = (raw_fixtures / "trustpilot" / BT).read_bytes()
    props = _fixture_props(body)
    server.route("GET", r"/review/bt\.com", Resp(200, body, content_type=tp.HTML_TYPE))
    # The page says 83 pages; max_pages=1 keeps this crawl to the one recorded page.
    items, crawler = await _crawl(server, domain="bt.com", product="bt", max_pages=1)
    assert server.unmatched == []
    assert _page_requests(server, "bt.com") == [{"languages": ["all"], "sort": ["recency"]}]
    reviews = _reviews(items)
    assert len(reviews) == len(props["reviews"]) == 20
    assert sum(r["reply_text"] is not None for r in reviews) == 12
    assert {r["target"] for r in items} == {"trustpilot:bt:bt.com"}
    by_id = {r["review_id"]: r for r in reviews}
    first = by_id["6456378afe4e676d706281c4"]
    assert (first["rating"], first["published_at"], first["reply_at"]) == (
        1,
        "2023-05-06T13:18:34Z",
        "2023-05-06T14:54:03Z",
    )
    assert (first["country"], first["language"], first["helpful_count"]) == ("gb", "en", 0)
    assert first["url"] == "https://www.trustpilot.com/reviews/6456378afe4e676d706281c4"
    assert first["fetched_at"] == "2026-11-01T00:00:00Z"
    for raw in props["reviews"]:
        item = by_id[raw["id"]]
        assert item["rating"] == raw["rating"]
        assert item["text"] == " ".join(raw["text"].split())
        assert item["helpful_count"] == raw["likes"]
        assert item["country"] == raw["consumer"]["countryCode"].lower()
    (meta,) = [i for i in items if i["kind"] == "app_meta"]
    assert meta["review_count"] == props["businessUnit"]["numberOfReviews"]
    assert meta["histogram"]["1"] == props["filters"]["reviewStatistics"]["ratings"]["one"]
    stats = _stats(crawler)
    assert stats["reviewgap/trustpilot:bt:bt.com/pages"] == 1
    assert stats["reviewgap/trustpilot:bt:bt.com/reviews"] == 20
    assert "reviewgap/failed" not in stats


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_eventnet_single_page_ends_by_pagination(
    server: LocalServer, raw_fixtures: Path
) -> None:
    body = (raw_fixtures / "trustpilot" / EVENTNET).read_bytes()
    props = _fixture_props(body)
    server.route("GET", r"/review/eventnet\.de", Resp(200, body, content_type=tp.HTML_TYPE))
    items, crawler = await _crawl(server, domain="eventnet.de")
    assert server.unmatched == []
    assert len(_page_requests(server, "eventnet.de")) == 1  # totalPages is 1: no page 2
    reviews = _reviews(items)
    assert len(reviews) == props["filters"]["pagination"]["totalCount"] == 18
    assert {r["language"] for r in reviews} == {"de"}
    assert {r["product"] for r in items} == {"eventnet.de"}  # default product = domain
    assert sum(r["reply_text"] is not None for r in reviews) == sum(
        1 for r in props["reviews"] if r["reply"]
    )
    assert "reviewgap/failed" not in _stats(crawler)


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_json_ld_fallback_pages_on_until_login_wall(
    server: LocalServer, raw_fixtures: Path
) -> None:
    body = (raw_fixtures / "trustpilot" / BT).read_bytes()
    stripped = re.sub(rb'<script id="__NEXT_DATA__".*?</script>', b"", body, flags=re.S)

    def answer(req: Any) -> Resp:
        if req.query.get("page") == ["2"]:
            return Resp(307, "", headers={"Location": "/users/connect?redirect=x"})
        return Resp(200, stripped, content_type=tp.HTML_TYPE)

    server.route("GET", r"/review/bt\.com", answer)
    items, crawler = await _crawl(server, domain="bt.com")
    assert server.unmatched == []
    reviews = _reviews(items)
    assert len(reviews) == 20
    assert all(r["reply_text"] is None for r in reviews)  # JSON-LD carries no replies
    stats = _stats(crawler)
    assert stats["reviewgap/trustpilot:bt.com:bt.com/jsonld_fallback"] == 1
    assert stats["reviewgap/trustpilot:bt.com:bt.com/login_wall"] == 1
    assert "reviewgap/failed" not in stats


# -- synthetic site: paging and faults ------------------------------------------------------


@pytest.mark.parametrize("login_as", ["http", "next_data"])
@scrapy.utils.defer.deferred_f_from_coro_f
async def test_pages_until_login_wall(server: LocalServer, login_as: str, caplog: Any) -> None:
    site = tp.FakeTrustpilot(n_reviews=260, login_as=login_as)
    server.route("GET", r"/review/acme\.example", site)
    caplog.set_level(logging.INFO)
    items, crawler = await _crawl(server, domain="acme.example", settings={"LOG_LEVEL": "INFO"})
    assert server.unmatched == []
    assert site.pages_asked == list(range(1, 12))
    assert _page_requests(server, "acme.example")[0] == {"languages": ["all"], "sort": ["recency"]}
    reviews = _reviews(items)
    assert [r["review_id"] for r in reviews] == [r["id"] for r in site.reviews()[:200]]
    assert not any(r.path.startswith("/users") for r in server.requests)
    stats = _stats(crawler)
    assert stats["reviewgap/trustpilot:acme.example:acme.example/login_wall"] == 1
    assert stats["reviewgap/trustpilot:acme.example:acme.example/pages"] == 10
    assert "reviewgap/failed" not in stats
    assert stats["finish_reason"] == "finished"
    assert any("login page" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_last_page_ends_paging(server: LocalServer) -> None:
    site = tp.FakeTrustpilot(n_reviews=45)
    server.route("GET", r"/review/acme\.example", site)
    items, crawler = await _crawl(server, domain="acme.example", product="acme")
    assert server.unmatched == []
    assert site.pages_asked == [1, 2, 3]
    assert len(_reviews(items)) == 45
    assert [i["kind"] for i in items].count("app_meta") == 1
    assert "reviewgap/trustpilot:acme:acme.example/login_wall" not in _stats(crawler)


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_interstitial_is_retried_then_succeeds(server: LocalServer) -> None:
    site = tp.FakeTrustpilot(n_reviews=15)
    challenge = Resp(200, tp.interstitial_page(), content_type=tp.HTML_TYPE)
    server.route("GET", r"/review/acme\.example", [challenge, challenge, site])
    items, crawler = await _crawl(server, domain="acme.example")
    assert server.unmatched == []
    assert len(_page_requests(server, "acme.example")) == 3
    assert len(_reviews(items)) == 15
    stats = _stats(crawler)
    assert stats["reviewgap/trustpilot:acme.example:acme.example/bot_challenges"] == 2
    assert "reviewgap/errors/blocked" not in stats
    assert "reviewgap/failed" not in stats


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_interstitial_forever_fails_naming_the_url(server: LocalServer, caplog: Any) -> None:
    server.route(
        "GET",
        r"/review/acme\.example",
        Resp(403, tp.interstitial_page(), content_type=tp.HTML_TYPE),
    )
    items, crawler = await _crawl(server, domain="acme.example", settings={"RETRY_TIMES": 2})
    assert server.unmatched == []
    assert items == []
    assert len(_page_requests(server, "acme.example")) == 3  # first try + 2 retries
    stats = _stats(crawler)
    assert stats["reviewgap/errors/blocked"] == 1
    assert stats["reviewgap/failed"] is True
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"{server.base}/review/acme.example?languages=all" in m for m in errors)


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_429_with_retry_after_is_waited_out(server: LocalServer) -> None:
    site = tp.FakeTrustpilot(n_reviews=30)
    throttled = Resp(429, "slow down", headers={"Retry-After": "0"}, content_type="text/plain")
    server.route("GET", r"/review/acme\.example", [throttled, site])
    items, crawler = await _crawl(server, domain="acme.example")
    assert server.unmatched == []
    assert len(_reviews(items)) == 30
    assert site.pages_asked == [1, 2]
    stats = _stats(crawler)
    assert stats["reviewgap/errors/http_429"] == 1
    assert "reviewgap/failed" not in stats


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_known_ids_stop_after_the_page_holding_one(
    server: LocalServer, tmp_path: Path
) -> None:
    site = tp.FakeTrustpilot(n_reviews=100)
    server.route("GET", r"/review/acme\.example", site)
    known = tmp_path / "known.txt"
    known.write_text("r0025\nr0026\nsomething-else\n")  # on page 2 (reviews 20-39)
    items, crawler = await _crawl(server, domain="acme.example", known_ids=str(known))
    assert server.unmatched == []
    assert site.pages_asked == [1, 2]
    assert len(_page_requests(server, "acme.example")) == 2
    assert len(_reviews(items)) == 40
    stats = _stats(crawler)
    assert stats["reviewgap/trustpilot:acme.example:acme.example/stopped_at_known"] == 1


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_since_stops_paging_and_drops_older_reviews(server: LocalServer) -> None:
    site = tp.FakeTrustpilot(n_reviews=100, step=timedelta(days=1))
    server.route("GET", r"/review/acme\.example", site)
    cutoff = site.newest - timedelta(days=29, hours=12)  # reviews 0..29 are newer
    items, crawler = await _crawl(server, domain="acme.example", since=cutoff.isoformat())
    assert server.unmatched == []
    assert site.pages_asked == [1, 2]
    reviews = _reviews(items)
    assert [r["review_id"] for r in reviews] == [f"r{i:04d}" for i in range(30)]
    stats = _stats(crawler)
    assert stats["reviewgap/trustpilot:acme.example:acme.example/skipped_before_since"] == 10


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_layout_change_is_a_page_format_error(server: LocalServer) -> None:
    server.route(
        "GET",
        r"/review/acme\.example",
        Resp(200, tp.layout_changed_page(), content_type=tp.HTML_TYPE),
    )
    items, crawler = await _crawl(server, domain="acme.example")
    assert server.unmatched == []
    assert items == []
    stats = _stats(crawler)
    assert stats["reviewgap/page_format_errors"] == 1
    assert stats["reviewgap/failed"] is True
    assert "reviewgap/errors/blocked" not in stats


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_unknown_domain_404_fails_the_target(server: LocalServer) -> None:
    server.route("GET", r"/review/nobody\.example", Resp(404, "<html>not found</html>"))
    items, crawler = await _crawl(server, domain="nobody.example")
    assert server.unmatched == []
    assert items == []
    stats = _stats(crawler)
    assert stats["reviewgap/errors/page_failed"] == 1
    assert stats["reviewgap/trustpilot:nobody.example:nobody.example/errors/page_failed"] == 1
    assert stats["reviewgap/failed"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"domain": "https://acme.com/x"}, "not a domain name"),
        ({"domain": "acme"}, "not a domain name"),
        ({}, "-a domain"),
        ({"domain": "acme.com", "languages": "english"}, "ISO 639-1"),
        ({"domain": "acme.com", "sort": "relevance"}, "-a sort"),
        ({"domain": "acme.com", "colour": "red"}, "-a colour"),
    ],
)
def test_bad_arguments_name_the_argument(args: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrustpilotSpider(**args)


def test_domain_is_normalised() -> None:
    spider = TrustpilotSpider(domain="WWW.Acme.COM", product="acme")
    assert spider.domain == "acme.com"
    assert spider.target == "trustpilot:acme:acme.com"


def test_standalone_scrapy_crawl_writes_jsonl(server: LocalServer, tmp_path: Path) -> None:
    site = tp.FakeTrustpilot(n_reviews=25)
    server.route("GET", r"/review/acme\.example", site)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "trustpilot",
            "-a",
            "domain=acme.example",
            "-O",
            str(out),
            "-s",
            f"REVIEWGAP_TRUSTPILOT_BASE={server.base}",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "LOG_LEVEL=INFO",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert server.unmatched == []
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert sorted(r["review_id"] for r in lines if r["kind"] == "review") == [
        f"r{i:04d}" for i in range(25)
    ]
    assert [r["kind"] for r in lines].count("app_meta") == 1
    assert site.pages_asked == [1, 2]


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_redirect_elsewhere_fails_naming_the_location(server: LocalServer) -> None:
    server.route(
        "GET", r"/review/old\.example", Resp(301, "", headers={"Location": "/review/new.example"})
    )
    items, crawler = await _crawl(server, domain="old.example")
    assert server.unmatched == []
    assert items == []
    assert not any(r.path == "/review/new.example" for r in server.requests)
    stats = _stats(crawler)
    assert stats["reviewgap/errors/redirect"] == 1
    assert stats["reviewgap/failed"] is True


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_plain_403_fails_without_retrying(server: LocalServer) -> None:
    server.route(
        "GET",
        r"/review/acme\.example",
        Resp(403, "<html>Forbidden</html>", content_type=tp.HTML_TYPE),
    )
    items, crawler = await _crawl(server, domain="acme.example")
    assert server.unmatched == []
    assert items == []
    assert len(_page_requests(server, "acme.example")) == 1
    stats = _stats(crawler)
    assert stats["reviewgap/errors/http_403"] == 1
    assert stats["reviewgap/failed"] is True
