"""Tests of the pure schema.org markup parser (spiders/pages/schema_org.py).

Real pages come from ``../shared/fixtures/raw/`` (read at run time; expected numbers are computed
from the fixture's JSON-LD with plain ``json``). The small synthetic pages below are written for
these tests: one per edge case the research notes list (``@graph``, ``review`` as object or list,
``reviewRating`` as a bare string, ``bestRating`` missing or 10, RDFa, microdata, duplicates).
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spiders.items import REVIEW_KEYS
from spiders.pages import PageFormatError
from spiders.pages.schema_org import (
    SchemaOrgPage,
    next_page_url,
    parse_schema_org_page,
)
from tests.support.jsonld import jsonld_reviews

RECIPE = (
    "jsonld_reviews/"
    "recipe-scrapers__realmomnutrition.com_easy-lemonade_recipe_jsonld_100reviews.html"
)
BOOK = "jsonld_reviews/extruct__schemaorg_example_Book_jsonld_Review_edgecases.html"
PRODUCT = "other/extruct__schemaorg_example_Product_microdata_AggregateRating.html"
APPLE = "other/mywork-dragon__legacy_2017_apps.apple.com_uber_us_app_page_microdata.html"
GETAPP = "other/johncosch__legacy_2017_getapp_review_card_fragment.html"
NO_MARKUP = [
    "other/johncosch__legacy_2017_capterra_review_card_fragment.html",
    "other/johncosch__legacy_2017_trustradius_review_card_fragment.html",
    "trustpilot/johncosch__legacy_2016-2017_review_card_fragment.html",
]
URL = "https://shop.example/widget"


def _parse(body: bytes | str, url: str = URL, **kwargs: Any) -> SchemaOrgPage:
    return parse_schema_org_page(
        url,
        body,
        source="schema_org",
        product="p",
        target="schema_org:p:x",
        fetched_at="2026-11-01T00:00:00Z",
        **kwargs,
    )


def _ld(*nodes: Any) -> str:
    scripts = "".join(f'<script type="application/ld+json">{json.dumps(n)}</script>' for n in nodes)
    return (
        f"<!DOCTYPE html><html><head><title>t</title>{scripts}</head><body><p>x</p></body></html>"
    )




# -- real samples -------------------------------------------------------------------------------


def test_recipe_page_hundred_reviews(raw_fixtures: Path) -> None:
    body = (raw_fixtures / RECIPE).read_bytes()
    raw = jsonld_reviews(body)
    page = _parse(body, url="https://www.realmomnutrition.com/easy-lemonade/")
    assert len(page.reviews) == len(raw) == 100
    assert len({r["review_id"] for r in page.reviews}) == 100
    assert [r["rating"] for r in page.reviews] == [
        round(float(r["reviewRating"]["ratingValue"])) for r in raw
    ]
    assert sum(bool(r["text"]) for r in page.reviews) == sum(bool(r.get("reviewBody")) for r in raw)
    assert [r["published_at"][:10] for r in page.reviews] == [r["datePublished"][:10] for r in raw]
    assert all(set(r) == set(REVIEW_KEYS) for r in page.reviews)
    names = {r["author"]["name"] for r in raw}
    assert not any(name in json.dumps(page.reviews) for name in names if len(name) > 3)
    meta = page.app_meta
    assert meta is not None
    assert (meta["average_rating"], meta["review_count"]) == (4.6, 174)
    assert meta["name"]  # the Recipe's name
    assert page.problems == []


def test_book_edge_cases(raw_fixtures: Path) -> None:
    body = (raw_fixtures / BOOK).read_bytes()
    page = _parse(body)
    raw = jsonld_reviews(body)
    assert len(page.reviews) == len(raw) == 2
    # One rating is a Rating object, the other a bare string "4".
    assert [r["rating"] for r in page.reviews] == [5, 4]
    assert [r["published_at"] for r in page.reviews] == [
        "2006-05-04T00:00:00Z",
        "2006-06-15T00:00:00Z",
    ]
    assert [r["title"] for r in page.reviews] == [r["name"] for r in raw]
    assert all(r["language"] is None and r["url"] == URL for r in page.reviews)
    assert all(raw_r["author"] not in json.dumps(page.reviews) for raw_r in raw)  # author as string
    assert page.app_meta is not None
    assert (page.app_meta["average_rating"], page.app_meta["review_count"]) == (4.0, 3077)


def test_microdata_product_aggregate_only(raw_fixtures: Path) -> None:
    page = _parse((raw_fixtures / PRODUCT).read_bytes())
    assert page.reviews == []
    assert page.app_meta is not None
    assert (
        page.app_meta["name"],
        page.app_meta["average_rating"],
        page.app_meta["review_count"],
    ) == ("Executive Anvil", 4.4, 89)
    with pytest.raises(PageFormatError, match="expects reviews"):
        _parse((raw_fixtures / PRODUCT).read_bytes(), expect_reviews=True)


def test_legacy_apple_page_aggregate_with_text_count(raw_fixtures: Path) -> None:
    body = (raw_fixtures / APPLE).read_bytes()
    raw_count = re.search(rb'itemprop="reviewCount"[^>]*>\s*([\d,]+)', body)
    assert raw_count, "fixture lost its reviewCount"
    page = _parse(body)
    assert page.reviews == []  # its customer reviews carry no Review markup
    assert page.app_meta is not None
    assert page.app_meta["review_count"] == int(raw_count.group(1).replace(b",", b""))
    assert 1 <= page.app_meta["average_rating"] <= 5


def test_legacy_getapp_microdata_review_rescaled(raw_fixtures: Path) -> None:
    page = _parse((raw_fixtures / GETAPP).read_bytes())
    (review,) = page.reviews
    assert review["rating"] == 4  # 4.0 on a 0-5 scale: 1 + 4 * 4/5 = 4.2
    assert review["published_at"] == "2017-01-17T19:47:50Z"
    assert review["text"]
    assert page.app_meta is None


@pytest.mark.parametrize("name", NO_MARKUP)
def test_page_without_markup_is_a_format_error(raw_fixtures: Path, name: str) -> None:
    with pytest.raises(PageFormatError, match=r"no schema\.org Review or AggregateRating"):
        _parse((raw_fixtures / name).read_bytes())


# -- synthetic edge cases ---------------------------------------------------------------------


def _review(body: str, rating: Any = "5", **extra: Any) -> dict[str, Any]:
    return {"@type": "Review", "reviewBody": body, "reviewRating": rating, **extra}


def test_graph_single_review_object_and_reviews_key() -> None:
    page = _parse(
        _ld(
            {
                "@context": "https://schema.org",
                "@graph": [
                    {"@type": "Product", "name": "Widget", "review": _review("Graph one")},
                    {
                        "@type": "WebPage",
                        "mainEntity": {
                            "@type": "Product",
                            "reviews": [
                                _review(
                                    "Nested two",
                                    {"@type": "Rating", "ratingValue": 8, "bestRating": 10},
                                ),
                                _review("Nested three", {"ratingValue": "3", "worstRating": "1"}),
                            ],
                        },
                    },
                ],
            },
            [_review("Top-level list", 2)],
        )
    )
    assert [(r["text"], r["rating"]) for r in page.reviews] == [
        ("Graph one", 5),
        ("Nested two", 4),
        ("Nested three", 3),
        ("Top-level list", 2),
    ]


def test_own_ids_and_urls_are_used_unless_shared() -> None:
    page = _parse(
        _ld(
            [
                _review("a", **{"@id": "https://shop.example/r/1"}),
                _review("b", url="/r/2"),
                _review("c", url=URL),  # the page itself: not an identity
                _review("d", url="https://shop.example/same"),
                _review("e", url="https://shop.example/same"),
            ]
        )
    )
    ids = [r["review_id"] for r in page.reviews]
    assert ids[:2] == ["https://shop.example/r/1", "https://shop.example/r/2"]
    assert all(re.fullmatch(r"[0-9a-f]{40}", i) for i in ids[2:])
    assert len(set(ids)) == 5
    assert page.reviews[1]["url"] == "https://shop.example/r/2"


def test_hash_ids_are_stable_across_pages_of_a_target() -> None:
    nodes = _ld([_review("same words", datePublished="2026-01-05")])
    first = _parse(
        nodes, url="https://shop.example/widget?page=1", id_base="https://shop.example/widget"
    )
    moved = _parse(
        nodes, url="https://shop.example/widget?page=3", id_base="https://shop.example/widget"
    )
    assert first.reviews[0]["review_id"] == moved.reviews[0]["review_id"]
    other = _parse(
        nodes, url="https://shop.example/widget?page=1", id_base="https://other.example/"
    )
    assert other.reviews[0]["review_id"] != first.reviews[0]["review_id"]


def test_same_review_in_json_ld_and_microdata_is_kept_once() -> None:
    html = _ld([_review("Twice marked up", "4", name="Dup")]).replace(
        "<p>x</p>",
        '<div itemscope itemtype="https://schema.org/Review"><span itemprop="name">Dup</span>'
        '<span itemprop="reviewBody">Twice marked up</span>'
        '<div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating">'
        '<meta itemprop="ratingValue" content="4"></div></div>',
    )
    page = _parse(html)
    assert [r["text"] for r in page.reviews] == ["Twice marked up"]
    assert [p.kind for p in page.problems] == ["duplicate"]


def test_rdfa_reviews_and_aggregate() -> None:
    html = (
        '<html><body><div vocab="https://schema.org/" typeof="Product">'
        '<span property="name">Gizmo</span>'
        '<div property="aggregateRating" typeof="AggregateRating">'
        '<span property="ratingValue">8.2</span>'
        '<meta property="bestRating" content="10"><span property="ratingCount">31</span></div>'
        '<div property="review" typeof="Review"><span property="name">Solid</span>'
        '<div property="reviewRating" typeof="Rating"><span property="ratingValue">9</span>'
        '<meta property="bestRating" content="10"><meta property="worstRating" content="0"></div>'
        '<meta property="datePublished" content="2025-03-01">'
        '<p property="reviewBody">Syncs fast.</p>'
        '<span property="author" typeof="Person"><span property="name">Somebody</span></span></div>'
        '<div property="review" typeof="Review"><span property="reviewBody">Second</span>'
        '<span property="reviewRating">3</span></div></div></body></html>'
    )
    page = _parse(html)
    assert sorted((r["text"], r["rating"], r["published_at"]) for r in page.reviews) == [
        ("Second", 3, None),
        ("Syncs fast.", 5, "2025-03-01T00:00:00Z"),
    ]
    assert "Somebody" not in json.dumps(page.reviews)
    assert page.app_meta is not None
    assert (
        page.app_meta["name"],
        page.app_meta["average_rating"],
        page.app_meta["rating_count"],
    ) == ("Gizmo", 4.2, 31)


def test_unreadable_fields_become_none_and_are_reported() -> None:
    page = _parse(
        _ld(
            [
                _review("bad rating", "eleven"),
                _review("out of scale", {"ratingValue": 9}),
                _review("bad date", "4", datePublished="last Tuesday"),
                {"@type": "Review", "author": "Nobody"},  # nothing to keep
            ]
        )
    )
    assert [(r["text"], r["rating"], r["published_at"]) for r in page.reviews] == [
        ("bad rating", None, None),
        ("out of scale", None, None),
        ("bad date", 4, None),
    ]
    kinds = [p.kind for p in page.problems]
    assert kinds == ["bad_rating", "bad_rating", "bad_date", "empty_review"]
    assert all(p.message.startswith(URL) for p in page.problems)


def test_broken_json_ld_block_beside_a_good_one() -> None:
    html = _ld([_review("kept", "5")]).replace(
        "</head>", '<script type="application/ld+json">{"@type": "Review", </script></head>'
    )
    page = _parse(html)
    assert [r["text"] for r in page.reviews] == ["kept"]
    assert [p.kind for p in page.problems] == ["broken_markup"]


def test_only_broken_json_ld_is_a_format_error_naming_it() -> None:
    html = (
        '<html><head><script type="application/ld+json">{"@type": "Review", "reviewBody": '
        "</script></head></html>"
    )
    with pytest.raises(PageFormatError, match=r"JSON-LD block #1 is not valid JSON") as info:
        _parse(html)
    assert info.value.url == URL


@pytest.mark.parametrize("body", [b"", b"   ", "\x00\x01"])
def test_empty_or_binary_body_is_a_format_error(body: bytes | str) -> None:
    with pytest.raises(PageFormatError):
        _parse(body)


def test_language_tags() -> None:
    page = _parse(_ld([_review("a", inLanguage="en-US"), _review("b", inLanguage="English")]))
    assert [r["language"] for r in page.reviews] == ["en", None]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<a class="next" href="?page=2">Next</a>', "https://shop.example/widget?page=2"),
        ('<link rel="next" href="https://shop.example/w/2">', "https://shop.example/w/2"),
        ('<li class="next"><a href="/w/3">3</a></li>', "https://shop.example/w/3"),
        ('<a class="next" href="#">Next</a>', None),
        ('<a class="prev" href="/w/0">Prev</a>', None),
    ],
)
def test_next_page_url(html: str, expected: str | None) -> None:
    assert (
        next_page_url(
            URL, f"<html><head></head><body>{html}</body></html>", ".next, link[rel=next]"
        )
        == expected
    )


# -- property tests ------------------------------------------------------------------------------

_scalar = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_keys = st.sampled_from(
    [
        "@type",
        "@graph",
        "@id",
        "review",
        "reviews",
        "mainEntity",
        "reviewRating",
        "ratingValue",
        "bestRating",
        "worstRating",
        "datePublished",
        "reviewBody",
        "name",
        "url",
        "inLanguage",
        "aggregateRating",
        "reviewCount",
        "ratingCount",
        "itemReviewed",
    ]
)
_types = st.sampled_from(
    [
        "Review",
        "Rating",
        "AggregateRating",
        "Product",
        "http://schema.org/Review",
        ["Review", "Thing"],
    ]
)
_json = st.recursive(
    _scalar | _types,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes=st.lists(_json, min_size=1, max_size=3))
def test_arbitrary_json_ld_parses_or_raises_format_error(nodes: list[Any]) -> None:
    try:
        page = _parse(_ld(*nodes))
    except PageFormatError:
        return
    for review in page.reviews:
        assert review["rating"] is None or 1 <= review["rating"] <= 5
        assert set(review) == set(REVIEW_KEYS)


_SAMPLE = _ld(
    {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": "W",
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": "4.5", "reviewCount": 2},
        "review": [_review("first review text", "4"), _review("second one", "5")],
    }
).replace(
    "<p>x</p>",
    '<div itemscope itemtype="https://schema.org/Review">'
    '<span itemprop="reviewBody">md</span></div>'
    '<a class="next" href="/p2">next</a>',
)


@st.composite
def _mangled(draw: st.DrawFn, original: str) -> str:
    body = original
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(body)))
        end = draw(st.integers(start, min(len(body), start + 120)))
        body = body[:start] + draw(st.text(max_size=20)) + body[end:]
    return body


@settings(max_examples=200, deadline=None)
@given(body=_mangled(_SAMPLE))
def test_mangled_html_parses_or_raises_format_error(body: str) -> None:
    with contextlib.suppress(PageFormatError):
        page = _parse(body, next_selector="a.next")
        assert isinstance(page, SchemaOrgPage)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bodies_parse_or_raise_format_error(data: bytes | str) -> None:
    with contextlib.suppress(PageFormatError):
        assert isinstance(_parse(data), SchemaOrgPage)
