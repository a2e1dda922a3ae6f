"""Quotes: representative verbatim excerpts behind a figure, with their source link.

Stage: analyse. In: ``need_table`` and ``review_table`` (:mod:`.frames`). Out: ``quotes``
frame (uid, product, need, quote, rating, published_at, url, source, sentiment_score), k rows
per requested cell.

Choice rule, deterministic so the same data gives the same report: among the cell's reviews
with the wanted polarity (negative mentions for complaints, non-negative for strengths), prefer
quotes of at least ``min_chars`` characters, then the strongest sentiment (most negative
aspect score for complaints, most positive for strengths), then the most helpful votes, then
the newest, then the uid. The quote is the sentence that names the need when the classifier
gave one, else the review's title and text; it is cut at ``max_chars`` on a word boundary.
Quotes are untrusted text: templates escape them (autoescape).
"""

from __future__ import annotations

import pandas as pd

from analysis.metrics.frames import title_and_text

QUOTE_COLUMNS = ["uid", "product", "need", "quote", "rating", "published_at", "url", "source",
                 "sentiment_score"]


def shorten(text: str, max_chars: int) -> str:
    """Cut ``text`` at a word boundary so it fits ``max_chars`` (with an ellipsis).

    >>> shorten("one two three", 9)
    'one two…'
    """
    text = " ".join(str(text).split())
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0]
    return cut + "…"


def pick_quotes(
    needs: pd.DataFrame,
    reviews: pd.DataFrame,
    *,
    product: str | None,
    need: str | None,
    k: int,
    negative: bool = True,
    min_chars: int = 30,
    max_chars: int = 280,
) -> pd.DataFrame:
    """Up to ``k`` quotes for a product x need cell (``None`` = any); see the module docstring.

    With ``need=None`` the pool is the product's reviews themselves (by review sentiment).
    """
    cols = ["uid", "title", "text", "url", "source", "published_at", "helpful_count", "rating",
            "sentiment", "sentiment_score"]
    if need is None:
        pool = reviews if product is None else reviews.loc[reviews["product"] == product]
        pool = pool[[*cols, "product"]].assign(need="", sentence="",
                                               negative=pool["sentiment"].eq("negative"))
        if not negative:
            pool = pool.loc[pool["sentiment"].eq("positive")]
    else:
        pool = needs.loc[needs["need"] == need]
        if product is not None:
            pool = pool.loc[pool["product"] == product]
        pool = pool.loc[pool["negative"] == negative]
        # Narrow the review columns to the pool first: a merge over 50k reviews per cell is slow.
        info = reviews.loc[reviews["uid"].isin(pool["uid"]), cols[:-2]]
        pool = pool[["uid", "product", "need", "sentence", "negative", "sentiment_score"]].merge(
            info, on="uid")
    pool = pool.loc[pool["negative"] == negative]
    if pool.empty or k == 0:
        return pd.DataFrame(columns=QUOTE_COLUMNS)
    full = title_and_text(pool)
    body = pool["sentence"].where(pool["sentence"].str.len() > 0, full)
    pool = pool.assign(
        quote=[shorten(t, max_chars) for t in body],
        short=body.str.len() < min_chars,
        strength=pool["sentiment_score"] if negative else -pool["sentiment_score"],
        helpful=pool["helpful_count"].fillna(0),
        newest=pool["published_at"].fillna(pd.Timestamp(0, tz="UTC")).astype("int64"),
    )
    pool = pool.sort_values(["short", "strength", "helpful", "newest", "uid"],
                            ascending=[True, True, False, False, True])
    # One quote per review; identical texts (copy-paste reviews) only once.
    pool = pool.drop_duplicates("uid").drop_duplicates("quote").head(k)
    return pool[QUOTE_COLUMNS].reset_index(drop=True)


def quote_table(needs: pd.DataFrame, reviews: pd.DataFrame, *, k: int,
                max_chars: int = 280) -> pd.DataFrame:
    """Up to ``k`` complaint quotes per product x need, for the exported tables (drill-down).

    Same order as :func:`pick_quotes` (informative first, most negative, most helpful, newest,
    uid), vectorised over all cells at once.
    """
    neg = needs.loc[needs["negative"], ["uid", "product", "need", "sentence",
                                        "sentiment_score"]]
    info = reviews.loc[reviews["uid"].isin(neg["uid"]),
                       ["uid", "title", "text", "url", "source", "published_at",
                        "helpful_count", "rating"]]
    pool = neg.merge(info, on="uid")
    if pool.empty or k == 0:
        return pd.DataFrame(columns=QUOTE_COLUMNS)
    body = pool["sentence"].where(pool["sentence"].str.len() > 0, title_and_text(pool))
    pool = pool.assign(
        quote=[shorten(t, max_chars) for t in body], short=body.str.len() < 30,
        helpful=pool["helpful_count"].fillna(0),
        newest=pool["published_at"].fillna(pd.Timestamp(0, tz="UTC")).astype("int64"))
    pool = pool.sort_values(["product", "need", "short", "sentiment_score", "helpful", "newest",
                             "uid"], ascending=[True, True, True, True, False, False, True])
    pool = pool.drop_duplicates(["product", "need", "quote"]).groupby(["product", "need"]).head(k)
    return pool[QUOTE_COLUMNS].reset_index(drop=True)
