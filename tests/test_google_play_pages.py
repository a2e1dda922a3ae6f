"""Tests of spiders/pages/google_play.py: the reviews envelope and details page parsers.

Real samples are read from ../shared at run time; synthetic bodies come from
tests/support/google_play_payloads.py.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import extruct
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiders.pages import PageFormatError
from spiders.pages.google_play import (
    RpcErrorEnvelope,
    envelope_rows,
    parse_details,
    parse_reviews,
    reviews_freq,
)
from tests.support.google_play_payloads import (
    empty_body,
    envelope,
    error_body,
    review_array,
    reviews_body,
)

PKG = "com.google.android.apps.translate"
URL = "https://play.google.com/_/PlayStoreUi/data/batchexecute?hl=en&gl=us"
PAGE1 = "mradex77__reviews_batchexecute_UsvDTd_translate_newest_initial_2026-07.txt"
PAGE2 = "mradex77__reviews_batchexecute_UsvDTd_translate_newest_page2_2026-07.txt"
DETAILS = "mradex77__details_com.google.android.apps.translate_en_us_2026.html"


def raw_payload(body: bytes) -> list[Any]:
    """The payload decoded the plain way (test-side, independent of the parser)."""
    rows = json.loads(body[body.index(b"["):])
    return json.loads(rows[0][2])


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def gp_dir(raw_fixtures: Path) -> Path:
    return raw_fixtures / "google_play"


# -- real reviews pages ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [PAGE1, PAGE2])
def test_real_reviews_page_fields_match_the_raw_arrays(gp_dir: Path, name: str) -> None:
    body = (gp_dir / name).read_bytes()
    raw = raw_payload(body)
    page = parse_reviews(URL, body, PKG)

    assert len(page.reviews) == len(raw[0]) == 150
    assert page.next_token == raw[1][1]
    assert len(page.next_token) > 50
    assert len({r["review_id"] for r in page.reviews}) == 150
    for review, arr in zip(page.reviews, raw[0], strict=True):
        assert review["review_id"] == arr[0]
        assert type(review["rating"]) is int
        assert review["rating"] == arr[2]
        assert review["published_at"] == iso(arr[5][0])
        assert review["helpful_count"] == arr[6]
        assert review["version"] == arr[10]
        assert review["title"] is None
        assert review["text"] == " ".join(arr[4].split())
        assert review["url"] == f"https://play.google.com/store/apps/details?id={PKG}&reviewId={arr[0]}"
        if arr[7]:
            assert review["reply_text"] == " ".join(arr[7][1].split())
            assert review["reply_at"] == iso(arr[7][2][0])
        else:
            assert review["reply_text"] is None
            assert review["reply_at"] is None
    replies = sum(1 for arr in raw[0] if arr[7])
    assert replies > 0
    assert sum(1 for r in page.reviews if r["reply_text"]) == replies


def test_real_pages_are_disjoint_and_page2_is_older(gp_dir: Path) -> None:
    p1 = parse_reviews(URL, (gp_dir / PAGE1).read_bytes(), PKG)
    p2 = parse_reviews(URL, (gp_dir / PAGE2).read_bytes(), PKG)
    assert not {r["review_id"] for r in p1.reviews} & {r["review_id"] for r in p2.reviews}
    assert p1.next_token != p2.next_token
    assert min(r["published_at"] for r in p1.reviews) >= max(r["published_at"] for r in p2.reviews)


@pytest.mark.parametrize("cut", [10, 1000, 60_000, -3])
def test_truncated_real_page_raises_page_format_error_naming_the_url(gp_dir: Path,
                                                                      cut: int) -> None:
    body = (gp_dir / PAGE1).read_bytes()[:cut]
    with pytest.raises(PageFormatError) as exc:
        parse_reviews(URL, body, PKG)
    assert URL in str(exc.value)


# -- synthetic envelopes -----------------------------------------------------------------------


def test_utc_timestamps_replies_and_versions_from_synthetic_reviews() -> None:
    body = reviews_body([
        review_array("a", 1, "  slow\n\nsync ", 0, helpful=3, version="2.1",
                     reply=("We  fixed it", 86_400 + 3_661)),
        review_array("b", 5, None, 1_700_000_000, nanos=999_999_999),
    ], "next")
    page = parse_reviews(URL, body, "com.example.app")
    a, b = page.reviews
    assert (a["published_at"], a["reply_at"]) == ("1970-01-01T00:00:00Z", "1970-01-02T01:01:01Z")
    assert (a["text"], a["reply_text"], a["helpful_count"], a["version"]) == (
        "slow sync", "We fixed it", 3, "2.1")
    assert (b["published_at"], b["text"], b["reply_text"]) == ("2023-11-14T22:13:20Z", "", None)
    assert page.next_token == "next"


def test_plain_text_keeps_angle_brackets_and_ampersands() -> None:
    body = reviews_body([review_array("a", 5, "I <3 it & a<b>c", 0)], None)
    assert parse_reviews(URL, body, "com.example.app").reviews[0]["text"] == "I <3 it & a<b>c"


def test_length_prefixed_framing_parses_like_plain() -> None:
    reviews = [review_array(f"id{i}", 1 + i % 5, f"text {i}", 1000 + i) for i in range(5)]
    plain = parse_reviews(URL, reviews_body(reviews, "t"), "com.example.app")
    chunked_body = reviews_body(reviews, "t", chunked=True)
    assert re.search(rb"^\d+$", chunked_body, re.M)  # the framing really has length lines
    assert parse_reviews(URL, chunked_body, "com.example.app") == plain


def test_last_page_has_no_token_and_empty_payload_is_no_reviews() -> None:
    last = parse_reviews(URL, reviews_body([review_array("z", 3, "ok", 5)], None), "com.a.b")
    assert (len(last.reviews), last.next_token) == (1, None)
    empty = parse_reviews(URL, empty_body(), "com.a.b")
    assert (empty.reviews, empty.next_token) == ([], None)


def test_error_envelope_is_an_rpc_error_naming_play_data_error() -> None:
    with pytest.raises(RpcErrorEnvelope, match="PlayDataError") as exc:
        parse_reviews(URL, error_body(), "com.a.b")
    assert isinstance(exc.value, PageFormatError)
    assert URL in str(exc.value)


def test_trailing_nulls_dropped_by_google_still_parse() -> None:
    short = review_array("s", 4, "short", 10)[:6]  # ends at the timestamp
    review = parse_reviews(URL, reviews_body([short], None), "com.a.b").reviews[0]
    assert (review["helpful_count"], review["version"], review["reply_text"]) == (None, None, None)


@pytest.mark.parametrize(("index", "value", "field"), [
    (0, None, "review id"), (2, "5", "rating"), (2, 6, "rating"), (2, True, "rating"),
    (4, 17, "text"), (5, "yesterday", "timestamp"), (6, -1, "thumbs-up"),
    (7, "thanks", "developer reply"), (10, 3.1, "version"),
])
def test_wrong_type_at_an_index_is_a_format_error_naming_it(index: int, value: Any,
                                                            field: str) -> None:
    arr = review_array("x", 3, "t", 10)
    arr[index] = value
    with pytest.raises(PageFormatError, match=rf"payload\[0\]\[0\]\[{index}\] \({field}"):
        parse_reviews(URL, reviews_body([arr], None), "com.a.b")


def test_missing_rpc_row_and_non_json_are_format_errors() -> None:
    with pytest.raises(PageFormatError, match=r"no .*wrb\.fr"):
        parse_reviews(URL, b")]}'\n\n[[\"di\",1]]", "com.a.b")
    with pytest.raises(PageFormatError, match="no JSON array"):
        parse_reviews(URL, b"<html>consent</html>", "com.a.b")
    with pytest.raises(PageFormatError, match="not valid JSON"):
        parse_reviews(URL, envelope("[[[\"a\""), "com.a.b")


def test_reviews_freq_asks_newest_150_with_the_token() -> None:
    outer = json.loads(reviews_freq("com.a.b", "TOKEN"))
    assert outer[0][0][0] == "UsvDTd"
    inner = json.loads(outer[0][0][1])
    assert inner[2][1] == 2
    assert inner[2][2] == [150, None, "TOKEN"]
    assert inner[3] == ["com.a.b", 7]


# -- property: mangled envelopes parse or raise PageFormatError, nothing else -----------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=4), inner,
                                                                 max_size=3),
    max_leaves=20,
)


def _checked(body: bytes) -> None:
    try:
        page = parse_reviews(URL, body, "com.a.b")
    except PageFormatError as exc:
        error = str(exc)
    else:
        error = None
        assert all(1 <= r["rating"] <= 5 and r["review_id"] for r in page.reviews)
        assert page.next_token is None or isinstance(page.next_token, str)
    if error is not None:
        assert URL in error


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=_json)
def test_property_random_json_payload(payload: Any) -> None:
    _checked(envelope(json.dumps(payload)))


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_property_wrong_type_at_each_review_index(data: st.DataObject) -> None:
    arr = review_array("x", 3, "t", 10, reply=("r", 20), version="1")
    index = data.draw(st.integers(0, 16))
    arr[index] = data.draw(_json)
    token = data.draw(st.none() | _json)
    _checked(envelope(json.dumps([[arr], [None, token]])))


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(0, 2000), junk=st.binary(max_size=20))
def test_property_truncated_or_corrupted_bytes(cut: int, junk: bytes) -> None:
    body = reviews_body([review_array(f"i{i}", 2, "words", i) for i in range(8)], "tok")
    _checked(body[:cut] + junk)


@settings(max_examples=150, deadline=None)
@given(rows=_json)
def test_property_random_envelope_rows(rows: Any) -> None:
    body = b")]}'\n\n" + json.dumps(rows).encode()
    with contextlib.suppress(PageFormatError):
        assert isinstance(envelope_rows(URL, body), list)
    _checked(body)


# -- details page ------------------------------------------------------------------------------


def test_real_details_page_json_ld_first_then_ds5(gp_dir: Path) -> None:
    html = (gp_dir / DETAILS).read_text("utf-8")
    details = parse_details("https://play.google.com/store/apps/details?id=x", html)
    ld = next(n for n in extruct.extract(html, syntaxes=["json-ld"])["json-ld"]
              if n.get("@type") == "SoftwareApplication")

    assert details.warnings == ()
    assert details.name == ld["name"]
    assert details.average_rating == pytest.approx(float(ld["aggregateRating"]["ratingValue"]))
    assert details.average_rating == pytest.approx(4.265, abs=5e-4)
    assert details.rating_count == int(ld["aggregateRating"]["ratingCount"])
    # ds:5 stores each count as ["<formatted>", n]: the pair must be in the page as such.
    assert details.review_count is not None
    assert details.review_count < details.rating_count
    assert f'["{details.review_count:,}",{details.review_count}]' in html
    assert details.histogram is not None
    assert sorted(details.histogram) == ["1", "2", "3", "4", "5"]
    for n in details.histogram.values():
        assert f'["{n:,}",{n}]' in html
    assert sum(details.histogram.values()) == pytest.approx(details.rating_count, rel=1e-4)


def test_details_without_data_blocks_warns_and_keeps_json_ld(gp_dir: Path) -> None:
    html = (gp_dir / DETAILS).read_text("utf-8").replace("AF_initDataCallback", "AF_renamed")
    details = parse_details("u", html)
    assert details.average_rating == pytest.approx(4.265, abs=5e-4)
    assert details.review_count is None
    assert details.histogram is None
    assert any("AF_initDataCallback" in w for w in details.warnings)
    assert "no review_count" in details.warnings


def test_details_without_json_ld_reads_ds5(gp_dir: Path) -> None:
    html = (gp_dir / DETAILS).read_text("utf-8").replace("application/ld+json", "text/plain")
    details = parse_details("u", html)
    assert "no JSON-LD SoftwareApplication" in details.warnings
    assert details.name
    assert details.rating_count
    assert details.histogram
    assert details.average_rating == pytest.approx(4.265, abs=5e-4)


def test_details_page_with_neither_block_is_a_format_error() -> None:
    with pytest.raises(PageFormatError, match=r"consent\.example: no JSON-LD"):
        parse_details("https://consent.example", "<html><body>Before you continue</body></html>")
