"""Gaps: needs where a product does significantly worse than the market / best competitor.

Stage: analyse. In: ``need_shares`` (:mod:`.shares`, per-product rows only are used). Out:
``gaps`` frame, one row per compared product x need::

    product, need, comparator, k, n, rate, k_ref, n_ref, rate_ref, diff, z, p, p_adj,
    significant, worse, low_sample

Each row compares the product's complaint rate (reviews with a negative mention of the need /
the product's reviews) with a comparator's:

* with an ``ours`` product: two families, ``comparator == "market"`` (all competitors pooled)
  and ``comparator == "best:<key>"`` (the competitor with the lowest complaint rate among those
  with ``n_mentions >= min_sample``); Holm correction within each family (few tests, strong
  family-wise error control);
* without ``ours``: each product against all the others pooled (``comparator == "rest"``);
  Benjamini-Hochberg correction over all products x needs (many tests: control the false
  discovery rate instead).

Test: two-proportion z-test with pooled variance (statsmodels ``proportions_ztest``):
``z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2))``, ``p = (k1 + k2)/(n1 + n2)``; two-sided p-value.
``significant = p_adj < alpha``; ``worse = significant and diff > 0``. A cell with
``n_mentions < min_sample`` is reported but never tested (``low_sample``; p-values NaN), so it
never ranks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from analysis.metrics.shares import MARKET

GAP_COLUMNS = ["product", "need", "comparator", "k", "n", "rate", "k_ref", "n_ref", "rate_ref",
               "diff", "z", "p", "p_adj", "significant", "worse", "low_sample"]


def two_proportion_test(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """``(z, two-sided p)`` for k1/n1 vs k2/n2 (pooled z-test); NaNs when undefined."""
    if min(n1, n2) <= 0 or (k1 + k2) in (0, n1 + n2):
        # No variance at all (both zero, or both 100 %): no evidence of a difference.
        return (0.0, 1.0) if min(n1, n2) > 0 else (np.nan, np.nan)
    z, p = proportions_ztest([k1, k2], [n1, n2], alternative="two-sided")
    return float(z), float(p)


def adjust(pvalues: pd.Series, method: str) -> pd.Series:
    """Multiple-comparison adjusted p-values (``holm`` or ``fdr_bh``), NaNs left alone."""
    out = pd.Series(np.nan, index=pvalues.index, dtype="float64")
    ok = pvalues.notna()
    if ok.any():
        out[ok] = multipletests(pvalues[ok].to_numpy(), method=method)[1]
    return out


def _row(product: str, need: str, comparator: str, cell: pd.Series, k_ref: int, n_ref: int,
         min_sample: int) -> dict[str, object]:
    k, n = int(cell["n_negative"]), int(cell["n_reviews"])
    low = bool(cell["n_mentions"] < min_sample)
    z, p = (np.nan, np.nan) if low else two_proportion_test(k, n, k_ref, n_ref)
    rate = k / n if n else np.nan
    rate_ref = k_ref / n_ref if n_ref else np.nan
    return {"product": product, "need": need, "comparator": comparator, "k": k, "n": n,
            "rate": rate, "k_ref": k_ref, "n_ref": n_ref, "rate_ref": rate_ref,
            "diff": rate - rate_ref, "z": z, "p": p, "low_sample": low}


def find_gaps(
    shares: pd.DataFrame, *, ours: str | None, min_sample: int, alpha: float
) -> pd.DataFrame:
    """Gap tests; see the module docstring. Sorted by comparator, then p_adj, then need."""
    cells = shares.loc[shares["product"] != MARKET]
    rows: list[dict[str, object]] = []
    if ours is not None:
        for need, group in cells.groupby("need", sort=True):
            mine = group.loc[group["product"] == ours]
            rivals = group.loc[group["product"] != ours]
            if mine.empty or rivals.empty:
                continue
            cell = mine.iloc[0]
            rows.append(_row(ours, need, "market", cell, int(rivals["n_negative"].sum()),
                             int(rivals["n_reviews"].sum()), min_sample) | {"family": "market"})
            ranked = rivals.loc[rivals["n_mentions"] >= min_sample]
            if ranked.empty:
                continue
            best = ranked.assign(rate=ranked["n_negative"] / ranked["n_reviews"]).sort_values(
                ["rate", "product"]).iloc[0]
            rows.append(_row(ours, need, f"best:{best['product']}", cell,
                             int(best["n_negative"]), int(best["n_reviews"]), min_sample)
                        | {"family": "best"})
        method = "holm"
    else:
        for (product, need), group in cells.groupby(["product", "need"], sort=True):
            cell = group.iloc[0]
            rest = cells.loc[(cells["need"] == need) & (cells["product"] != product)]
            if rest.empty:
                continue
            rows.append(_row(product, need, "rest", cell, int(rest["n_negative"].sum()),
                             int(rest["n_reviews"].sum()), min_sample) | {"family": "rest"})
        method = "fdr_bh"
    if not rows:
        return pd.DataFrame(columns=GAP_COLUMNS)
    frame = pd.DataFrame(rows)
    frame = frame.assign(p_adj=frame.groupby("family")["p"].transform(
        lambda s: adjust(s, method)))
    frame = frame.assign(significant=frame["p_adj"] < alpha)
    frame = frame.assign(worse=frame["significant"] & (frame["diff"] > 0))
    return (frame[GAP_COLUMNS].sort_values(["comparator", "p_adj", "need"], na_position="last")
            .reset_index(drop=True))


def our_gaps(gaps: pd.DataFrame, ours: str | None) -> pd.DataFrame:
    """Needs where ``ours`` is significantly worse than the market **and** the best competitor.

    Without ``ours``: the significant ``rest`` rows where a product is worse. One row per
    product x need with ``diff_market`` (vs market) and ``diff_best`` (vs best competitor),
    sorted by the larger excess complaint rate first.
    """
    if gaps.empty:
        return gaps.assign(diff_market=[], diff_best=[], best=[], rate_ref_best=[],
                           p_adj_best=[])
    if ours is None:
        worse = gaps.loc[gaps["worse"]]
        return (worse.assign(diff_market=worse["diff"], diff_best=np.nan, best="",
                             rate_ref_best=np.nan, p_adj_best=np.nan)
                .sort_values(["diff", "product", "need"], ascending=[False, True, True])
                .reset_index(drop=True))
    market = gaps.loc[gaps["comparator"] == "market"].set_index("need")
    best = gaps.loc[gaps["comparator"].str.startswith("best:")].set_index("need")
    both = market.join(best[["comparator", "rate_ref", "diff", "worse", "p_adj"]],
                       suffixes=("", "_best"), how="inner")
    hit = both.loc[both["worse"] & both["worse_best"]]
    return (hit.reset_index()
            .assign(diff_market=hit["diff"].to_numpy(), diff_best=hit["diff_best"].to_numpy(),
                    best=hit["comparator_best"].str.removeprefix("best:").to_numpy())
            .sort_values(["diff_market", "need"], ascending=[False, True])
            .reset_index(drop=True))
