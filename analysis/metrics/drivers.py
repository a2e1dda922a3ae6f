"""Rating impact (key drivers): how many stars a need costs or earns, per product and market.

Stage: analyse. In: ``review_table`` and ``need_table`` (:mod:`.frames`). Out: ``rating_impact``
frame, one row per product x need (plus ``MARKET`` rows pooling all products)::

    product, need, n_with, n_without, mean_with, mean_without, impact, impact_lo, impact_hi,
    share, net_effect, low_sample, rank

Formulas (ratings of the product's rated reviews; A = reviews mentioning the need, B = the rest):

* ``impact = mean(A) - mean(B)`` stars (negative: the need costs stars);
* Welch interval: ``impact ± t(df)·sqrt(s²A/nA + s²B/nB)`` with Welch-Satterthwaite
  ``df = (s²A/nA + s²B/nB)² / ((s²A/nA)²/(nA-1) + (s²B/nB)²/(nB-1))``;
* ``net_effect = share · impact`` where ``share = nA / (nA + nB)``: exactly how far the
  product's average rating sits from what it would be if the need's reviews rated like the rest
  (``mean(all) - mean(B)``); it is what makes "frequent *and* costly" rank first;
* ``rank``: 1 = largest cost (most negative ``net_effect``) among cells with
  ``nA >= min_sample`` and ``nB >= min_sample``; low-sample cells get no rank.

This is a difference of means, not a causal estimate: reviews naming several needs count for
each (documented in the appendix).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.metrics.shares import MARKET


def _moments(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """count, sum and sum of squares of ``rating`` per group (only rated rows)."""
    rated = frame.loc[frame["rating"].notna()]
    r = rated["rating"].astype("float64")
    return (rated.assign(r=r, r2=r * r).groupby(keys)
            .agg(n=("r", "size"), s=("r", "sum"), s2=("r2", "sum")))


def welch_interval(
    mean_a: np.ndarray, var_a: np.ndarray, n_a: np.ndarray,
    mean_b: np.ndarray, var_b: np.ndarray, n_b: np.ndarray, confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference of means ``a - b`` with its Welch confidence interval (vectorised).

    Returns ``(diff, low, high)``; bounds are NaN where a group has fewer than 2 ratings.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        va, vb = var_a / n_a, var_b / n_b
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
        # All ratings equal in both groups: zero spread, the interval collapses to the point.
        df = np.where(se == 0, np.inf, df)
        t = stats.t.ppf(0.5 + confidence / 2, df)
        diff = mean_a - mean_b
        ok = (n_a >= 2) & (n_b >= 2)
        low = np.where(ok, diff - t * se, np.nan)
        high = np.where(ok, diff + t * se, np.nan)
    return diff, low, high


def rating_impact(
    reviews: pd.DataFrame,
    needs: pd.DataFrame,
    *,
    min_sample: int,
    need_ids: list[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Stars each need costs or earns per product and market-wide; see the module docstring."""
    ids = sorted(need_ids if need_ids is not None else needs["need"].unique())
    products = sorted(reviews["product"].unique())
    rev = pd.concat([reviews, reviews.assign(product=MARKET)], ignore_index=True)
    ned = pd.concat([needs, needs.assign(product=MARKET)], ignore_index=True)
    ned = ned.loc[ned["need"].isin(ids)]
    total = _moments(rev, ["product"])
    grid = pd.MultiIndex.from_product([[*products, MARKET], ids], names=["product", "need"])
    with_ = _moments(ned, ["product", "need"]).reindex(grid, fill_value=0).reset_index()
    out = with_.merge(total, left_on="product", right_index=True, suffixes=("_a", "_t"))
    n_a = out["n_a"].to_numpy("float64")
    n_b = (out["n_t"] - out["n_a"]).to_numpy("float64")
    s_a, s2_a = out["s_a"].to_numpy("float64"), out["s2_a"].to_numpy("float64")
    s_b = (out["s_t"] - out["s_a"]).to_numpy("float64")
    s2_b = (out["s2_t"] - out["s2_a"]).to_numpy("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a, mean_b = s_a / n_a, s_b / n_b
        # Sample variances from the moments; clip tiny negative rounding noise.
        var_a = np.clip((s2_a - n_a * mean_a**2) / (n_a - 1), 0, None)
        var_b = np.clip((s2_b - n_b * mean_b**2) / (n_b - 1), 0, None)
    diff, low, high = welch_interval(mean_a, var_a, n_a, mean_b, var_b, n_b, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = n_a / (n_a + n_b)
    result = pd.DataFrame({
        "product": out["product"], "need": out["need"],
        "n_with": n_a.astype("int64"), "n_without": n_b.astype("int64"),
        "mean_with": mean_a, "mean_without": mean_b,
        "impact": diff, "impact_lo": low, "impact_hi": high,
        "share": share, "net_effect": share * diff,
        "low_sample": (n_a < min_sample) | (n_b < min_sample),
    })
    rankable = ~result["low_sample"] & result["net_effect"].notna()
    ranks = (result.loc[rankable].groupby("product")["net_effect"]
             .rank(method="first", ascending=True))
    result = result.assign(rank=ranks.reindex(result.index).astype("Int64"))
    return result.sort_values(["product", "need"]).reset_index(drop=True)
