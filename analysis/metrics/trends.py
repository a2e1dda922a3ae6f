"""Trends: monthly series per product x need, significant last-month changes, emerging themes.

Stage: analyse. In: ``review_table``, ``need_table`` (:mod:`.frames`), the store's ``mentions``
and ``themes`` frames. Out:

``monthly`` (one row per product x need x month, ``MARKET`` pooled rows included)
    product, need, month, n_reviews, n_mentions, n_negative, complaint_rate, mean_stars
``changes`` (one row per product x need)
    product, need, last_month, k_last, n_last, rate_last, k_prev, n_prev, rate_prev, diff,
    p, p_adj, significant, direction
``emerging`` (one row per discovered theme)
    theme_id, label, words, size, named_products, names_only, k_last, n_last, k_prev, n_prev,
    rate_last, rate_prev, p, p_adj, emerging

Formulas: ``complaint_rate = n_negative / n_reviews`` in the month. A change compares the last
month of the window (the month of the newest review) with all earlier months of the window
pooled, by the two-proportion z-test of :mod:`.gaps`, Benjamini-Hochberg corrected over all
product x need cells; it is flagged only when ``p_adj < alpha`` and both periods have at least
``min_sample`` reviews. A theme is emerging when its share of reviews rose significantly the
same way (BH over themes): ``rate = reviews with a theme:<id> mention / reviews`` in each
period, themes and mentions joined on the bare id (:func:`.themes.theme_key`); labels and words
without product names (:func:`.themes.display_themes`). ``growth`` for the opportunity score is
the relative change of the market complaint rate, last 3 months against the earlier months:
``rate_recent / rate_before - 1``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from analysis.metrics.gaps import adjust, two_proportion_test
from analysis.metrics.shares import MARKET
from analysis.metrics.themes import THEME_PREFIX, display_themes, theme_key


def monthly(reviews: pd.DataFrame, needs: pd.DataFrame, *, need_ids: list[str]) -> pd.DataFrame:
    """Monthly counts and complaint rate per product x need (and market); see module doc."""
    rev = reviews.loc[reviews["month"].notna()]
    rev = pd.concat([rev, rev.assign(product=MARKET)], ignore_index=True)
    ned = needs.loc[needs["month"].notna() & needs["need"].isin(need_ids)]
    ned = pd.concat([ned, ned.assign(product=MARKET)], ignore_index=True)
    base = (rev.groupby(["product", "month"])
            .agg(n_reviews=("uid", "size"), mean_stars=("rating", "mean")).reset_index())
    grid = base.merge(pd.DataFrame({"need": sorted(need_ids)}), how="cross")
    agg = (ned.groupby(["product", "need", "month"])
           .agg(n_mentions=("uid", "size"), n_negative=("negative", "sum")).reset_index())
    out = grid.merge(agg, on=["product", "need", "month"], how="left")
    out = out.assign(n_mentions=out["n_mentions"].fillna(0).astype("int64"),
                     n_negative=out["n_negative"].fillna(0).astype("int64"))
    out = out.assign(complaint_rate=out["n_negative"] / out["n_reviews"])
    cols = ["product", "need", "month", "n_reviews", "n_mentions", "n_negative",
            "complaint_rate", "mean_stars"]
    return out[cols].sort_values(["product", "need", "month"]).reset_index(drop=True)


def _split_test(last: pd.DataFrame, prev: pd.DataFrame, keys: list[str], k: str,
                n: str) -> pd.DataFrame:
    a = last.groupby(keys)[[k, n]].sum().rename(columns={k: "k_last", n: "n_last"})
    b = prev.groupby(keys)[[k, n]].sum().rename(columns={k: "k_prev", n: "n_prev"})
    both = a.join(b, how="outer").fillna(0).astype("int64").reset_index()
    tests = [two_proportion_test(r.k_last, r.n_last, r.k_prev, r.n_prev)
             for r in both.itertuples()]
    with np.errstate(invalid="ignore", divide="ignore"):
        return both.assign(rate_last=both["k_last"] / both["n_last"].replace(0, np.nan),
                           rate_prev=both["k_prev"] / both["n_prev"].replace(0, np.nan),
                           p=[t[1] for t in tests])


def changes(series: pd.DataFrame, *, min_sample: int, alpha: float) -> pd.DataFrame:
    """Last month vs earlier months per product x need; see the module docstring."""
    cols = ["product", "need", "last_month", "k_last", "n_last", "rate_last", "k_prev",
            "n_prev", "rate_prev", "diff", "p", "p_adj", "significant", "direction"]
    if series.empty:
        return pd.DataFrame(columns=cols)
    last_month = series["month"].max()
    last = series.loc[series["month"] == last_month]
    prev = series.loc[series["month"] < last_month]
    out = _split_test(last, prev, ["product", "need"], "n_negative", "n_reviews")
    enough = (out["n_last"] >= min_sample) & (out["n_prev"] >= min_sample)
    p = out["p"].where(enough)
    out = out.assign(last_month=last_month, diff=out["rate_last"] - out["rate_prev"], p=p,
                     p_adj=adjust(p, "fdr_bh"))
    sig = out["p_adj"] < alpha
    out = out.assign(significant=sig,
                     direction=np.where(sig, np.where(out["diff"] > 0, "worse", "better"), ""))
    return out[cols].sort_values(["significant", "p_adj", "product", "need"],
                                 ascending=[False, True, True, True]).reset_index(drop=True)


def growth(series: pd.DataFrame, *, recent_months: int = 3) -> pd.DataFrame:
    """Per need: relative change of the market complaint rate, recent months vs before.

    Formula: ``growth = (k_recent/n_recent) / (k_before/n_before) - 1``; NaN when either
    period is empty or the earlier rate is 0.
    """
    market = series.loc[series["product"] == MARKET]
    months = sorted(market["month"].unique())
    if len(months) <= recent_months:
        return pd.DataFrame({"need": sorted(market["need"].unique()), "growth": np.nan})
    cut = months[-recent_months]
    recent = market.loc[market["month"] >= cut].groupby("need")[["n_negative", "n_reviews"]].sum()
    before = market.loc[market["month"] < cut].groupby("need")[["n_negative", "n_reviews"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        rate_r = recent["n_negative"] / recent["n_reviews"]
        rate_b = (before["n_negative"] / before["n_reviews"]).replace(0, np.nan)
    return (rate_r / rate_b - 1).rename("growth").reset_index()


def emerging_themes(
    reviews: pd.DataFrame, mentions: pd.DataFrame, themes: pd.DataFrame, *,
    min_sample: int, alpha: float, names: Mapping[str, Iterable[str]] | None = None,
    display: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Discovered themes with their last-month vs earlier share; see the module docstring.

    ``names`` (product key -> name and aliases) and ``display`` (key -> display name) take the
    tracked products out of the themes' words and labels (:func:`.themes.display_themes`).
    """
    cols = ["theme_id", "label", "words", "size", "named_products", "names_only", "k_last",
            "n_last", "k_prev", "n_prev", "rate_last", "rate_prev", "p", "p_adj", "emerging"]
    if themes.empty:
        return pd.DataFrame(columns=cols)
    rev = reviews.loc[reviews["month"].notna(), ["uid", "month"]]
    last_month = rev["month"].max()
    men = mentions.loc[mentions["need"].astype(str).str.startswith(THEME_PREFIX),
                       ["uid", "need"]]
    # A review counts once per theme however many of its sentences fall in it.
    men = men.assign(theme_id=men["need"].map(theme_key))[["uid", "theme_id"]]
    men = men.drop_duplicates().merge(rev, on="uid")
    men = men.assign(is_last=men["month"] == last_month)
    n_last = int((rev["month"] == last_month).sum())
    n_prev = int((rev["month"] < last_month).sum())
    k_last = men.loc[men["is_last"]].groupby("theme_id").size()
    k_prev = men.loc[~men["is_last"]].groupby("theme_id").size()
    th = display_themes(themes, names or {}, display)
    unmatched = set(men["theme_id"]) - set(th["theme_id"])
    if unmatched:
        # Mentions of a theme the themes table lacks: a stage wrote inconsistent ids. Say so
        # rather than report 0% for every theme.
        raise ValueError(f"theme mentions without a themes row: {sorted(unmatched)[:5]}")
    th = th.assign(k_last=th["theme_id"].map(k_last).fillna(0).astype("int64"),
                   k_prev=th["theme_id"].map(k_prev).fillna(0).astype("int64"),
                   n_last=n_last, n_prev=n_prev)
    tests = [two_proportion_test(int(a), n_last, int(b), n_prev)
             for a, b in zip(th["k_last"], th["k_prev"], strict=True)]
    enough = n_last >= min_sample and n_prev >= min_sample
    p = pd.Series([t[1] if enough else np.nan for t in tests], index=th.index, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        th = th.assign(rate_last=th["k_last"] / (n_last or np.nan),
                       rate_prev=th["k_prev"] / (n_prev or np.nan), p=p,
                       p_adj=adjust(p, "fdr_bh"))
    th = th.assign(emerging=(th["p_adj"] < alpha) & (th["rate_last"] > th["rate_prev"]))
    return (th[cols].sort_values(["emerging", "names_only", "size", "theme_id"],
                                 ascending=[False, True, False, True]).reset_index(drop=True))
