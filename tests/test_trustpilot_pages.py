"""Tests of the pure Trustpilot page parser (spiders/pages/trustpilot.py).

Real pages come from ``../shared/fixtures/raw/trustpilot/`` (read at run time); expected counts
are computed from the fixture's own ``__NEXT_DATA__`` so nothing is hard-coded from a parser run.
Synthetic pages come from tests/support/trustpilot_payloads.py.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiders.items import REVIEW_KEYS
from spiders.pages import PageFormatError
from spiders.pages.trustpilot import (
    TrustpilotPage,
    is_bot_challenge,
    is_login_redirect,
    parse_trustpilot_page,
)
from tests.support import trustpilot_payloads as tp

BT = "bottasai-llmproject__review_bt.com_2023-05.html"
EVENTNET = "hallomax__review_eventnet.de_en-US_2024-06-19_bs4-prettified.html"
LEGACY = "johncosch__legacy_2016-2017_review_card_fragment.html"
COMMON: dict[str, str] = {
    "product": "p",
    "target": "trustpilot:p:d",
    "fetched_at": "2026-11-01T00:00:00Z",
}


def _read(raw_fixtures: Path, name: str) -> bytes:
    return (raw_fixtures / "trustpilot" / name).read_bytes()


def _next_data(body: bytes) -> dict[str, Any]:
    """The fixture's pageProps, read independently of the parser (a plain regex + json)."""
    match = re.search(rb'<script id="__NEXT_DATA__"[^>]*>(.*?)</script>', body, re.S)
    assert match, "fixture lost its __NEXT_DATA__"
    return json.loads(match.group(1))["props"]["pageProps"]


def _parse(body: bytes | str, domain: str = "d") -> TrustpilotPage:
    return parse_trustpilot_page(
        "https://www.trustpilot.com/review/d", body, domain=domain, **COMMON
    )


@pytest.mark.parametrize("name", [BT, EVENTNET])
def test_real_page_reviews_match_next_data(raw_fixtures: Path, name: str) -> None:
    body = _read(raw_fixtures, name)
    props = _next_data(body)
    page = _parse(body)
    assert page.via == "next_data"
    assert [r["review_id"] for r in page.reviews] == [r["id"] for r in props["reviews"]]
    assert [r["rating"] for r in page.reviews] == [r["rating"] for r in props["reviews"]]
    assert sum(r["reply_text"] is not None for r in page.reviews) == sum(
        1 for r in props["reviews"] if r.get("reply")
    )
    assert page.current_page == props["filters"]["pagination"]["currentPage"]
    assert page.total_pages == props["filters"]["pagination"]["totalPages"]
    for item in page.reviews:
        assert set(item) == set(REVIEW_KEYS)
        assert item["url"] == f"https://www.trustpilot.com/reviews/{item['review_id']}"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["published_at"])


def test_bt_page_field_values(raw_fixtures: Path) -> None:
    body = _read(raw_fixtures, BT)
    props = _next_data(body)
    page = _parse(body, domain="bt.com")
    assert len(page.reviews) == 20
    assert sum(r["reply_text"] is not None for r in page.reviews) == 12
    first, raw = page.reviews[0], props["reviews"][0]
    assert first["review_id"] == "6456378afe4e676d706281c4"
    assert first["rating"] == 1
    assert first["published_at"] == "2023-05-06T13:18:34Z"
    assert first["reply_at"] == "2023-05-06T14:54:03Z"
    assert first["country"] == "gb"
    assert first["language"] == "en"
    assert first["helpful_count"] == 0
    # Text is the fixture's with whitespace folded (compared at run time: no review text here).
    assert first["text"] == " ".join(raw["text"].split())
    assert first["title"] == raw["title"]
    assert first["reply_text"] == " ".join(raw["reply"]["message"].split())
    no_reply = next(r for r in page.reviews if r["review_id"] == "645683fa8dc7d0f8f1a85a58")
    assert no_reply["reply_text"] is None
    assert no_reply["reply_at"] is None
    meta = page.app_meta
    assert meta is not None
    assert meta["kind"] == "app_meta"
    assert meta["name"] == props["businessUnit"]["displayName"]
    assert meta["average_rating"] == props["businessUnit"]["trustScore"]
    assert meta["review_count"] == props["businessUnit"]["numberOfReviews"]
    ratings = props["filters"]["reviewStatistics"]["ratings"]
    assert meta["histogram"] == {
        "1": ratings["one"],
        "2": ratings["two"],
        "3": ratings["three"],
        "4": ratings["four"],
        "5": ratings["five"],
    }
    assert meta["rating_count"] == ratings["total"]
    assert meta["url"] == "https://www.trustpilot.com/review/bt.com"


def test_consumer_identity_is_never_read(raw_fixtures: Path) -> None:
    body = _read(raw_fixtures, EVENTNET)
    props = _next_data(body)
    page = _parse(body)
    ids = {r["consumer"]["id"] for r in props["reviews"]}
    dumped = json.dumps(page.reviews)
    assert not any(consumer_id in dumped for consumer_id in ids)
    assert all(set(r) == set(REVIEW_KEYS) for r in page.reviews)
    assert {r["language"] for r in page.reviews} == {r["language"] for r in props["reviews"]}


@pytest.mark.parametrize("name", [BT, EVENTNET])
def test_json_ld_fallback_agrees_with_next_data(raw_fixtures: Path, name: str) -> None:
    body = _read(raw_fixtures, name)
    stripped = re.sub(rb'<script id="__NEXT_DATA__".*?</script>', b"", body, flags=re.S)
    assert b"__NEXT_DATA__" not in stripped
    full, fallback = _parse(body), _parse(stripped)
    assert fallback.via == "json_ld"
    assert fallback.total_pages is None
    key = ("review_id", "rating", "published_at", "language", "title")
    assert [tuple(r[k] for k in key) for r in fallback.reviews] == [
        tuple(r[k] for k in key) for r in full.reviews
    ]
    assert fallback.app_meta is not None
    assert full.app_meta is not None
    assert fallback.app_meta["average_rating"] == full.app_meta["average_rating"]
    assert fallback.app_meta["review_count"] == full.app_meta["review_count"]


def test_legacy_fragment_is_a_format_error(raw_fixtures: Path) -> None:
    with pytest.raises(PageFormatError, match="neither __NEXT_DATA__ nor JSON-LD"):
        _parse(_read(raw_fixtures, LEGACY))


def test_layout_change_is_a_format_error_naming_the_url() -> None:
    with pytest.raises(PageFormatError) as info:
        _parse(tp.layout_changed_page())
    assert info.value.url == "https://www.trustpilot.com/review/d"


def test_interstitial_is_recognised_and_real_pages_are_not(raw_fixtures: Path) -> None:
    assert is_bot_challenge(tp.interstitial_page())
    assert is_bot_challenge(tp.interstitial_page().encode())
    for name in (BT, EVENTNET, LEGACY):
        assert not is_bot_challenge(_read(raw_fixtures, name)), name
    assert not is_bot_challenge(tp.layout_changed_page())


def test_next_data_login_redirect() -> None:
    page = _parse(tp.login_redirect_page("acme.example", 11))
    assert page.via == "redirect"
    assert page.reviews == []
    assert page.redirect is not None
    assert is_login_redirect(page.redirect)


@pytest.mark.parametrize(
    ("location", "login"),
    [
        ("/users/connect?redirect=%2Freview%2Fx", True),
        ("https://www.trustpilot.com/users/connect/", True),
        ("/review/other.com", False),
        ("https://www.trustpilot.com/review/x?page=2", False),
    ],
)
def test_is_login_redirect(location: str, login: bool) -> None:
    assert is_login_redirect(location) is login


def _synthetic(reviews: list[dict[str, Any]]) -> str:
    return tp.review_page("acme.example", reviews, 1, 1, len(reviews))


def test_synthetic_page_fields() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    page = _parse(_synthetic([tp.review(7, when, reply=True)]), domain="acme.example")
    (item,) = page.reviews
    assert item["review_id"] == "r0007"
    assert item["text"] == "Review number 7 is about mobile app. Second line & more."
    assert item["published_at"] == "2026-01-02T03:04:05Z"
    assert item["reply_at"] == "2026-01-02T05:04:05Z"
    assert item["helpful_count"] == 1
    assert page.app_meta is not None
    assert page.app_meta["histogram"] == {
        "1": 5,
        "2": 4,
        "3": 3,
        "4": 2,
        "5": 1,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rating", 7, r"reviews\[0\]\.rating 7"),
        ("rating", "5", r"reviews\[0\]\.rating '5'"),
        ("id", None, r"reviews\[0\] has no id"),
        ("dates", {"publishedDate": "yesterday"}, r"reviews\[0\]\.dates\.publishedDate"),
    ],
)
def test_bad_review_field_names_the_field(field: str, value: Any, message: str) -> None:
    review = tp.review(0, datetime(2026, 1, 1, tzinfo=UTC))
    review[field] = value
    with pytest.raises(PageFormatError, match=message):
        _parse(_synthetic([review]))


def test_missing_reviews_list_is_a_format_error() -> None:
    with pytest.raises(PageFormatError, match=r"pageProps\.reviews"):
        _parse(tp.next_data_page({"businessUnit": {}}))


def test_broken_next_data_json_is_a_format_error() -> None:
    body = tp.review_page("acme.example", [], 1, 1, 0).replace('"reviews": []', '"reviews": [')
    with pytest.raises(PageFormatError, match="not valid JSON"):
        _parse(body)


# -- property tests: anything either parses or raises PageFormatError -----------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_REVIEW_KEYS = ("id", "rating", "title", "text", "language", "likes", "dates", "reply", "consumer")


@st.composite
def _mangled_review(draw: st.DrawFn) -> Any:
    base = tp.review(draw(st.integers(0, 99)), datetime(2026, 1, 1, tzinfo=UTC), reply=True)
    for key in draw(st.lists(st.sampled_from(_REVIEW_KEYS), max_size=4)):
        base[key] = draw(_json)
    return draw(st.sampled_from([base, draw(_json)]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reviews=st.lists(_mangled_review(), max_size=3), unit=_json, filters=_json)
def test_mangled_next_data_parses_or_raises_format_error(
    reviews: list[Any], unit: Any, filters: Any
) -> None:
    body = tp.next_data_page({"reviews": reviews, "businessUnit": unit, "filters": filters})
    try:
        page = _parse(body)
    except PageFormatError:
        return
    assert all(1 <= r["rating"] <= 5 for r in page.reviews)


_SAMPLE = tp.review_page(
    "acme.example",
    [tp.review(i, datetime(2026, 1, 1, tzinfo=UTC), reply=True) for i in range(3)],
    1,
    1,
    3,
)


@st.composite
def _mangled_body(draw: st.DrawFn, original: str) -> str:
    body = original
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(body)))
        end = draw(st.integers(start, min(len(body), start + 200)))
        body = body[:start] + draw(st.text(max_size=30)) + body[end:]
    return body


@settings(max_examples=150, deadline=None)
@given(body=_mangled_body(_SAMPLE))
def test_mangled_html_parses_or_raises_format_error(body: str) -> None:
    try:
        page = _parse(body)
    except PageFormatError:
        return
    assert isinstance(page, TrustpilotPage)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300))
def test_arbitrary_bytes_parse_or_raise_format_error(data: bytes | str) -> None:
    with contextlib.suppress(PageFormatError):
        _parse(data)
    assert isinstance(is_bot_challenge(data), bool)
