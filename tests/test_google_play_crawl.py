"""Real Scrapy crawls of the google_play spider against the local server.

POST bodies are matched by decoding ``f.req`` and reading the continuation token
(tests/support/google_play_payloads.py::decode_query).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import scrapy.utils.defer

from spiders.sources.google_play import GooglePlaySpider
from tests.support.crawl import crawl_items
from tests.support.google_play_payloads import (
    PlayQuery,
    PlayReviewsEndpoint,
    decode_query,
    empty_body,
    error_body,
    make_corpus,
    review_array,
    reviews_body,
)
from tests.support.server import LocalServer, Req, Resp

PKG = "com.google.android.apps.translate"
GEN = "com.example.notes"
RPC_PATH = r"/_/PlayStoreUi/data/batchexecute"
DETAILS_PATH = r"/store/apps/details"
PAGE1 = "mradex77__reviews_batchexecute_UsvDTd_translate_newest_initial_2026-07.txt"
PAGE2 = "mradex77__reviews_batchexecute_UsvDTd_translate_newest_page2_2026-07.txt"
DETAILS = "mradex77__details_com.google.android.apps.translate_en_us_2026.html"
REPO = Path(__file__).resolve().parent.parent


def settings_for(server: LocalServer, **extra: Any) -> dict[str, Any]:
    return {"REVIEWGAP_GOOGLE_PLAY_BASE": server.base, **extra}


def html(body: bytes) -> Resp:
    return Resp(200, body, content_type="text/html; charset=utf-8")


def minimal_details() -> Resp:
    """A tiny details page (JSON-LD only) for crawls whose point is the reviews."""
    ld = {"@type": "SoftwareApplication", "name": "Notes",
          "aggregateRating": {"ratingValue": "3.5", "ratingCount": "1200"}}
    return html(f'<script type="application/ld+json">{json.dumps(ld)}</script>'.encode())


def reviews(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == "review"]


def stat(crawler: Any, key: str) -> Any:
    return crawler.stats.get_value(f"reviewgap/{key}")


def raw_payload(body: bytes) -> list[Any]:
    return json.loads(json.loads(body[body.index(b"["):])[0][2])


# -- the real recorded pages -----------------------------------------------------------------


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_real_page1_token_real_page2_and_details(server: LocalServer,
                                                       raw_fixtures: Path) -> None:
    gp = raw_fixtures / "google_play"
    page1, page2 = (gp / PAGE1).read_bytes(), (gp / PAGE2).read_bytes()
    raw1, raw2 = raw_payload(page1), raw_payload(page2)
    queries: list[PlayQuery] = []

    def answer(req: Req) -> Resp:
        q = decode_query(req)
        queries.append(q)
        if q.token is None:
            return Resp(200, page1)
        if q.token == raw1[1][1]:
            return Resp(200, page2)
        server.unmatched.append(f"unexpected token {q.token[:20]}")
        return Resp(400, b"")

    server.route("POST", RPC_PATH, answer)
    server.route("GET", DETAILS_PATH, html((gp / DETAILS).read_bytes()))
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server),
                                       package=PKG, max_pages=2)

    assert server.unmatched == []
    assert [(q.rpc, q.package, q.sort, q.count, q.hl, q.gl) for q in queries] == [
        ("UsvDTd", PKG, 2, 150, "en", "us")] * 2
    assert [q.token for q in queries] == [None, raw1[1][1]]
    got = reviews(items)
    assert len(got) == 300
    assert len({r["review_id"] for r in got}) == 300
    assert [r["review_id"] for r in got] == [a[0] for a in raw1[0] + raw2[0]]
    assert {r["target"] for r in got} == {f"google_play:{PKG}:en-us"}
    assert all(r["language"] == "en" and r["country"] == "us" for r in got)
    assert all(r["url"].startswith("https://play.google.com/store/apps/details?id=") for r in got)
    assert sum(1 for r in got if r["reply_text"]) == sum(1 for a in raw1[0] + raw2[0] if a[7])
    assert all(type(r["rating"]) is int and 1 <= r["rating"] <= 5 for r in got)
    first = got[0]
    assert first["published_at"] == datetime.fromtimestamp(raw1[0][0][5][0], UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert first["fetched_at"] == "2026-11-01T00:00:00Z"

    (meta,) = [i for i in items if i["kind"] == "app_meta"]
    assert meta["name"] == "Google Translate"
    assert meta["average_rating"] == pytest.approx(4.265, abs=5e-4)
    assert f'["{meta["rating_count"]:,}",{meta["rating_count"]}]' in (gp / DETAILS).read_text()
    assert f'["{meta["review_count"]:,}",{meta["review_count"]}]' in (gp / DETAILS).read_text()
    assert sum(meta["histogram"].values()) == pytest.approx(meta["rating_count"], rel=1e-4)
    assert meta["url"] == f"https://play.google.com/store/apps/details?id={PKG}&hl=en&gl=us"
    assert stat(crawler, f"google_play:{PKG}:en-us/pages") == 2
    assert stat(crawler, "failed") is None


# -- generated paging --------------------------------------------------------------------------


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_full_paging_until_the_token_runs_out(server: LocalServer) -> None:
    corpus = make_corpus(400)
    endpoint = PlayReviewsEndpoint(corpus)
    server.route("POST", RPC_PATH, endpoint)
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN)

    assert server.unmatched == []
    assert endpoint.problems == []
    assert [q.token for q in endpoint.queries] == [None, "tok-150", "tok-300"]
    assert [r["review_id"] for r in reviews(items)] == [a[0] for a in corpus]
    assert sum(1 for r in reviews(items) if r["reply_text"]) == sum(1 for a in corpus if a[7])
    assert stat(crawler, "failed") is None
    # The minimal details page has JSON-LD only: no data block, no review count, no histogram.
    assert stat(crawler, "warnings/google_play_details") == 3
    (meta,) = [i for i in items if i["kind"] == "app_meta"]
    assert (meta["average_rating"], meta["rating_count"], meta["review_count"]) == (3.5, 1200, None)


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_stops_at_the_first_page_holding_a_known_id(server: LocalServer,
                                                          tmp_path: Path) -> None:
    corpus = make_corpus(1000)
    known = tmp_path / "known.txt"
    known.write_text("\n".join(a[0] for a in corpus[400:]) + "\n")
    endpoint = PlayReviewsEndpoint(corpus)
    server.route("POST", RPC_PATH, endpoint)
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN,
                                       known_ids=str(known))

    assert server.unmatched == []
    # Pages hold 0-149, 150-299, 300-449: the third contains id 400, so the third is the last.
    assert len(endpoint.queries) == 3
    assert len(reviews(items)) == 450
    assert stat(crawler, f"google_play:{GEN}:en-us/stopped_at_known") == 1


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_since_stops_paging_and_skips_older_reviews(server: LocalServer) -> None:
    corpus = make_corpus(1000, step=3600)
    cutoff_seconds = corpus[200][5][0]
    since = datetime.fromtimestamp(cutoff_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    endpoint = PlayReviewsEndpoint(corpus)
    server.route("POST", RPC_PATH, endpoint)
    server.route("GET", DETAILS_PATH, minimal_details())
    items, _ = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN, since=since)

    assert server.unmatched == []
    assert len(endpoint.queries) == 2
    assert [r["review_id"] for r in reviews(items)] == [a[0] for a in corpus[:201]]


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_max_pages_argument_caps_the_requests(server: LocalServer) -> None:
    endpoint = PlayReviewsEndpoint(make_corpus(1000))
    server.route("POST", RPC_PATH, endpoint)
    server.route("GET", DETAILS_PATH, minimal_details())
    items, _ = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN, max_pages=3)
    assert server.unmatched == []
    assert (len(endpoint.queries), len(reviews(items))) == (3, 450)


# -- errors inside and outside HTTP 200 ------------------------------------------------------


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_play_data_error_is_retried_with_the_same_token(server: LocalServer) -> None:
    corpus = make_corpus(400)
    endpoint = PlayReviewsEndpoint(corpus)
    errors_left = {"tok-150": 2}

    def answer(req: Req) -> Resp:
        token = decode_query(req).token
        if errors_left.get(token or "", 0):
            errors_left[token or ""] -= 1
            endpoint.queries.append(decode_query(req))
            return Resp(200, error_body())
        return endpoint(req)

    server.route("POST", RPC_PATH, answer)
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN)

    assert server.unmatched == []
    assert endpoint.problems == []
    assert [q.token for q in endpoint.queries] == [None] + ["tok-150"] * 3 + ["tok-300"]
    assert [r["review_id"] for r in reviews(items)] == [a[0] for a in corpus]
    assert stat(crawler, "errors/play_data_error") == 2
    assert stat(crawler, "failed") is None


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_play_data_error_forever_fails_the_target_not_ends_it(server: LocalServer) -> None:
    corpus = make_corpus(300)
    queries: list[str | None] = []

    def answer(req: Req) -> Resp:
        token = decode_query(req).token
        queries.append(token)
        return Resp(200, error_body() if token else reviews_body(corpus[:150], "tok-150"))

    server.route("POST", RPC_PATH, answer)
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server, RETRY_TIMES=2),
                                       package=GEN)

    assert server.unmatched == []
    assert queries == [None] + ["tok-150"] * 3  # first try + RETRY_TIMES retries
    assert len(reviews(items)) == 150
    assert stat(crawler, "errors/play_data_error") == 3
    assert stat(crawler, "errors/play_data_error_gave_up") == 1
    assert stat(crawler, f"google_play:{GEN}:en-us/errors/play_data_error") == 1
    assert stat(crawler, "failed") is True


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_429_and_503_are_retried(server: LocalServer) -> None:
    corpus = make_corpus(200)
    endpoint = PlayReviewsEndpoint(corpus)
    script = [Resp(429, b"", headers={"Retry-After": "0"}), Resp(503, b"")]

    def answer(req: Req) -> Resp:
        return script.pop(0) if script else endpoint(req)

    server.route("POST", RPC_PATH, answer)
    server.route("GET", DETAILS_PATH, [Resp(503, b""), minimal_details()])
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN)

    assert server.unmatched == []
    assert server.count(RPC_PATH, "POST") == 4
    assert server.count(DETAILS_PATH, "GET") == 2
    assert [r["review_id"] for r in reviews(items)] == [a[0] for a in corpus]
    assert len([i for i in items if i["kind"] == "app_meta"]) == 1
    assert stat(crawler, "errors/http_429") == 1
    assert stat(crawler, "errors/http_503") == 2
    assert stat(crawler, "failed") is None


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_503_after_every_retry_fails_the_target(server: LocalServer) -> None:
    server.route("POST", RPC_PATH, Resp(503, b"", content_type="text/plain"))
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server, RETRY_TIMES=1),
                                       package=GEN)

    assert server.unmatched == []
    assert server.count(RPC_PATH, "POST") == 2
    assert reviews(items) == []
    assert stat(crawler, "errors/http_503") == 2  # each answer once, by the retry middleware
    assert stat(crawler, f"google_play:{GEN}:en-us/errors/http_503") == 1
    assert stat(crawler, "failed") is True


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_30_percent_faults_still_collect_every_review_once(server: LocalServer) -> None:
    corpus = make_corpus(1500, seed=3)
    # Pages of 25 (the server cuts the asked 150, as Google may): ~60 pages, ~90 answers.
    endpoint = PlayReviewsEndpoint(corpus, max_page=25, faults=0.3, seed=11)
    server.route("POST", RPC_PATH, endpoint)
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN)

    assert server.unmatched == []
    assert endpoint.problems == []
    injected = Counter(endpoint.injected)
    assert set(injected) == set(PlayReviewsEndpoint.FAULTS), injected
    assert 0.2 < len(endpoint.injected) / len(endpoint.queries) < 0.45
    got = [r["review_id"] for r in reviews(items)]
    assert got == [a[0] for a in corpus]  # all, in order, each once
    assert stat(crawler, "errors/truncated") == injected["truncated"]
    assert stat(crawler, "errors/play_data_error") == injected["play_data_error"]
    assert crawler.stats.get_value("reviewgap/dropped/duplicate_in_crawl") is None
    assert stat(crawler, "failed") is None


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_truncated_every_time_becomes_a_page_format_error(server: LocalServer) -> None:
    full = reviews_body(make_corpus(3), None)
    server.route("POST", RPC_PATH, Resp(200, full[:-40]))
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN)

    assert server.unmatched == []
    assert server.count(RPC_PATH, "POST") == 3  # first try + REVIEWGAP_FORMAT_RETRIES (2)
    assert reviews(items) == []
    assert stat(crawler, "errors/truncated") == 3
    assert stat(crawler, "page_format_errors") == 1
    assert stat(crawler, f"google_play:{GEN}:en-us/errors/page_format") == 1
    assert stat(crawler, "failed") is True


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_empty_page_after_a_token_is_a_layout_change(server: LocalServer) -> None:
    server.route("POST", RPC_PATH, [Resp(200, reviews_body(make_corpus(150), "more")),
                                    Resp(200, reviews_body([], "even-more"))])
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN)

    assert server.unmatched == []
    assert len(reviews(items)) == 150
    assert stat(crawler, "page_format_errors") == 1
    assert stat(crawler, "failed") is True


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_empty_payload_on_the_first_page_is_no_reviews(server: LocalServer) -> None:
    server.route("POST", RPC_PATH, Resp(200, empty_body()))
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN)

    assert server.unmatched == []
    assert server.count(RPC_PATH, "POST") == 1
    assert reviews(items) == []
    assert len(items) == 1
    assert stat(crawler, "failed") is None
    assert stat(crawler, "page_format_errors") is None


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_a_page_with_no_new_ids_stops_the_loop(server: LocalServer) -> None:
    corpus = make_corpus(150)
    server.route("POST", RPC_PATH, lambda req: Resp(200, reviews_body(corpus, "again")))
    server.route("GET", DETAILS_PATH, minimal_details())
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN)

    assert server.unmatched == []
    assert server.count(RPC_PATH, "POST") == 2
    assert len(reviews(items)) == 150
    assert stat(crawler, f"google_play:{GEN}:en-us/stopped_no_new_ids") == 1


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_details_404_fails_the_target(server: LocalServer) -> None:
    server.route("POST", RPC_PATH, Resp(200, empty_body()))
    server.route("GET", DETAILS_PATH, Resp(404, b"not found", content_type="text/html"))
    items, crawler = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN)
    assert server.unmatched == []
    assert items == []
    assert stat(crawler, "errors/http_404") == 1
    assert stat(crawler, f"google_play:{GEN}:en-us/errors/http_404") == 1
    assert stat(crawler, "failed") is True


# -- cookies and targets -----------------------------------------------------------------------


@scrapy.utils.defer.deferred_f_from_coro_f
async def test_nid_cookie_is_sent_back_per_target(server: LocalServer) -> None:
    corpus = make_corpus(200)
    endpoint = PlayReviewsEndpoint(
        corpus, on_page=lambda page, q: {"Set-Cookie": f"NID=nid-{q.hl}; Path=/"} if page == 0
        else {})
    server.route("POST", RPC_PATH, endpoint)
    server.route("GET", DETAILS_PATH, minimal_details())
    items, _ = await crawl_items(GooglePlaySpider, settings_for(server), package=GEN,
                                 langs="en,FR", countries="us")

    assert server.unmatched == []
    assert endpoint.problems == []
    by_lang: dict[str | None, list[PlayQuery]] = {}
    for q in endpoint.queries:
        by_lang.setdefault(q.hl, []).append(q)
    assert sorted(by_lang) == ["en", "fr"]
    for lang, qs in by_lang.items():
        assert [q.token for q in qs] == [None, "tok-150"]
        assert "NID=" not in qs[0].cookie
        assert qs[1].cookie == f"NID=nid-{lang}"  # its own jar: not the other language's
    targets = Counter(r["target"] for r in reviews(items))
    # The same generated corpus in both languages: the second target's reviews are in-crawl
    # duplicates (same source + id), dropped by the pipeline with a counted stat.
    assert set(targets) <= {f"google_play:{GEN}:en-us", f"google_play:{GEN}:fr-us"}
    assert sum(targets.values()) == 200


# -- arguments and the command line ------------------------------------------------------------


def test_arguments_are_validated_and_lists_split() -> None:
    spider = GooglePlaySpider(package=GEN, langs="en, FR", countries="US,gb", product="notes")
    assert (spider.params.langs, spider.params.countries) == (["en", "fr"], ["us", "gb"])
    assert [t for t, _, _ in spider.targets()] == [
        "google_play:notes:en-us", "google_play:notes:en-gb",
        "google_play:notes:fr-us", "google_play:notes:fr-gb"]
    assert GooglePlaySpider(package=GEN).product == GEN
    for bad, arg in [({"package": "notes"}, "package"), ({}, "package"),
                     ({"package": GEN, "langs": "english"}, "langs"),
                     ({"package": GEN, "countries": "us,us"}, "countries"),
                     ({"package": GEN, "lang": "en"}, "lang")]:
        with pytest.raises(ValueError, match=rf"-a {arg}"):
            GooglePlaySpider(**bad)


def test_standalone_scrapy_crawl_writes_jsonl(server: LocalServer, tmp_path: Path) -> None:
    corpus = make_corpus(160)
    endpoint = PlayReviewsEndpoint(corpus)
    server.route("POST", RPC_PATH, endpoint)
    server.route("GET", DETAILS_PATH, minimal_details())
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "google_play", "-a", f"package={GEN}",
         "-a", "langs=en", "-a", "countries=us", "-O", str(out),
         "-s", f"REVIEWGAP_GOOGLE_PLAY_BASE={server.base}", "-s", "DOWNLOAD_DELAY=0",
         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert server.unmatched == []
    assert len(endpoint.queries) == 2
    assert sorted(r["review_id"] for r in rows if r["kind"] == "review") == sorted(
        a[0] for a in corpus)
    assert [r["name"] for r in rows if r["kind"] == "app_meta"] == ["Notes"]
    assert "'reviewgap/google_play:com.example.notes:en-us/reviews': 160" in proc.stderr


def test_generated_review_array_is_the_real_length(raw_fixtures: Path) -> None:
    """Our synthetic arrays keep the real shape (17 slots) so the fault tests mean something."""
    real = raw_payload((raw_fixtures / "google_play" / PAGE1).read_bytes())[0][0]
    assert len(review_array("x", 1, "t", 0)) == len(real)
