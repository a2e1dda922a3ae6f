"""Wilson intervals, per product x need shares and product summaries on hand-computed tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.metrics.shares import MARKET, need_shares, product_summary, wilson_interval


def test_wilson_interval_matches_hand_computation() -> None:
    # 8/10 at 95%: centre (0.8 + z²/20)/(1 + z²/10), half-width z·sqrt(.016 + z²/400)/(1 + z²/10)
    z = 1.959963984540054
    denom = 1 + z**2 / 10
    centre = (0.8 + z**2 / 20) / denom
    half = z * math.sqrt(0.8 * 0.2 / 10 + z**2 / 400) / denom
    low, high = wilson_interval(8, 10)
    assert float(low) == pytest.approx(centre - half)
    assert float(high) == pytest.approx(centre + half)
    assert (round(float(low), 3), round(float(high), 3)) == (0.490, 0.943)


def test_wilson_interval_edges() -> None:
    low, high = wilson_interval(np.array([0, 10, 0]), np.array([10, 10, 0]))
    assert low[0] == 0.0
    assert high[0] == pytest.approx(0.2775, abs=1e-4)
    assert high[1] == pytest.approx(1.0)
    assert low[1] == pytest.approx(1 - 0.2775, abs=1e-4)
    assert math.isnan(low[2])
    assert math.isnan(high[2])


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    reviews = pd.DataFrame({
        "uid": ["a1", "a2", "a3", "a4", "b1", "b2"],
        "product": ["a", "a", "a", "a", "b", "b"],
        "rating": [1, 2, 5, 4, 3, 5],
        "sentiment": ["negative", "negative", "positive", "positive", "neutral", "positive"],
        "published_at": pd.to_datetime(["2025-01-01"] * 6, utc=True),
    })
    needs = pd.DataFrame({
        "uid": ["a1", "a2", "a3", "b1"],
        "product": ["a", "a", "a", "b"],
        "need": ["sync", "sync", "sync", "sync"],
        "rating": [1, 2, 5, 3],
        "sentiment_score": [-0.8, -0.6, 0.9, 0.0],
        "negative": [True, True, False, False],
    })
    return reviews, needs


def test_need_shares_counts_rates_and_low_sample() -> None:
    reviews, needs = _tables()
    out = need_shares(reviews, needs, min_sample=3, need_ids=["sync", "price"])
    a = out.set_index(["product", "need"]).loc[("a", "sync")]
    assert (a["n_reviews"], a["n_mentions"], a["n_negative"]) == (4, 3, 2)
    assert a["share"] == pytest.approx(3 / 4)
    assert a["neg_share"] == pytest.approx(2 / 3)
    assert a["complaint_rate"] == pytest.approx(2 / 4)
    assert a["mean_stars"] == pytest.approx((1 + 2 + 5) / 3)
    assert a["aspect_sentiment"] == pytest.approx((-0.8 - 0.6 + 0.9) / 3)
    assert not a["low_sample"]
    b = out.set_index(["product", "need"]).loc[("b", "sync")]
    assert b["low_sample"]
    assert b["n_mentions"] == 1
    # A need nobody mentions is still a row, with zero counts (not missing).
    price = out.set_index(["product", "need"]).loc[("a", "price")]
    assert price["n_mentions"] == 0
    assert price["share"] == 0.0
    market = out.set_index(["product", "need"]).loc[(MARKET, "sync")]
    assert (market["n_reviews"], market["n_mentions"], market["n_negative"]) == (6, 4, 2)


def test_product_summary_formulas() -> None:
    reviews, _ = _tables()
    out = product_summary(reviews).set_index("product")
    assert out.loc["a", "mean_stars"] == pytest.approx(3.0)
    assert out.loc["a", "pos_share"] == pytest.approx(0.5)
    assert out.loc["a", "net_sentiment"] == pytest.approx(0.0)
    assert out.loc["b", "net_sentiment"] == pytest.approx(0.5)
