"""Per product x need volume, shares with Wilson intervals, negative share and stars.

Stage: analyse. In: ``review_table`` and ``need_table`` (:mod:`.frames`). Out:
``need_shares`` frame, one row per product x need (plus ``product == MARKET`` rows pooling all
products), columns::

    product, need, n_reviews, n_mentions, share, share_lo, share_hi, n_negative, neg_share,
    neg_lo, neg_hi, complaint_rate, complaint_lo, complaint_hi, mean_stars,
    aspect_sentiment, low_sample

Formulas (k successes out of n, z the normal quantile for the confidence level):

* ``share = n_mentions / n_reviews`` (reviews of the product that mention the need);
* ``neg_share = n_negative / n_mentions`` (mentions that are negative);
* ``complaint_rate = n_negative / n_reviews`` (reviews complaining about the need: "how many
  customers are affected"; the quantity gaps and trends compare);
* Wilson score interval: ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``;
* ``mean_stars``: mean rating of the reviews mentioning the need; ``aspect_sentiment``: mean
  aspect sentiment score in [-1, 1];
* ``low_sample = n_mentions < min_sample``: the cell is shown greyed with its n, never ranked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

MARKET = "__market__"
"""Product key of the pooled rows (all products together)."""


def z_value(confidence: float = 0.95) -> float:
    """Two-sided normal quantile, e.g. 1.95996 for 95 %."""
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(
    k: np.ndarray | pd.Series | float, n: np.ndarray | pd.Series | float,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion k/n (vectorised).

    Formula: centre ``(p + z²/(2n)) / (1 + z²/n)``, half-width
    ``z·sqrt(p(1-p)/n + z²/(4n²)) / (1 + z²/n)``. Unlike the Wald interval it stays inside
    [0, 1] and is sensible at k = 0 or k = n, which small competitor samples hit often.
    n = 0 gives NaN bounds.

    Returns:
        ``(low, high)`` arrays.
    """
    k_arr = np.asarray(k, dtype="float64")
    n_arr = np.asarray(n, dtype="float64")
    z = z_value(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k_arr / n_arr
        denom = 1 + z**2 / n_arr
        centre = (p + z**2 / (2 * n_arr)) / denom
        half = z * np.sqrt(p * (1 - p) / n_arr + z**2 / (4 * n_arr**2)) / denom
    low = np.where(n_arr > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(n_arr > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def need_shares(
    reviews: pd.DataFrame,
    needs: pd.DataFrame,
    *,
    min_sample: int,
    need_ids: list[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per product x need figures (and pooled ``MARKET`` rows); see the module docstring.

    Every product x need pair appears, with zero counts where nobody mentioned the need, so a
    missing cell never reads as "no data".

    Args:
        reviews: ``review_table`` (denominators: classified reviews per product).
        needs: ``need_table``.
        min_sample: ``report.min_sample``.
        need_ids: needs to report (default: those present in ``needs``).
        confidence: interval confidence level.
    """
    products = sorted(reviews["product"].unique())
    ids = sorted(need_ids if need_ids is not None else needs["need"].unique())
    pooled_reviews = reviews.assign(product=MARKET)
    pooled_needs = needs.assign(product=MARKET)
    both_reviews = pd.concat([reviews, pooled_reviews], ignore_index=True)
    both_needs = pd.concat([needs, pooled_needs], ignore_index=True)

    n_reviews = both_reviews.groupby("product").size().rename("n_reviews")
    grid = pd.MultiIndex.from_product([[*products, MARKET], ids], names=["product", "need"])
    agg = (
        both_needs.groupby(["product", "need"])
        .agg(n_mentions=("uid", "size"), n_negative=("negative", "sum"),
             mean_stars=("rating", "mean"), aspect_sentiment=("sentiment_score", "mean"))
        .reindex(grid)
        .reset_index()
    )
    out = agg.merge(n_reviews, left_on="product", right_index=True, how="left")
    out = out.assign(
        n_mentions=out["n_mentions"].fillna(0).astype("int64"),
        n_negative=out["n_negative"].fillna(0).astype("int64"),
        n_reviews=out["n_reviews"].fillna(0).astype("int64"),
    )
    share_lo, share_hi = wilson_interval(out["n_mentions"], out["n_reviews"], confidence)
    neg_lo, neg_hi = wilson_interval(out["n_negative"], out["n_mentions"], confidence)
    comp_lo, comp_hi = wilson_interval(out["n_negative"], out["n_reviews"], confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = out.assign(
            share=out["n_mentions"] / out["n_reviews"].replace(0, np.nan),
            share_lo=share_lo, share_hi=share_hi,
            neg_share=out["n_negative"] / out["n_mentions"].replace(0, np.nan),
            neg_lo=neg_lo, neg_hi=neg_hi,
            complaint_rate=out["n_negative"] / out["n_reviews"].replace(0, np.nan),
            complaint_lo=comp_lo, complaint_hi=comp_hi,
            low_sample=out["n_mentions"] < min_sample,
        )
    cols = ["product", "need", "n_reviews", "n_mentions", "share", "share_lo", "share_hi",
            "n_negative", "neg_share", "neg_lo", "neg_hi", "complaint_rate", "complaint_lo",
            "complaint_hi", "mean_stars", "aspect_sentiment", "low_sample"]
    return out[cols].sort_values(["product", "need"]).reset_index(drop=True)


def product_summary(reviews: pd.DataFrame) -> pd.DataFrame:
    """Per product: reviews, mean stars, sentiment mix (shares of classified reviews).

    Formula: ``mean_stars = mean(rating)`` over rated reviews; ``pos_share``/``neg_share`` =
    reviews with that sentiment / classified reviews; ``net_sentiment = pos_share - neg_share``.
    """
    frame = reviews.assign(pos=reviews["sentiment"].eq("positive"),
                           neg=reviews["sentiment"].eq("negative"))
    out = (frame.groupby("product")
           .agg(n_reviews=("uid", "size"), n_rated=("rating", "count"),
                mean_stars=("rating", "mean"), pos_share=("pos", "mean"),
                neg_share=("neg", "mean"), first=("published_at", "min"),
                last=("published_at", "max"))
           .reset_index())
    return out.assign(net_sentiment=out["pos_share"] - out["neg_share"])
