"""The demo server answers in the real wire formats: our own page parsers and real Scrapy crawls
of our spiders read its answers back into exactly the generated corpus.

Structure checks mirror the quirks of the real samples in ``shared/fixtures/raw/`` (a lone Apple
entry is an object, an empty feed has no ``entry``, ``)]}'`` before the batchexecute rows, the
login wall past Trustpilot page 10); round-trip checks compare parsed reviews with the corpus.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from analysis.demo import truth
from analysis.demo.corpus import DemoCorpus, DemoReview, generate_corpus
from analysis.demo.server import (
    APPLE_PAGE_SIZE,
    TRUSTPILOT_PAGE_SIZE,
    DemoServer,
    apple_rss_feed,
    itunes_lookup,
    parse_apple_rss_path,
    play_batchexecute,
    play_details,
    trustpilot_page,
)
from spiders.pages import google_play as gp_pages
from spiders.pages.apple_app_store import parse_lookup, parse_rss_page
from spiders.pages.trustpilot import parse_trustpilot_page
from spiders.sources.apple_app_store import AppleAppStoreSpider
from spiders.sources.google_play import GooglePlaySpider
from spiders.sources.trustpilot import TrustpilotSpider
from tests.support.crawl import crawl_items

MARGIN = truth.app("margin")
QUILL = truth.app("quillbyte")
JOT = truth.app("jotterly")


@pytest.fixture(scope="module")
def corpus() -> DemoCorpus:
    return generate_corpus(seed=11, reviews_per_app=300)


@pytest.fixture
def demo_server(corpus: DemoCorpus) -> Iterator[DemoServer]:
    with DemoServer(corpus) as srv:
        yield srv


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expected(rs: list[DemoReview]) -> dict[str, tuple[Any, ...]]:
    return {r.review_id: (r.rating, r.text, _iso(r.published_at)) for r in rs}


# -- Apple ---------------------------------------------------------------------------------------


def test_apple_path_forms() -> None:
    assert parse_apple_rss_path("/us/rss/customerreviews/page=3/id=123/sortby=mostrecent/json") \
        == ("us", "123", 3)
    # Segment order and casing vary in the wild; Apple accepts both.
    assert parse_apple_rss_path("/gb/rss/customerreviews/id=9/sortBy=mostRecent/page=2/json") \
        == ("gb", "9", 2)
    assert parse_apple_rss_path("/us/rss/customerreviews/page=1/id=1/sortby=mosthelpful/json") \
        is None
    assert parse_apple_rss_path("/us/rss/topfreeapplications/json") is None


def test_apple_feed_pages_round_trip(corpus: DemoCorpus) -> None:
    for cc in ("us", "gb"):
        expected = corpus.for_target("apple_app_store", MARGIN.key, cc)
        got: list[dict[str, Any]] = []
        page = 1
        while True:
            url = f"https://x/{cc}/rss/customerreviews/page={page}/id={MARGIN.apple_app_id}/sortby=mostrecent/json"
            body = json.dumps(apple_rss_feed(corpus, cc, MARGIN.apple_app_id, page))
            parsed = parse_rss_page(url, body)
            got.extend(parsed.reviews)
            if not parsed.is_full:
                break
            page += 1
        assert [g["review_id"] for g in got] == [r.review_id for r in expected]  # newest first
        exp = {r.review_id: r for r in expected}
        for g in got:
            r = exp[g["review_id"]]
            assert (g["rating"], g["text"], g["title"], g["version"], g["published_at"]) == (
                r.rating, r.text, r.title, r.version, _iso(r.published_at))
            assert g["helpful_count"] == r.helpful_count


def test_apple_feed_shapes(corpus: DemoCorpus) -> None:
    feed = apple_rss_feed(corpus, "us", MARGIN.apple_app_id, 1)["feed"]
    entry = feed["entry"][0]
    assert len(feed["entry"]) == APPLE_PAGE_SIZE
    # Every value wrapped in {"label": ...}; dates carry a Pacific offset (-07:00 or -08:00).
    assert set(entry["im:rating"]) == {"label"}
    assert entry["im:rating"]["label"] in "12345"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[78]:00", entry["updated"]["label"])
    assert entry["content"]["attributes"] == {"type": "text"}
    winter = [e for e in feed["entry"] if e["updated"]["label"].endswith("-08:00")]
    summer = [e for e in feed["entry"] if e["updated"]["label"].endswith("-07:00")]
    assert winter or summer
    # Past the last page: Apple's empty envelope (200, no "entry").
    empty = apple_rss_feed(corpus, "us", MARGIN.apple_app_id, 10)["feed"]
    assert "entry" not in empty
    assert empty["title"]["label"]
    assert "entry" not in apple_rss_feed(corpus, "us", "999", 1)["feed"]


def test_apple_single_entry_is_an_object() -> None:
    tiny = generate_corpus(seed=5, reviews_per_app=24)
    reviews = tiny.for_target("apple_app_store", MARGIN.key, "us")
    page = len(reviews) // APPLE_PAGE_SIZE + 1
    # Trim the corpus so the last page holds exactly one review, as Apple sends it.
    keep = (page - 1) * APPLE_PAGE_SIZE + 1
    drop = {r.review_id for r in reviews[keep:]}
    tiny.reviews = [r for r in tiny.reviews if r.review_id not in drop]
    doc = apple_rss_feed(tiny, "us", MARGIN.apple_app_id, page)
    assert isinstance(doc["feed"]["entry"], dict)
    parsed = parse_rss_page("https://x/feed", json.dumps(doc))
    assert [p["review_id"] for p in parsed.reviews] == [reviews[keep - 1].review_id]


def test_lookup_is_read_by_our_parser(corpus: DemoCorpus) -> None:
    doc = itunes_lookup(corpus, f"{MARGIN.apple_app_id},{QUILL.apple_app_id},42", "gb")
    assert doc["resultCount"] == 2
    result = parse_lookup("https://x/lookup", json.dumps(doc), MARGIN.apple_app_id)
    assert result is not None
    assert result.name == MARGIN.name
    stars = [r.rating for r in corpus.for_target("apple_app_store", MARGIN.key, "gb")]
    assert result.average_rating == pytest.approx(sum(stars) / len(stars), abs=1e-4)
    assert result.rating_count > len(stars)  # ratings without text count too
    assert itunes_lookup(corpus, "42", "us") == {"resultCount": 0, "results": []}


# -- Google Play ---------------------------------------------------------------------------------


def _freq_body(package: str, token: str | None, count: int = 150) -> bytes:
    return urlencode({"f.req": gp_pages.reviews_freq(package, token, count)}).encode()


def test_play_pages_round_trip(corpus: DemoCorpus) -> None:
    expected = corpus.for_target("google_play", QUILL.key, "us", "en")
    got: list[dict[str, Any]] = []
    token: str | None = None
    pages = 0
    while True:
        text = play_batchexecute(corpus, _freq_body(QUILL.google_play_package or "", token, 40),
                                 "en", "us")
        assert text.startswith(")]}'\n\n[")
        page = gp_pages.parse_reviews("https://x/batchexecute", text,
                                      QUILL.google_play_package or "")
        got.extend(page.reviews)
        pages += 1
        token = page.next_token
        if token is None:
            break
    assert pages == -(-len(expected) // 40)
    assert [g["review_id"] for g in got] == [r.review_id for r in expected]
    exp = {r.review_id: r for r in expected}
    for g in got:
        r = exp[g["review_id"]]
        assert (g["rating"], g["text"], g["version"], g["published_at"]) == (
            r.rating, r.text, r.version, _iso(r.published_at))
        assert (g["reply_text"] is None) == (r.reply_text is None)


def test_play_envelope_and_tokens(corpus: DemoCorpus) -> None:
    pkg = MARGIN.google_play_package or ""
    text = play_batchexecute(corpus, _freq_body(pkg, None, 10), "en", "gb")
    rows = json.loads(text[text.index("["):])
    assert rows[0][:2] == ["wrb.fr", "UsvDTd"]
    assert rows[0][-1] == "generic"
    payload = json.loads(rows[0][2])
    assert len(payload[0]) == 10
    assert isinstance(payload[1][1], str)
    review = payload[0][0]
    assert len(review) == 17
    assert isinstance(review[5][0], int)
    # A token is bound to the query that issued it (app, language, country).
    from analysis.demo.server import BadRequest

    with pytest.raises(BadRequest):
        play_batchexecute(corpus, _freq_body(pkg, payload[1][1], 10), "en", "us")
    # The other rpc id (oCPfdb) is understood too.
    inner = json.dumps([None, [2, 2, [5, None, None], None, [None, None]], [pkg, 7]])
    body = urlencode({"f.req": json.dumps([[["oCPfdb", inner, None, "generic"]]])}).encode()
    text = play_batchexecute(corpus, body, "en", "us")
    assert json.loads(text[text.index("["):])[0][1] == "oCPfdb"
    # Unknown app: Google's empty payload.
    unknown = play_batchexecute(corpus, _freq_body("com.example.nothing", None), "en", "us")
    assert gp_pages.parse_reviews("https://x", unknown, "com.example.nothing").reviews == []


def test_play_details_read_by_our_parser(corpus: DemoCorpus) -> None:
    pkg = QUILL.google_play_package or ""
    html = play_details(corpus, pkg)
    assert html is not None
    details = gp_pages.parse_details("https://x/details", html)
    assert details.warnings == ()
    stars = [r.rating for r in corpus.for_target("google_play", QUILL.key)]
    assert details.name == QUILL.name
    assert details.review_count == len(stars)
    assert details.average_rating == pytest.approx(sum(stars) / len(stars), abs=1e-4)
    assert details.histogram is not None
    assert sum(details.histogram.values()) == details.rating_count
    assert play_details(corpus, "com.example.nothing") is None


# -- Trustpilot ----------------------------------------------------------------------------------


def test_trustpilot_pages_round_trip(corpus: DemoCorpus) -> None:
    domain = JOT.trustpilot_domain or ""
    expected = corpus.for_target("trustpilot", JOT.key)
    got: list[dict[str, Any]] = []
    page, total_pages = 1, None
    while total_pages is None or page <= total_pages:
        status, html = trustpilot_page(corpus, domain, {"page": [str(page)]} if page > 1 else {})
        assert status == 200
        parsed = parse_trustpilot_page("https://x/review", html, domain=domain, product=JOT.key,
                                       target="t", fetched_at="2026-11-01T00:00:00Z")
        assert parsed.via == "next_data"
        assert parsed.current_page == page
        total_pages = parsed.total_pages
        got.extend(parsed.reviews)
        page += 1
    assert total_pages == -(-len(expected) // TRUSTPILOT_PAGE_SIZE)
    assert [g["review_id"] for g in got] == [r.review_id for r in expected]
    exp = {r.review_id: r for r in expected}
    for g in got:
        r = exp[g["review_id"]]
        assert (g["rating"], g["text"], g["title"], g["published_at"]) == (
            r.rating, r.text, r.title, _iso(r.published_at))
        assert g["country"] == r.country
    assert parsed.app_meta is not None
    assert parsed.app_meta["review_count"] == len(expected)


def test_trustpilot_login_wall_and_filters(corpus: DemoCorpus) -> None:
    domain = MARGIN.trustpilot_domain or ""
    status, html = trustpilot_page(corpus, domain, {"page": ["11"]})
    parsed = parse_trustpilot_page("https://x", html, domain=domain, product="m", target="t",
                                   fetched_at="2026-11-01T00:00:00Z")
    assert status == 200
    assert parsed.redirect
    assert parsed.redirect.startswith("/users/connect")
    assert parsed.reviews == []
    status, html = trustpilot_page(corpus, domain, {"stars": ["1", "2"]})
    data = json.loads(re.search(r'id="__NEXT_DATA__" type="application/json">(.*?)</script>',
                                html).group(1))  # type: ignore[union-attr]
    assert {r["rating"] for r in data["props"]["pageProps"]["reviews"]} <= {1, 2}
    assert trustpilot_page(corpus, "nobody.example", {})[0] == 404


# -- the live server -----------------------------------------------------------------------------


def test_live_server_routes(demo_server: DemoServer) -> None:
    base = demo_server.base
    robots = urllib.request.urlopen(f"{base}/robots.txt").read().decode()
    assert "Disallow:\n" in robots
    assert "Disallow: /" not in robots
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{base}/nothing/here")
    assert err.value.code == 404
    assert demo_server.unmatched == ["GET /nothing/here"]
    bad = urllib.request.Request(f"{base}/_/PlayStoreUi/data/batchexecute?hl=en&gl=us",
                                 data=b"f.req=not-json")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(bad)
    assert err.value.code == 400


# -- real crawls with our spiders ----------------------------------------------------------------


def _reviews(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == "review"]


@deferred_f_from_coro_f
async def test_crawl_apple(demo_server: DemoServer, corpus: DemoCorpus) -> None:
    base = demo_server.base
    items, crawler = await crawl_items(
        AppleAppStoreSpider,
        {"REVIEWGAP_APPLE_RSS_BASE": base, "REVIEWGAP_APPLE_LOOKUP_BASE": base},
        app_id=MARGIN.apple_app_id, countries="us,gb", product=MARGIN.key)
    expected = corpus.for_target("apple_app_store", MARGIN.key)
    got = _reviews(items)
    assert {(i["review_id"], i["rating"], i["text"], i["published_at"]) for i in got} == {
        (k, *v) for k, v in _expected(expected).items()}
    assert {i["country"] for i in got} == {"us", "gb"}
    assert len([i for i in items if i["kind"] == "app_meta"]) == 2
    assert demo_server.unmatched == []
    assert not crawler.stats.get_value("reviewgap/failed")


@deferred_f_from_coro_f
async def test_crawl_google_play(demo_server: DemoServer, corpus: DemoCorpus) -> None:
    items, crawler = await crawl_items(
        GooglePlaySpider, {"REVIEWGAP_GOOGLE_PLAY_BASE": demo_server.base},
        package=QUILL.google_play_package, langs="en", countries="us,gb", product=QUILL.key)
    expected = corpus.for_target("google_play", QUILL.key)
    got = _reviews(items)
    assert {(i["review_id"], i["rating"], i["text"], i["published_at"]) for i in got} == {
        (k, *v) for k, v in _expected(expected).items()}
    metas = [i for i in items if i["kind"] == "app_meta"]
    assert metas
    assert all(m["review_count"] == len(expected) for m in metas)
    assert demo_server.unmatched == []
    assert not crawler.stats.get_value("reviewgap/failed")


@deferred_f_from_coro_f
async def test_crawl_trustpilot(demo_server: DemoServer, corpus: DemoCorpus) -> None:
    items, crawler = await crawl_items(
        TrustpilotSpider, {"REVIEWGAP_TRUSTPILOT_BASE": demo_server.base},
        domain=JOT.trustpilot_domain, product=JOT.key)
    expected = corpus.for_target("trustpilot", JOT.key)
    got = _reviews(items)
    assert {(i["review_id"], i["rating"], i["text"], i["published_at"]) for i in got} == {
        (k, *v) for k, v in _expected(expected).items()}
    assert all(i["url"].startswith("https://www.trustpilot.com/") for i in got)
    assert demo_server.unmatched == []
    assert not crawler.stats.get_value("reviewgap/failed")
