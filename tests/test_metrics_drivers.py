"""Rating impact: difference of means with a Welch interval, net effect and ranking."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from analysis.metrics.drivers import rating_impact
from analysis.metrics.shares import MARKET


def _tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    ratings = [1, 2, 3, 4, 5, 5, 4]
    reviews = pd.DataFrame({"uid": [f"u{i}" for i in range(7)], "product": "p",
                            "rating": ratings})
    needs = pd.DataFrame({"uid": ["u0", "u1", "u2", "u6"], "product": "p",
                          "need": ["sync", "sync", "sync", "price"],
                          "rating": [1, 2, 3, 4]})
    return reviews, needs


def test_impact_and_welch_interval_by_hand() -> None:
    reviews, needs = _tables()
    out = rating_impact(reviews, needs, min_sample=3).set_index(["product", "need"])
    row = out.loc[("p", "sync")]
    # with: 1,2,3 (mean 2, var 1); without: 4,5,5,4 (mean 4.5, var 1/3)
    assert row["impact"] == pytest.approx(-2.5)
    se = (1 / 3 + (1 / 3) / 4) ** 0.5
    df = (1 / 3 + 1 / 12) ** 2 / ((1 / 3) ** 2 / 2 + (1 / 12) ** 2 / 3)
    t = stats.t.ppf(0.975, df)
    assert row["impact_lo"] == pytest.approx(-2.5 - t * se)
    assert row["impact_hi"] == pytest.approx(-2.5 + t * se)
    # Same interval as scipy's own Welch test.
    ci = stats.ttest_ind([1, 2, 3], [4, 5, 5, 4], equal_var=False).confidence_interval()
    assert (row["impact_lo"], row["impact_hi"]) == pytest.approx((ci.low, ci.high))
    # net effect = share x impact = mean(all) - mean(without)
    assert row["net_effect"] == pytest.approx(3 / 7 * -2.5)
    assert row["net_effect"] == pytest.approx(sum([1, 2, 3, 4, 5, 5, 4]) / 7 - 4.5)


def test_low_sample_cells_are_not_ranked() -> None:
    reviews, needs = _tables()
    out = rating_impact(reviews, needs, min_sample=3).set_index(["product", "need"])
    assert out.loc[("p", "sync"), "rank"] == 1
    assert out.loc[("p", "price"), "low_sample"]
    assert pd.isna(out.loc[("p", "price"), "rank"])
    assert out.loc[(MARKET, "sync"), "impact"] == pytest.approx(-2.5)


def test_frequent_and_costly_ranks_first() -> None:
    # "rare" costs 3 stars on 3 of 60 reviews; "common" costs 1 star on 30 of 60.
    n = 60
    ratings = [2] * 3 + [4] * 27 + [5] * 30
    reviews = pd.DataFrame({"uid": [f"u{i}" for i in range(n)], "product": "p",
                            "rating": ratings})
    rows = [(f"u{i}", "rare", ratings[i]) for i in range(3)]
    rows += [(f"u{i}", "common", ratings[i]) for i in range(3, 33)]
    needs = pd.DataFrame(rows, columns=["uid", "need", "rating"]).assign(product="p")
    out = rating_impact(reviews, needs, min_sample=3).set_index(["product", "need"])
    assert out.loc[("p", "rare"), "impact"] < out.loc[("p", "common"), "impact"]
    assert out.loc[("p", "common"), "rank"] == 1
    assert out.loc[("p", "rare"), "rank"] == 2
