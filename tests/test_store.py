"""The SQLite store: idempotent upserts, edits update in place, completed-crawl known ids."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from analysis.store import MIGRATIONS, ReviewStore, StoreError


def review(i: int, **kw: object) -> dict[str, object]:
    base = {"source": "apple_app_store", "review_id": str(i), "product": "acme",
            "target": "apple_app_store:acme:us", "rating": 1 + i % 5, "title": f"t{i}",
            "text": f"text {i}", "published_at": f"2026-0{1 + i % 9}-01T00:00:00Z"}
    return {**base, **kw}


def test_upsert_is_idempotent_and_edits_update_in_place(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "s.sqlite")
    first = store.upsert_reviews([review(i) for i in range(10)], run_id="r1")
    assert first.as_dict() == {"new": 10, "updated": 0, "unchanged": 0}
    again = store.upsert_reviews([review(i) for i in range(10)], run_id="r2")
    assert again.as_dict() == {"new": 0, "updated": 0, "unchanged": 10}
    edited = store.upsert_reviews([review(3, text="changed my mind"), review(4, rating=2)],
                                  run_id="r3")
    assert edited.as_dict() == {"new": 0, "updated": 2, "unchanged": 0}
    frame = store.reviews_frame()
    assert len(frame) == 10
    row = frame.set_index("review_id").loc["3"]
    assert row["text"] == "changed my mind"
    assert row["first_seen_run"] == "r1"
    assert row["last_seen_run"] == "r3"


def test_known_ids_only_from_completed_crawls(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "s.sqlite")
    store.upsert_reviews([review(i) for i in range(3)], run_id="r1")
    # Not completed yet: a killed crawl must not make the next one stop early.
    assert store.known_ids("apple_app_store", "acme") == []
    store.complete_target("apple_app_store:acme:us", run_id="r1", reviews_seen=3)
    assert store.known_ids("apple_app_store", "acme") == ["0", "1", "2"]
    assert store.known_ids("apple_app_store", "other") == []


def test_empty_targets_are_counted_for_health(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "s.sqlite")
    for run in ("r1", "r2"):
        store.complete_target("google_play:acme:en-us", run_id=run, reviews_seen=0)
    states = store.target_states().set_index("target")
    assert states.loc["google_play:acme:en-us", "consecutive_empty"] == 2
    store.complete_target("google_play:acme:en-us", run_id="r3", reviews_seen=4)
    assert store.target_states().iloc[0]["consecutive_empty"] == 0


def test_classification_rows_and_pending(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "s.sqlite")
    store.upsert_reviews([review(i) for i in range(4)])
    assert len(store.pending_uids("m1")) == 4
    store.write_classifications(
        [{"uid": "apple_app_store:0", "model_version": "m1", "status": "ok",
          "sentiment": "negative", "sentiment_score": -0.8, "needs_json": {"sync_data": 0.9}}],
        [{"uid": "apple_app_store:0", "model_version": "m1", "sentence_index": 0,
          "need": "sync_data", "sentence": "text 0", "score": 0.9}],
    )
    assert store.pending_uids("m1") == ["apple_app_store:1", "apple_app_store:2",
                                        "apple_app_store:3"]
    labels = store.classifications_frame("m1")
    assert labels.loc[0, "needs"] == {"sync_data": 0.9}
    assert len(store.mentions_frame("m1")) == 1


def test_rating_outside_1_to_5_is_refused(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "s.sqlite")
    with pytest.raises(sqlite3.IntegrityError):
        store.upsert_reviews([review(1, rating=9)])
    assert store.review_count() == 0  # the whole batch rolled back


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    ReviewStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this reviewgap"):
        ReviewStore(path)


def test_a_store_from_before_clauses_migrates_and_keeps_its_mentions(tmp_path: Path) -> None:
    """A version-1 store (mentions without ``clause``) opens, gains the column, keeps every row
    (clause NULL), and new mentions store their clause."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO mentions (uid, model_version, sentence_index, need, sentence, score)"
                 " VALUES ('apple_app_store:0', 'm0', 0, 'sync_data', 'Sync fails.', 0.9)")
    conn.commit()
    conn.close()
    store = ReviewStore(path)
    assert store.schema_version == len(MIGRATIONS) >= 2
    old = store.mentions_frame("m0")
    assert old[["sentence", "score"]].values.tolist() == [["Sync fails.", 0.9]]
    assert old["clause"].isna().all()
    store.write_classifications([], [
        {"uid": "apple_app_store:0", "model_version": "m1", "sentence_index": 0,
         "need": "reliability", "sentence": "Nice design, but it crashes.",
         "clause": "but it crashes.", "score": 0.8}])
    assert store.mentions_frame("m1")["clause"].tolist() == ["but it crashes."]
