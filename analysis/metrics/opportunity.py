"""Opportunity score: one ranking of needs combining demand, dissatisfaction, cost and trend.

Stage: analyse. In: ``need_shares``, ``rating_impact`` and trend ``growth``. Out:
``opportunities`` frame, one row per need, best opportunity first::

    need, demand, dissatisfaction, cost, growth, score, n_mentions, low_sample, rank,
    ours_complaint_rate, market_complaint_rate

Formula (market = all tracked products pooled)::

    score = 100 · demand · dissatisfaction · cost · (1 + clip(growth, -0.5, 1))

* ``demand`` = share of all reviews that mention the need;
* ``dissatisfaction`` = share of those mentions that are negative;
* ``cost`` = ``max(0, -impact)``: stars a mention costs (market rating impact);
* ``growth`` = relative change of the market complaint rate, last 3 months vs before
  (missing -> 0; clipped so one noisy month cannot dominate).

Read it as "stars lost per 100 reviews to unhappy mentions of this need, adjusted for where it
is heading". Needs with fewer than ``min_sample`` market mentions are listed but not ranked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.metrics.shares import MARKET


def opportunity_scores(
    shares: pd.DataFrame,
    impact: pd.DataFrame,
    growth: pd.DataFrame,
    *,
    min_sample: int,
    ours: str | None = None,
) -> pd.DataFrame:
    """Rank needs by the opportunity score; see the module docstring."""
    market = shares.loc[shares["product"] == MARKET].set_index("need")
    imp = impact.loc[impact["product"] == MARKET].set_index("need")["impact"]
    g = growth.set_index("need")["growth"].reindex(market.index)
    cost = np.maximum(0.0, -imp.reindex(market.index).fillna(0.0))
    g_used = g.fillna(0.0).clip(-0.5, 1.0)
    score = 100 * market["share"].fillna(0) * market["neg_share"].fillna(0) * cost * (1 + g_used)
    out = pd.DataFrame({
        "demand": market["share"], "dissatisfaction": market["neg_share"], "cost": cost,
        "growth": g, "score": score, "n_mentions": market["n_mentions"],
        "low_sample": market["n_mentions"] < min_sample,
        "market_complaint_rate": market["complaint_rate"],
    })
    if ours is not None:
        mine = shares.loc[shares["product"] == ours].set_index("need")["complaint_rate"]
        out = out.assign(ours_complaint_rate=mine.reindex(out.index))
    else:
        out = out.assign(ours_complaint_rate=np.nan)
    out = out.reset_index().sort_values(["low_sample", "score", "need"],
                                        ascending=[True, False, True]).reset_index(drop=True)
    ranks = pd.Series(pd.NA, index=out.index, dtype="Int64")
    ok = ~out["low_sample"]
    ranks[ok] = np.arange(1, int(ok.sum()) + 1)
    cols = ["need", "demand", "dissatisfaction", "cost", "growth", "score", "n_mentions",
            "low_sample", "rank", "ours_complaint_rate", "market_complaint_rate"]
    return out.assign(rank=ranks)[cols]
