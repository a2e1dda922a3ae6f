"""Tidy tables: status filter, report window, need rows and the negative-mention rule."""

from __future__ import annotations

import pandas as pd

from analysis.metrics.frames import need_table, review_table, window_start


def _store_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    reviews = pd.DataFrame({
        "uid": ["s:1", "s:2", "s:3", "s:4"], "source": "s", "product": ["a", "a", "b", "b"],
        "rating": [1, 5, 2, 4], "title": [None, "Great", None, None],
        "text": ["Sync fails.", "Love it.", "Too pricey.", "Bonjour"],
        "published_at": pd.to_datetime(["2025-01-05", "2025-03-01", "2025-03-09",
                                        "2024-01-01"], utc=True),
        "version": None, "country": "us", "language": "en", "url": "https://x/1",
        "helpful_count": 0,
    })
    cls = pd.DataFrame({
        "uid": ["s:1", "s:2", "s:3", "s:4"],
        "status": ["ok", "ok", "ok", "skipped_language"],
        "sentiment": ["negative", "positive", "negative", None],
        "sentiment_score": [-0.9, 0.8, -0.5, None],
        "problem_report": [1, 0, 0, None], "feature_request": [0, 0, 0, None],
        "praise": [0, 1, 0, None], "question": [0, 0, 0, None], "other": [0, 0, 1, None],
        "input_type": ["problem_report", "praise", "other", None],
        "needs": [{"sync_data": 0.9}, {"sync_data": 0.7}, {"pricing": 0.8}, {}],
    })
    mentions = pd.DataFrame({
        "uid": ["s:1", "s:1", "s:2", "s:2"], "sentence_index": [0, 1, 0, 1],
        "need": ["sync_data", "sync_data", "sync_data", "theme:3"],
        "sentence": ["Sync works at home.", "Nice design, but sync fails.", "Love it.",
                     "Love it."],
        "clause": [None, "but sync fails.", None, None], "score": [0.6, 0.9, 0.7, 0.5],
        "sentiment": ["positive", "negative", "positive", "positive"],
        "sentiment_score": [0.7, -0.9, 0.8, 0.8], "input_type": "other",
    })
    return reviews, cls, mentions


def test_review_table_keeps_ok_rows_in_window() -> None:
    reviews, cls, _ = _store_frames()
    rt = review_table(reviews, cls, months=3)
    assert rt["uid"].tolist() == ["s:1", "s:2", "s:3"]
    assert rt["month"].tolist() == ["2025-01", "2025-03", "2025-03"]
    assert review_table(reviews, cls, months=2)["uid"].tolist() == ["s:2", "s:3"]
    assert str(window_start(pd.Timestamp("2025-03-09", tz="UTC"), 2).date()) == "2025-02-01"


def test_need_rows_use_sentence_sentiment_else_review_sentiment() -> None:
    reviews, cls, mentions = _store_frames()
    rt = review_table(reviews, cls)
    nt = need_table(rt, cls, mentions).set_index(["uid", "need"])
    assert ("s:2", "theme:3") not in nt.index  # themes are not needs
    assert nt.loc[("s:1", "sync_data"), "negative"]
    # The most negative mention's sentence, and the clause of that same row.
    assert nt.loc[("s:1", "sync_data"), "sentence"] == "Nice design, but sync fails."
    assert nt.loc[("s:1", "sync_data"), "clause"] == "but sync fails."
    assert nt.loc[("s:2", "sync_data"), "clause"] == ""  # read whole: nothing to highlight
    assert not nt.loc[("s:2", "sync_data"), "negative"]
    # No sentence-level row for pricing: the review's own (negative) sentiment decides.
    assert nt.loc[("s:3", "pricing"), "negative"]
    assert nt.loc[("s:3", "pricing"), "sentence"] == ""
    assert len(nt) == 3
