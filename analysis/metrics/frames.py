"""Tidy tables for the market-gap metrics, built from the store's frames.

Stage: analyse (first step). In: ``store.reviews_frame()``, ``store.classifications_frame(v)``
and ``store.mentions_frame(v)``. Out: two tidy frames every other metric module reads:

``review_table`` (one row per classified review)
    uid, product, source, rating, published_at, month ("YYYY-MM"), version, country, language,
    url, title, text, helpful_count, sentiment, sentiment_score, problem_report,
    feature_request, praise, question, other, input_type.

``need_table`` (one row per review x need it mentions)
    uid, product, need, rating, month, version, sentiment_score (aspect: mean of the need's
    sentence scores, else the review's), negative (bool), sentence (the most negative sentence
    naming the need, else ""), clause (in that sentence, the clause that carries the need when
    the sentence turns, "nice design, but it crashes"; else ""), score (need confidence).

Definitions used everywhere:

* a review *mentions* a need when the classifier put the need in the review's ``needs`` (at or
  over its threshold) or a sentence-level mention names it;
* a mention is *negative* when any sentence naming the need is classified negative; a review
  with no sentence-level row for that need falls back to its own review-level sentiment
  (documented in the methodology appendix, not silent).

Only ``status == "ok"`` reviews enter these tables; the others are counted in the appendix.
Discovered themes (``theme:<n>`` mentions) stay out of ``need_table``; see :mod:`.trends`.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

LABEL_COLUMNS: tuple[str, ...] = ("problem_report", "feature_request", "praise", "question",
                                  "other")

REVIEW_TABLE_COLUMNS: tuple[str, ...] = (
    "uid", "product", "source", "rating", "published_at", "month", "version", "country",
    "language", "url", "title", "text", "helpful_count", "sentiment", "sentiment_score",
    *LABEL_COLUMNS, "input_type",
)

NEED_TABLE_COLUMNS: tuple[str, ...] = (
    "uid", "product", "need", "rating", "month", "version", "sentiment_score", "negative",
    "sentence", "clause", "score",
)


def title_and_text(frame: pd.DataFrame) -> pd.Series:
    """"Title. Text" (or just the text when there is no title), whitespace-trimmed."""
    title = frame["title"].fillna("").astype(str).str.strip()
    text = frame["text"].fillna("").astype(str).str.strip()
    sep = pd.Series(". ", index=frame.index).where(title.str.len() > 0, "")
    return (title + sep + text).str.strip()


def month_of(ts: pd.Series) -> pd.Series:
    """UTC timestamps -> "YYYY-MM" strings (NaT -> missing)."""
    out = ts.dt.strftime("%Y-%m")
    return out.astype("string")


def window_start(newest: pd.Timestamp, months: int) -> pd.Timestamp:
    """First instant of the report window: ``months`` calendar months ending with ``newest``'s.

    >>> str(window_start(pd.Timestamp("2024-05-17", tz="UTC"), 3).date())
    '2024-03-01'
    """
    newest = newest.tz_convert("UTC")
    first = pd.Timestamp(year=newest.year, month=newest.month, day=1, tz="UTC")
    return first - pd.DateOffset(months=months - 1)


def review_table(
    reviews: pd.DataFrame,
    classifications: pd.DataFrame,
    *,
    products: list[str] | None = None,
    since: datetime | pd.Timestamp | None = None,
    months: int | None = None,
) -> pd.DataFrame:
    """Join reviews with their review-level labels; keep classified (``status == "ok"``) rows.

    Args:
        reviews: ``store.reviews_frame()``.
        classifications: ``store.classifications_frame(model_version)``.
        products: keep only these products (the config's), in any order.
        since: drop reviews published before this instant (``project.since``).
        months: keep the last ``months`` calendar months ending at the newest review.

    Returns:
        The ``review_table`` described in the module docstring, sorted by uid.
    """
    labels = classifications.loc[classifications["status"] == "ok"]
    cols = ["uid", "sentiment", "sentiment_score", *LABEL_COLUMNS, "input_type"]
    frame = reviews.merge(labels[cols], on="uid", how="inner", validate="one_to_one")
    frame = filter_window(frame, products=products, since=since, months=months)
    frame = frame.assign(month=month_of(frame["published_at"]))
    for col in LABEL_COLUMNS:
        frame[col] = frame[col].fillna(0).astype("int64")
    if "helpful_count" not in frame:
        frame = frame.assign(helpful_count=np.nan)
    return frame[list(REVIEW_TABLE_COLUMNS)].sort_values("uid").reset_index(drop=True)


def filter_window(
    frame: pd.DataFrame,
    *,
    products: list[str] | None = None,
    since: datetime | pd.Timestamp | None = None,
    months: int | None = None,
) -> pd.DataFrame:
    """Rows of ``frame`` (with ``product``, ``published_at``) inside the report window.

    Reviews without a date are kept (a source may not give one) unless a window is asked for.
    """
    out = frame
    if products is not None:
        out = out.loc[out["product"].isin(products)]
    if since is not None:
        start = pd.Timestamp(since)
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
        out = out.loc[out["published_at"] >= start]
    if months is not None and out["published_at"].notna().any():
        out = out.loc[out["published_at"] >= window_start(out["published_at"].max(), months)]
    return out


def need_table(
    reviews: pd.DataFrame,
    classifications: pd.DataFrame,
    mentions: pd.DataFrame,
    *,
    needs: list[str] | None = None,
) -> pd.DataFrame:
    """One row per (review, need) the review mentions; see the module docstring.

    Args:
        reviews: a ``review_table``.
        classifications: ``store.classifications_frame(v)`` (its ``needs`` dict column).
        mentions: ``store.mentions_frame(v)``.
        needs: keep only these need ids (the configured taxonomy); ``None`` keeps all
            non-theme needs.

    Returns:
        The ``need_table`` (columns in ``NEED_TABLE_COLUMNS``) sorted by product, need, uid.
    """
    uids = reviews["uid"]
    cls = classifications.loc[classifications["uid"].isin(uids), ["uid", "needs"]]
    # Review-level needs: explode the {need: score} dicts into rows.
    pairs = [(u, n, float(s)) for u, d in zip(cls["uid"], cls["needs"], strict=True)
             for n, s in (d or {}).items()]
    review_level = pd.DataFrame(pairs, columns=["uid", "need", "score"])
    men = mentions.loc[mentions["uid"].isin(uids) & ~mentions["need"].str.startswith("theme:")]
    sentence_level = (
        # "" rather than missing: groupby's "first" skips missing values, and the clause must
        # come from the same row as the sentence.
        men.assign(neg=men["sentiment"].eq("negative"), clause=men["clause"].fillna(""))
        .sort_values(["uid", "need", "sentiment_score", "sentence_index"])
        .groupby(["uid", "need"], sort=False)
        .agg(aspect_score=("sentiment_score", "mean"), any_negative=("neg", "any"),
             sentence=("sentence", "first"), clause=("clause", "first"),
             mention_score=("score", "max"))
        .reset_index()
    )
    table = review_level.merge(sentence_level, on=["uid", "need"], how="outer")
    if needs is not None:
        table = table.loc[table["need"].isin(needs)]
    base = reviews[["uid", "product", "rating", "month", "version", "sentiment",
                    "sentiment_score"]]
    table = table.merge(base, on="uid", how="inner")
    has_sentence = table["any_negative"].notna()
    table = table.assign(
        # Aspect sentiment where a sentence names the need; else the review's own sentiment.
        sentiment_score=table["aspect_score"].where(has_sentence, table["sentiment_score"]),
        negative=table["any_negative"].where(has_sentence, table["sentiment"].eq("negative"))
        .astype(bool),
        sentence=table["sentence"].fillna(""),
        clause=table["clause"].fillna(""),
        score=table["score"].fillna(table["mention_score"]),
    )
    return (table[list(NEED_TABLE_COLUMNS)]
            .sort_values(["product", "need", "uid"]).reset_index(drop=True))
