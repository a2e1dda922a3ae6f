"""White space: needs that every tracked product fails.

Stage: analyse. In: ``need_shares`` (:mod:`.shares`) and ``rating_impact`` (:mod:`.drivers`).
Out: ``white_space`` frame, one row per need (all needs, flagged), sorted best candidate first::

    need, n_products, n_failing, min_neg_share, market_neg_share, market_complaint_rate,
    market_impact, market_impact_hi, white_space, score

Definition: a product *fails* a need when, on a cell with ``n_mentions >= min_sample``, most of
its mentions are negative (``neg_share >= neg_threshold``, default 0.5) **and** the need costs it
stars (``impact < 0``). A need is white space when at least ``min_products`` (default 2)
products have enough sample and *all* of them fail it; no product serves it well, so the first
one that does wins customers from all.

Ranking: ``score = market_complaint_rate · max(0, -market_impact)``: reviews affected times
stars lost, pooled over the market.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.metrics.shares import MARKET

NEG_THRESHOLD = 0.5
"""A product fails a need when at least this share of its mentions are negative."""


def white_space(
    shares: pd.DataFrame,
    impact: pd.DataFrame,
    *,
    min_sample: int,
    neg_threshold: float = NEG_THRESHOLD,
    min_products: int = 2,
) -> pd.DataFrame:
    """Flag and rank white-space needs; see the module docstring."""
    cells = shares.merge(impact[["product", "need", "impact", "impact_hi"]],
                         on=["product", "need"], how="left")
    per = cells.loc[(cells["product"] != MARKET) & (cells["n_mentions"] >= min_sample)]
    per = per.assign(fails=(per["neg_share"] >= neg_threshold) & (per["impact"] < 0))
    counts = per.groupby("need").agg(n_products=("product", "size"),
                                     n_failing=("fails", "sum"),
                                     min_neg_share=("neg_share", "min"))
    market = cells.loc[cells["product"] == MARKET].set_index("need")
    out = market[["neg_share", "complaint_rate", "impact", "impact_hi"]].rename(columns={
        "neg_share": "market_neg_share", "complaint_rate": "market_complaint_rate",
        "impact": "market_impact", "impact_hi": "market_impact_hi"}).join(counts, how="left")
    out = out.assign(n_products=out["n_products"].fillna(0).astype("int64"),
                     n_failing=out["n_failing"].fillna(0).astype("int64"))
    flag = (out["n_products"] >= min_products) & (out["n_failing"] == out["n_products"])
    score = out["market_complaint_rate"] * np.maximum(0.0, -out["market_impact"].fillna(0.0))
    out = out.assign(white_space=flag, score=score).reset_index()
    cols = ["need", "n_products", "n_failing", "min_neg_share", "market_neg_share",
            "market_complaint_rate", "market_impact", "market_impact_hi", "white_space",
            "score"]
    return (out[cols].sort_values(["white_space", "score", "need"],
                                  ascending=[False, False, True]).reset_index(drop=True))
