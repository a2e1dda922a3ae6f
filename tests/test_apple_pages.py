"""Unit tests of the Apple App Store parsers (spiders/pages/apple_app_store.py).

Real recorded feeds and lookup answers are read from ``../shared`` at run time; expected values
are computed from those files here, not copied into the repository.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiders.pages import PageFormatError, to_utc_iso
from spiders.pages.apple_app_store import (
    TruncatedBodyError,
    app_page_url,
    load_document,
    parse_lookup,
    parse_rss_page,
    parse_web_page,
)
from tests.support.apple_payloads import (
    APP_ID,
    app_entry,
    dumps,
    generated_reviews,
    lookup_answer,
    rss_entry,
    rss_feed,
    web_page,
    web_review,
)

NL_FEED = "appstore_rss/sanderdekoning-demo__nl_474495017_mostrecent_page1_2023-02.json"
LEGACY_FEED = "appstore_rss/kazucocoa__jp_375380948_2015-06_legacy_with_app_entry.json"
EMPTY_FEED = "appstore_rss/kazucocoa__empty_feed_no_entries.json"
URL = "https://itunes.apple.com/us/rss/customerreviews/page=1/id=1/sortby=mostrecent/json"


def _entries(path: Path) -> list[dict[str, Any]]:
    entries = json.loads(path.read_bytes())["feed"].get("entry", [])
    return entries if isinstance(entries, list) else [entries]


# -- RSS: real samples ---------------------------------------------------------------------


def test_rss_modern_sample_fields_match_the_feed(raw_fixtures: Path) -> None:
    path = raw_fixtures / NL_FEED
    entries = [e for e in _entries(path) if "im:rating" in e]
    page = parse_rss_page(URL, path.read_bytes())
    assert len(page.reviews) == len(entries) == 50
    assert page.is_full
    assert page.app_entries == 0
    for review, entry in zip(page.reviews, entries, strict=True):
        assert review["review_id"] == entry["id"]["label"]
        assert review["rating"] == int(entry["im:rating"]["label"])
        assert isinstance(review["rating"], int)
        assert review["version"] == entry["im:version"]["label"]
        assert review["helpful_count"] == int(entry["im:voteSum"]["label"])
        assert review["published_at"] == to_utc_iso(entry["updated"]["label"])
        assert review["published_at"].endswith("Z")
        assert "author" not in review
        assert "name" not in review
    # The first entry is dated 2023-02-01T05:06:45-07:00 (Pacific): 12:06:45 UTC.
    assert entries[0]["updated"]["label"] == "2023-02-01T05:06:45-07:00"
    assert page.reviews[0]["published_at"] == "2023-02-01T12:06:45Z"
    dates = [r["published_at"] for r in page.reviews]
    assert dates == sorted(dates, reverse=True), "the feed is newest first"


def test_rss_legacy_sample_skips_app_entry_and_has_no_dates(raw_fixtures: Path) -> None:
    path = raw_fixtures / LEGACY_FEED
    entries = _entries(path)
    rated = [e for e in entries if "im:rating" in e]
    page = parse_rss_page(URL, path.read_bytes())
    assert page.app_entries == len(entries) - len(rated) == 1
    assert [r["review_id"] for r in page.reviews] == [e["id"]["label"] for e in rated]
    assert all(r["published_at"] is None for r in page.reviews)
    assert {r["rating"] for r in page.reviews} <= {1, 2, 3, 4, 5}
    assert page.reviews[0]["text"] == rated[0]["content"]["label"].strip()


def test_rss_empty_sample_has_no_reviews(raw_fixtures: Path) -> None:
    page = parse_rss_page(URL, (raw_fixtures / EMPTY_FEED).read_bytes())
    assert page.reviews == []
    assert not page.is_full


# -- RSS: quirks and errors ----------------------------------------------------------------


def test_rss_single_entry_object_is_one_review() -> None:
    page = parse_rss_page(URL, dumps(rss_feed(rss_entry("77", rating=2))))
    assert [(r["review_id"], r["rating"]) for r in page.reviews] == [("77", 2)]


def test_rss_entry_without_date_version_votes_gives_none() -> None:
    entry = rss_entry("5", updated=None, version=None)
    del entry["im:voteSum"]
    (review,) = parse_rss_page(URL, dumps(rss_feed([entry]))).reviews
    assert review["published_at"] is None
    assert review["version"] is None
    assert review["helpful_count"] is None


def test_rss_text_is_plain() -> None:
    entry = rss_entry("5", title="  ", text="Crashes&amp;burns<br>on   login")
    (review,) = parse_rss_page(URL, dumps(rss_feed([entry]))).reviews
    assert review["text"] == "Crashes&burns on login"
    assert review["title"] is None


def test_rss_app_entry_only_is_an_empty_page() -> None:
    page = parse_rss_page(URL, dumps(rss_feed([app_entry()])))
    assert page.reviews == []
    assert page.app_entries == 1


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"nofeed": {}}, "no 'feed'"),
        ({"feed": []}, "feed is list"),
        ({"feed": {"entry": "x"}}, "feed.entry is str"),
        (rss_feed([{k: v for k, v in rss_entry("1").items() if k != "id"}]),
         "feed.entry[0] has no id"),
        (rss_feed([{"title": {"label": "x"}}]), "feed.entry[0] has no im:rating"),
        (rss_feed([rss_entry("1", rating=9)]), "im:rating '9' is not a rating"),
        (rss_feed([rss_entry("1", updated="yesterday")]), "updated 'yesterday' is not an ISO date"),
        (rss_feed([{**rss_entry("1"), "title": ["x"]}]), "feed.entry[0].title is list"),
        ([1, 2], "document is list"),
    ],
)
def test_rss_lost_structure_raises_page_format_error(payload: Any, problem: str) -> None:
    with pytest.raises(PageFormatError) as err:
        parse_rss_page(URL, dumps(payload))
    assert problem in str(err.value)
    assert str(err.value).startswith(URL)
    assert not isinstance(err.value, TruncatedBodyError)


def test_truncated_and_malformed_bodies_are_told_apart() -> None:
    body = dumps(rss_feed(generated_reviews(3)))
    for cut in (1, len(body) // 3, len(body) // 2, len(body) - 1):
        with pytest.raises(TruncatedBodyError):
            parse_rss_page(URL, body[:cut])
    with pytest.raises(TruncatedBodyError):
        parse_rss_page(URL, b"   ")
    with pytest.raises(PageFormatError) as err:
        parse_rss_page(URL, b"<html>Service Unavailable</html>")
    assert not isinstance(err.value, TruncatedBodyError)
    # A multi-byte character cut in half at the end is a truncation too.
    with pytest.raises(TruncatedBodyError):
        load_document(URL, '{"a": "é'.encode()[:-1])


def test_app_page_url_is_the_real_host() -> None:
    assert app_page_url("gb", "42", reviews=True) == "https://apps.apple.com/gb/app/id42?see-all=reviews"


# -- lookup --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "mywork-dragon__lookup_us_368677368_uber_2017-08.json",
        "mas-cli__lookup_mac-software_803453959_slack_2018.json",
        "mywork-dragon__lookup_us_2apps_bleacher_snapchat_2017-06.json",
        "johncosch__lookup_us_hubspot_2017.json",
    ],
)
def test_lookup_real_answers(raw_fixtures: Path, name: str) -> None:
    body = (raw_fixtures / "itunes_lookup" / name).read_bytes()
    results = json.loads(body)["results"]
    assert results, "every lookup sample names at least one app"
    for result in results:
        got = parse_lookup("lookup-url", body, str(result["trackId"]))
        assert got is not None
        assert got.name == result["trackName"]
        assert got.rating_count == result["userRatingCount"]
        assert got.average_rating == float(result["averageUserRating"])
        assert isinstance(got.rating_count, int)
        assert got.rating_count > 0
    assert parse_lookup("lookup-url", body, "1") is None


def test_lookup_missing_rating_count_is_zero_and_unknown_app_is_none() -> None:
    got = parse_lookup("u", dumps(lookup_answer(rating_count=None, average=None)), APP_ID)
    assert got is not None
    assert got.rating_count == 0
    assert got.average_rating is None
    assert parse_lookup("u", dumps(lookup_answer(found=False)), APP_ID) is None


@pytest.mark.parametrize(
    "payload",
    [{"resultCount": 1}, {"results": {"a": 1}}, {"results": [{"trackId": int(APP_ID),
                                                              "userRatingCount": "many"}]}],
)
def test_lookup_bad_shapes_raise(payload: dict[str, Any]) -> None:
    with pytest.raises(PageFormatError):
        parse_lookup("lookup-url", dumps(payload), APP_ID)


# -- web API -------------------------------------------------------------------------------


def test_web_page_fields_and_developer_reply() -> None:
    payload = web_page([web_review("900", rating=1, reply="We fixed <b>it</b>",
                                   reply_modified="2026-10-04T10:00:00+02:00"),
                        web_review("899", rating=5)], next_offset=20)
    page = parse_web_page("web-url", dumps(payload))
    first, second = page.reviews
    assert (first["review_id"], first["rating"], first["published_at"]) == (
        "900", 1, "2026-10-03T12:26:58Z")
    assert (first["reply_text"], first["reply_at"]) == ("We fixed it", "2026-10-04T08:00:00Z")
    assert first["version"] is None
    assert first["helpful_count"] is None
    assert second["reply_text"] is None
    assert second["reply_at"] is None
    assert page.next_path == f"/v1/catalog/us/apps/{APP_ID}/reviews?l=en-US&offset=20"
    assert parse_web_page("web-url", dumps(web_page([], None))).next_path is None


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"errors": [{"status": "401", "title": "Unauthorized"}]}, "Unauthorized"),
        ({"data": {}}, "data is dict"),
        ({"data": [{"attributes": {"rating": 3}}]}, "data[0] has no id"),
        ({"data": [{"id": "1"}]}, "data[0].attributes is NoneType"),
        ({"data": [{"id": "1", "attributes": {"rating": 0}}]}, "not a rating"),
        ({"data": [], "next": 20}, "next is int"),
    ],
)
def test_web_lost_structure_raises(payload: dict[str, Any], problem: str) -> None:
    with pytest.raises(PageFormatError) as err:
        parse_web_page("web-url", dumps(payload))
    assert problem in str(err.value)


# -- property: mangled payloads parse or raise PageFormatError, nothing else ---------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
_FIELDS = ["id", "im:rating", "title", "content", "updated", "im:version", "im:voteSum", "label"]


def _parse_all(body: bytes) -> None:
    for parse in (lambda b: parse_rss_page(URL, b), lambda b: parse_web_page("w", b),
                  lambda b: parse_lookup("l", b, APP_ID)):
        with contextlib.suppress(PageFormatError):  # the one allowed failure
            parse(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_json)
def test_property_random_json_parses_or_raises_page_format_error(doc: Any) -> None:
    _parse_all(json.dumps(doc).encode())
    _parse_all(dumps({"feed": {"entry": doc}}))
    _parse_all(dumps({"data": doc if isinstance(doc, list) else [doc], "next": None}))
    _parse_all(dumps({"results": [doc]}))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_property_truncated_bytes_parse_or_raise_page_format_error(data: st.DataObject) -> None:
    body = dumps(rss_feed(generated_reviews(2))) if data.draw(st.booleans()) else dumps(
        web_page([web_review("1", reply="ok")], 20))
    cut = data.draw(st.integers(min_value=0, max_value=len(body)))
    junk = data.draw(st.binary(max_size=3))
    _parse_all(body[:cut] + junk)


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(_FIELDS), value=_json, wrap=st.booleans())
def test_property_entries_with_wrong_types(field: str, value: Any, wrap: bool) -> None:
    entry = rss_entry("1")
    entry[field] = {"label": value} if wrap else value
    _parse_all(dumps(rss_feed([entry])))
    review = web_review("1", reply="r")
    web_keys = {"label": "review", "im:rating": "rating", "updated": "date"}
    key = web_keys.get(field, field)
    target = review if key == "id" else review["attributes"]
    target[key] = value
    _parse_all(dumps({"data": [review]}))
