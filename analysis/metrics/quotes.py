"""Quotes: representative verbatim excerpts behind a figure, with their source link.

Stage: analyse. In: ``need_table`` and ``review_table`` (:mod:`.frames`). Out: ``quotes``
frame (uid, product, need, quote, clause, rating, published_at, url, source, sentiment_score),
k rows per requested cell.

Choice rule, deterministic so the same data gives the same report: among the cell's reviews
with the wanted polarity (negative mentions for complaints, non-negative for strengths), prefer
quotes of at least ``min_chars`` characters, then reviews whose stars agree (1-2 stars for a
complaint, 4-5 for a strength; then 3 stars or none; then the other end), then the strongest
sentiment (most negative aspect score for complaints, most positive for strengths), then the
most helpful votes, then the newest, then the uid. The stars come before the score because a
sentence is read in its review's context: praise inside a scathing review can read as a
strong complaint ("I love that sync is instant" next to "Terrible support"), and a quote that
says the opposite of its figure costs the reader's trust more than a milder one.
The quote is the sentence that names the need when the classifier gave one, else the review's
title and text; it is cut at ``max_chars`` on a word boundary.
``clause`` is the part of a quoted sentence that turns ("nice design, but it crashes") which
carries the need, for the template to highlight ("" when the sentence was read whole or the
cut dropped it): the rest of the sentence may say the opposite about another need.
Quotes are untrusted text: templates escape them (autoescape).

Diversity: candidates are taken in that order, and one is skipped when it repeats an already
chosen quote of the cell almost word for word (three quotes that differ by one word tell the
reader nothing new). "Almost" is a token Jaccard similarity at or over ``MAX_SIMILARITY``:
``J(a, b) = |T(a) ∩ T(b)| / |T(a) ∪ T(b)|`` with ``T`` the set of lower-cased word tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from analysis.metrics.frames import title_and_text

MAX_SIMILARITY = 0.6
"""Token Jaccard at or over which a candidate counts as a near-duplicate of a chosen quote.
Two 10-word sentences that differ by one word score 9/11 = 0.82; by four words, 6/14 = 0.43."""

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)

QUOTE_COLUMNS = ["uid", "product", "need", "quote", "clause", "rating", "published_at", "url",
                 "source", "sentiment_score"]


def _with_quotes(pool: pd.DataFrame, *, min_chars: int, max_chars: int,
                 negative: bool = True) -> pd.DataFrame:
    """``pool`` (need rows merged with their reviews) plus what both quote pickers rank and show:
    ``quote`` (the sentence naming the need, else title and text, cut at ``max_chars``),
    ``clause`` (kept only while the quote still contains it: the cut may drop it), ``short``
    (under ``min_chars``), ``stars_off`` (0: the rating agrees with the wanted polarity,
    ``negative`` or not; 1: 3 stars or no rating; 2: the other end), ``helpful`` and
    ``newest``."""
    body = pool["sentence"].where(pool["sentence"].str.len() > 0, title_and_text(pool))
    quotes = [shorten(t, max_chars) for t in body]
    return pool.assign(
        quote=quotes,
        clause=[c if isinstance(c, str) and c and c in q else ""
                for q, c in zip(quotes, pool["clause"], strict=True)],
        short=body.str.len() < min_chars,
        stars_off=_stars_off(pool["rating"], negative),
        helpful=pool["helpful_count"].fillna(0),
        newest=pool["published_at"].fillna(pd.Timestamp(0, tz="UTC")).astype("int64"),
    )


def _stars_off(rating: pd.Series, negative: bool) -> pd.Series:
    """0 where the rating agrees with a complaint (1-2 stars; ``negative``) or a strength (4-5),
    2 where it sits at the other end, 1 for 3 stars or no rating."""
    r = pd.to_numeric(rating, errors="coerce")
    low, high = r <= 2, r >= 4
    agree, against = (low, high) if negative else (high, low)
    return pd.Series(1, index=rating.index).mask(agree, 0).mask(against, 2)


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


def token_set(text: str) -> frozenset[str]:
    """Lower-cased word tokens of ``text`` (curly apostrophes read as straight ones).

    >>> sorted(token_set("It's slow, SLOW…"))
    ["it's", 'slow']
    """
    return frozenset(_WORD.findall(str(text).lower().replace("\u2019", "'")))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """``|a ∩ b| / |a ∪ b|``; 0 for two empty sets (nothing to repeat)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def diverse(quotes: Iterable[str], k: int, *, max_similarity: float = MAX_SIMILARITY) -> list[int]:
    """Positions of the first ``k`` quotes, in order, skipping near-duplicates of chosen ones.

    >>> diverse(["sync fails on my phone", "sync fails on my laptop", "support never replies"], 2)
    [0, 2]
    """
    chosen: list[int] = []
    sets: list[frozenset[str]] = []
    for i, text in enumerate(quotes):
        if len(chosen) >= k:
            break
        toks = token_set(text)
        if any(jaccard(toks, s) >= max_similarity for s in sets):
            continue
        chosen.append(i)
        sets.append(toks)
    return chosen


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
        pool = pool[[*cols, "product"]].assign(need="", sentence="", clause="",
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
        pool = pool[["uid", "product", "need", "sentence", "clause", "negative",
                     "sentiment_score"]].merge(info, on="uid")
    pool = pool.loc[pool["negative"] == negative]
    if pool.empty or k == 0:
        return pd.DataFrame(columns=QUOTE_COLUMNS)
    pool = _with_quotes(pool, min_chars=min_chars, max_chars=max_chars,
                        negative=negative).assign(
        strength=pool["sentiment_score"] if negative else -pool["sentiment_score"])
    pool = pool.sort_values(["short", "stars_off", "strength", "helpful", "newest", "uid"],
                            ascending=[True, True, True, False, False, True])
    # One quote per review; identical and near-identical texts only once.
    pool = pool.drop_duplicates("uid")
    pool = pool.iloc[diverse(pool["quote"].tolist(), k)]
    return pool[QUOTE_COLUMNS].reset_index(drop=True)


def quote_table(needs: pd.DataFrame, reviews: pd.DataFrame, *, k: int,
                max_chars: int = 280) -> pd.DataFrame:
    """Up to ``k`` complaint quotes per product x need, for the exported tables (drill-down).

    Same order and near-duplicate rule as :func:`pick_quotes` (informative first, stars that
    agree, most negative, most helpful, newest, uid), sorted once over all cells.
    """
    neg = needs.loc[needs["negative"], ["uid", "product", "need", "sentence", "clause",
                                        "sentiment_score"]]
    info = reviews.loc[reviews["uid"].isin(neg["uid"]),
                       ["uid", "title", "text", "url", "source", "published_at",
                        "helpful_count", "rating"]]
    pool = neg.merge(info, on="uid")
    if pool.empty or k == 0:
        return pd.DataFrame(columns=QUOTE_COLUMNS)
    pool = _with_quotes(pool, min_chars=30, max_chars=max_chars)
    pool = pool.sort_values(["product", "need", "short", "stars_off", "sentiment_score",
                             "helpful", "newest", "uid"],
                            ascending=[True, True, True, True, True, False, False, True])
    pool = pool.drop_duplicates(["product", "need", "uid"])
    keep = [idx for _, cell in pool.groupby(["product", "need"], sort=True)
            for idx in cell.index[diverse(cell["quote"].tolist(), k)]]
    return pool.loc[keep, QUOTE_COLUMNS].reset_index(drop=True)
