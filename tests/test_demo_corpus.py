"""The demo corpus: reproducible, well-formed, and carrying the planted gaps of truth.py.

Every expected rate comes from :mod:`analysis.demo.truth`; tolerances are binomial (four standard
errors of the observed share for the sample it was measured on), so the tests hold for any seed.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from statistics import mean

import pytest

from analysis.demo import phrases, truth
from analysis.demo.corpus import DemoCorpus, DemoReview, generate_corpus


def _tol(p: float, n: int) -> float:
    """Four binomial standard errors of a share ``p`` measured on ``n`` reviews."""
    return 4 * math.sqrt(max(p * (1 - p), 0.01) / n)


def _fingerprint(c: DemoCorpus) -> list[tuple[object, ...]]:
    return [(r.source, r.product, r.review_id, r.rating, r.title, r.text,
             r.published_at.isoformat(), r.version, r.country) for r in c.reviews]


@pytest.fixture(scope="module")
def corpus() -> DemoCorpus:
    return generate_corpus(seed=7, reviews_per_app=300)


@pytest.fixture(scope="module", params=[1, 2024])
def other_seed_corpus(request: pytest.FixtureRequest) -> DemoCorpus:
    return generate_corpus(seed=request.param, reviews_per_app=300)


def test_same_seed_same_corpus(corpus: DemoCorpus) -> None:
    again = generate_corpus(seed=7, reviews_per_app=300)
    assert _fingerprint(again) == _fingerprint(corpus)


def test_different_seed_differs(corpus: DemoCorpus) -> None:
    other = generate_corpus(seed=8, reviews_per_app=300)
    assert len(other.reviews) == len(corpus.reviews)
    ids_a = {r.review_id for r in corpus.reviews}
    ids_b = {r.review_id for r in other.reviews}
    assert len(ids_a & ids_b) < 5
    assert [r.text for r in other.reviews[:50]] != [r.text for r in corpus.reviews[:50]]


def test_size_window_and_ids(corpus: DemoCorpus) -> None:
    counts = Counter(r.product for r in corpus.reviews)
    assert counts == {a.key: 300 for a in truth.APPS}
    months = {corpus.month_key(r) for r in corpus.reviews}
    assert len(months) == truth.MONTHS
    assert max(months) == truth.DEMO_END.strftime("%Y-%m")
    assert all(corpus.start <= r.published_at.date() <= corpus.end for r in corpus.reviews)
    keys = [(r.source, r.review_id) for r in corpus.reviews]
    assert len(keys) == len(set(keys))
    apple_ids = [r.review_id for r in corpus.reviews if r.source == "apple_app_store"]
    assert all(re.fullmatch(r"\d{11}", i) for i in apple_ids)


def test_sources_follow_each_apps_ids(corpus: DemoCorpus) -> None:
    for a in truth.APPS:
        sources = {r.source for r in corpus.by_product(a.key)}
        assert sources == set(a.source_weights)
        assert ("google_play" in sources) == bool(a.google_play_package)
        assert ("trustpilot" in sources) == bool(a.trustpilot_domain)
    # The demo must show multi-source data: at least two apps beyond the App Store.
    multi = [a for a in truth.APPS if len(a.source_weights) > 1]
    assert len(multi) >= 2


def test_text_is_filled_english_and_not_empty(corpus: DemoCorpus) -> None:
    for r in corpus.reviews:
        assert r.text, r
        assert not set("{}") & set(r.text), r.text
        assert r.text[0].isupper(), r.text
        assert r.text[-1] in ".!?", r.text
        assert r.language == "en"
        assert (r.title is None) == (r.source == "google_play")
        assert r.statements


def test_text_is_varied(corpus: DemoCorpus) -> None:
    texts = [r.text for r in corpus.reviews]
    # Several templates and slot values: most reviews are unique texts.
    assert len(set(texts)) > 0.8 * len(texts)
    sync = [r for r in corpus.reviews if r.has("sync_data")]
    sync_sentences = {s for r in sync for s in re.split(r"(?<=[.!?]) ", r.text)}
    assert len(sync_sentences) > 20


def test_material_covers_every_need_and_polarity() -> None:
    for need in truth.NEEDS:
        for polarity in truth.POLARITIES:
            templates = phrases.SENTENCES[need][polarity]
            assert len(templates) >= (4 if polarity == "complaint" else 2), (need, polarity)
            assert len(set(templates)) == len(templates)


def test_stars_agree_with_content(corpus: DemoCorpus) -> None:
    complaining = [r.rating for r in corpus.reviews
                   if any(s.polarity == "complaint" for s in r.statements)]
    happy = [r.rating for r in corpus.reviews
             if all(s.polarity == "praise" for s in r.statements)]
    assert mean(happy) - mean(complaining) > 1.2
    assert mean(happy) > 4.2
    assert all(1 <= r.rating <= 5 for r in corpus.reviews)


def test_versions_follow_the_release_calendar(corpus: DemoCorpus) -> None:
    for r in corpus.reviews:
        if r.source == "trustpilot":
            assert r.version is None
            continue
        released = {x.version: x.released for x in corpus.releases[r.product]}
        assert r.version in released
        assert released[r.version] <= r.published_at.date()


def _check_planted(c: DemoCorpus) -> None:
    others = lambda key: [a.key for a in truth.APPS if a.key != key]  # noqa: E731
    for g in truth.GAPS:
        if g.kind in ("competitor_weakness", "ours_lags"):
            assert g.product is not None
            n = len(c.by_product(g.product))
            share = c.complaint_share(g.product, g.need)
            assert abs(share - g.rate) < _tol(g.rate, n), (g.gap_id, share)
            rest = [c.complaint_share(k, g.need) for k in others(g.product)]
            assert max(rest) < g.rate / 2, (g.gap_id, rest)
            if g.kind == "ours_lags":
                assert truth.app(g.product).ours
        elif g.kind == "white_space":
            for a in truth.APPS:
                n = len(c.by_product(a.key))
                assert abs(c.complaint_share(a.key, g.need) - g.rate) < _tol(g.rate, n)
                praise = sum(r.has(g.need, "praise") for r in c.by_product(a.key)) / n
                assert praise < 0.05
        elif g.kind == "recent_jump":
            assert g.product is not None
            last = [r for r in c.by_product(g.product) if c.month_key(r) == c.last_month]
            earlier_months = sorted({c.month_key(r) for r in c.reviews} - {c.last_month})
            # Enough reviews in the jump month for a report's minimum sample (default 30).
            assert len(last) >= 40
            share = c.complaint_share(g.product, g.need, months=[c.last_month])
            before = c.complaint_share(g.product, g.need, months=earlier_months)
            assert abs(share - g.rate) < _tol(g.rate, len(last)), share
            assert before < g.baseline + 0.05
        elif g.kind == "switching":
            assert g.product is not None
            assert g.to_product is not None
            leaving = [r for r in c.by_product(g.product) if r.switch_to == g.to_product]
            assert len(leaving) >= 10
            name = truth.app(g.to_product).name
            assert all(name in r.text and r.has(g.need) for r in leaving)
            arriving = [r for r in c.by_product(g.to_product) if r.switch_from == g.product]
            assert arriving
            assert all(truth.app(g.product).name in r.text for r in arriving)
        elif g.kind == "bad_release":
            assert g.product is not None
            assert g.version is not None
            on = [r for r in c.by_product(g.product) if r.version == g.version]
            assert len(on) >= 30  # the report's default minimum sample
            share = c.complaint_share(g.product, g.need, version=g.version)
            assert abs(share - g.rate) < _tol(g.rate, len(on)), share
            off = [r for r in c.by_product(g.product) if r.version != g.version]
            off_share = sum(r.has(g.need) for r in off) / len(off)
            assert off_share < g.baseline + 0.05
        else:  # pragma: no cover - a new gap kind needs its own check here
            pytest.fail(f"no check for gap kind {g.kind!r}")


def test_planted_gaps_hold(corpus: DemoCorpus) -> None:
    _check_planted(corpus)


def test_planted_gaps_hold_for_other_seeds(other_seed_corpus: DemoCorpus) -> None:
    _check_planted(other_seed_corpus)


def test_jump_month_has_a_burst_of_reviews(corpus: DemoCorpus) -> None:
    jump = next(g for g in truth.GAPS if g.kind == "recent_jump")
    per_month = Counter(corpus.month_key(r) for r in corpus.by_product(jump.product or ""))
    usual = mean(v for k, v in per_month.items() if k != corpus.last_month)
    assert per_month[corpus.last_month] > 2 * usual


def test_too_few_reviews_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 24"):
        generate_corpus(reviews_per_app=10)


def test_review_has_helper() -> None:
    c = generate_corpus(seed=3, reviews_per_app=24)
    r: DemoReview = c.reviews[0]
    s = r.statements[0]
    assert r.has(s.need, s.polarity)
    assert not r.has("no_such_need")
