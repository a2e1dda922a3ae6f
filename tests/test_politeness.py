"""Politeness: robots.txt is obeyed and the User-Agent carries the operator's contact."""

from __future__ import annotations

from scrapy.utils.defer import deferred_f_from_coro_f

from spiders.sources.apple_app_store import AppleAppStoreSpider
from tests.support.apple_payloads import APP_ID, dumps, generated_reviews, lookup_answer, rss_feed
from tests.support.crawl import crawl_items
from tests.support.server import LocalServer, Resp

RSS = rf"/us/rss/customerreviews/page=\d+/id={APP_ID}/sortby=mostrecent/json"


def serve(server: LocalServer) -> None:
    server.route("GET", RSS, Resp(200, dumps(rss_feed(generated_reviews(10)))))
    server.route("GET", "/lookup", Resp(200, dumps(lookup_answer())))


@deferred_f_from_coro_f
async def test_user_agent_carries_the_contact(server: LocalServer) -> None:
    serve(server)
    items, _ = await crawl_items(
        AppleAppStoreSpider,
        {"REVIEWGAP_APPLE_RSS_BASE": server.base, "REVIEWGAP_APPLE_LOOKUP_BASE": server.base,
         "REVIEWGAP_CONTACT": "pm@acme.example"},
        app_id=APP_ID, countries="us",
    )
    assert len([i for i in items if i["kind"] == "review"]) == 10
    agents = {r.headers.get("user-agent") for r in server.requests}
    assert agents == {"reviewgap/0.1 (+https://github.com/reviewgap/reviewgap) "
                      "contact: pm@acme.example"}
    assert server.unmatched == []


@deferred_f_from_coro_f
async def test_robots_txt_disallow_is_obeyed(server: LocalServer) -> None:
    serve(server)
    server.route("GET", "/robots.txt",
                 Resp(200, "User-agent: *\nDisallow: /us/rss/\n", content_type="text/plain"))
    items, crawler = await crawl_items(
        AppleAppStoreSpider,
        {"REVIEWGAP_APPLE_RSS_BASE": server.base, "REVIEWGAP_APPLE_LOOKUP_BASE": server.base},
        app_id=APP_ID, countries="us",
    )
    assert [i for i in items if i["kind"] == "review"] == []
    assert server.count(RSS) == 0  # the feed was never asked for
    assert server.count("/lookup") == 1  # the lookup path is allowed
    stats = crawler.stats.get_stats()
    assert stats.get("robotstxt/forbidden", 0) >= 1
    # A page robots.txt forbids is a failed target, not a silent "no reviews".
    assert stats.get("reviewgap/failed") is True
