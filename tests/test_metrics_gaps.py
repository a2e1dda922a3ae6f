"""Gap tests: two-proportion z-test, Holm / Benjamini-Hochberg correction, comparators."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

from analysis.metrics.gaps import adjust, find_gaps, our_gaps, two_proportion_test
from analysis.metrics.shares import MARKET


def test_two_proportion_z_by_hand() -> None:
    # 30/100 vs 10/100: pooled p = 0.2, se = sqrt(.2 * .8 * (1/100 + 1/100))
    z, p = two_proportion_test(30, 100, 10, 100)
    assert z == pytest.approx(0.2 / math.sqrt(0.2 * 0.8 * 0.02))
    assert p == pytest.approx(2 * stats.norm.sf(z))
    assert two_proportion_test(0, 50, 0, 80) == (0.0, 1.0)


def test_holm_and_bh_adjustments_by_hand() -> None:
    p = pd.Series([0.01, 0.04, 0.03, float("nan")])
    # Holm: sorted 0.01*3, 0.03*2, 0.04*1 -> running max 0.03, 0.06, 0.06
    assert adjust(p, "holm").tolist()[:3] == pytest.approx([0.03, 0.06, 0.06])
    # BH: sorted 0.01*3/1, 0.03*3/2, 0.04*3/3 -> running min from the top 0.03, 0.04, 0.04
    assert adjust(p, "fdr_bh").tolist()[:3] == pytest.approx([0.03, 0.04, 0.04])
    assert math.isnan(adjust(p, "holm").iloc[3])


def _shares(rows: list[tuple[str, str, int, int, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["product", "need", "n_reviews", "n_mentions",
                                        "n_negative"])
    return pd.concat([frame, frame.assign(product=MARKET)], ignore_index=True)


def test_ours_against_market_and_best_competitor() -> None:
    shares = _shares([
        ("ours", "sync", 500, 120, 90), ("b", "sync", 500, 60, 20), ("c", "sync", 500, 60, 10),
        ("d", "sync", 500, 5, 0),  # lowest rate but too few mentions to be "best"
        ("ours", "price", 500, 50, 20), ("b", "price", 500, 50, 19), ("c", "price", 500, 50, 21),
        ("d", "price", 500, 50, 20),
        ("ours", "ads", 500, 10, 9), ("b", "ads", 500, 50, 2), ("c", "ads", 500, 50, 3),
        ("d", "ads", 500, 50, 1),
    ])
    gaps = find_gaps(shares, ours="ours", min_sample=30, alpha=0.05)
    sync = gaps.loc[gaps["need"] == "sync"].set_index("comparator")
    assert set(sync.index) == {"market", "best:c"}
    assert sync.loc["market", "k_ref"] == 30
    assert sync.loc["market", "n_ref"] == 1500
    assert sync.loc["best:c", "rate_ref"] == pytest.approx(10 / 500)
    assert sync["worse"].all()
    assert not gaps.loc[gaps["need"] == "price", "significant"].any()
    # ours has only 10 ads mentions: reported, never tested nor ranked
    ads = gaps.loc[gaps["need"] == "ads"]
    assert ads["low_sample"].all()
    assert ads["p"].isna().all()
    assert not ads["worse"].any()
    # Holm within the "market" family of 3 tests: p_adj >= p, at most 3x
    market = gaps.loc[gaps["comparator"] == "market"].dropna(subset=["p"])
    assert (market["p_adj"] >= market["p"]).all()
    top = our_gaps(gaps, "ours")
    assert top["need"].tolist() == ["sync"]
    assert top.loc[0, "best"] == "c"


def test_without_ours_each_product_against_the_rest() -> None:
    shares = _shares([
        ("a", "sync", 400, 100, 80), ("b", "sync", 400, 100, 20), ("c", "sync", 400, 100, 22),
    ])
    gaps = find_gaps(shares, ours=None, min_sample=30, alpha=0.05)
    assert set(gaps["comparator"]) == {"rest"}
    a = gaps.set_index("product").loc["a"]
    assert a["k_ref"] == 42
    assert a["n_ref"] == 800
    assert a["worse"]
    assert our_gaps(gaps, None)["product"].tolist() == ["a"]
