"""The review store: one SQLite file in the workspace (WAL, transactions, upserts, migrations).

In: review dicts (the crawl item contract in docs/architecture.md), label rows, run records.
Out: pandas frames for analysis, counts of what changed.

Reviews are keyed by ``(source, review_id)``: storing the same review again changes nothing; a
review whose text, title or rating changed is updated in place (``content_hash`` tells). Schema
changes are migrations keyed on ``PRAGMA user_version``. The public methods are the whole store
interface, so a PostgreSQL store can implement the same class later.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pandas as pd

from spiders.items import REVIEW_KEYS

# The crawl item contract, less the item kind: one column per review key.
REVIEW_COLUMNS: tuple[str, ...] = tuple(k for k in REVIEW_KEYS if k != "kind")

# Each entry migrates the schema from version i to i+1. Never edit a shipped entry: append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reviews (
        uid TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        review_id TEXT NOT NULL,
        product TEXT NOT NULL,
        target TEXT,
        rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
        title TEXT,
        text TEXT NOT NULL,
        published_at TEXT,
        version TEXT,
        country TEXT,
        language TEXT,
        url TEXT,
        reply_text TEXT,
        reply_at TEXT,
        helpful_count INTEGER,
        fetched_at TEXT,
        content_hash TEXT NOT NULL,
        first_seen_run TEXT,
        last_seen_run TEXT,
        first_seen_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (source, review_id)
    );
    CREATE INDEX reviews_product ON reviews (product, published_at);
    CREATE INDEX reviews_target ON reviews (target);
    CREATE TABLE app_meta (
        target TEXT NOT NULL,
        run_id TEXT NOT NULL,
        source TEXT NOT NULL,
        product TEXT NOT NULL,
        name TEXT,
        average_rating REAL,
        rating_count INTEGER,
        review_count INTEGER,
        histogram_json TEXT,
        url TEXT,
        fetched_at TEXT,
        PRIMARY KEY (target, run_id)
    );
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL,
        stats_json TEXT NOT NULL DEFAULT '{}',
        report_path TEXT,
        model_versions_json TEXT NOT NULL DEFAULT '[]',
        error TEXT
    );
    CREATE TABLE target_state (
        target TEXT PRIMARY KEY,
        last_completed_run TEXT,
        last_completed_at TEXT,
        newest_published_at TEXT,
        consecutive_empty INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE classifications (
        uid TEXT NOT NULL,
        model_version TEXT NOT NULL,
        language TEXT,
        status TEXT NOT NULL,
        sentiment TEXT,
        sentiment_score REAL,
        problem_report INTEGER,
        feature_request INTEGER,
        praise INTEGER,
        question INTEGER,
        other INTEGER,
        input_type TEXT,
        needs_json TEXT NOT NULL DEFAULT '{}',
        classified_at TEXT NOT NULL,
        PRIMARY KEY (uid, model_version)
    );
    CREATE TABLE mentions (
        uid TEXT NOT NULL,
        model_version TEXT NOT NULL,
        sentence_index INTEGER NOT NULL,
        need TEXT NOT NULL,
        sentence TEXT NOT NULL,
        score REAL NOT NULL,
        sentiment TEXT,
        sentiment_score REAL,
        input_type TEXT,
        PRIMARY KEY (uid, model_version, sentence_index, need)
    );
    CREATE TABLE themes (
        model_version TEXT NOT NULL,
        theme_id TEXT NOT NULL,
        label TEXT NOT NULL,
        words_json TEXT NOT NULL,
        examples_json TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (model_version, theme_id)
    );
    """,
    # 2: the clause of a sentence that turns which carries the mention (quotes highlight it);
    # NULL when the sentence was read whole, and for mentions stored before this version.
    """
    ALTER TABLE mentions ADD COLUMN clause TEXT;
    """,
)


MENTION_COLUMNS: tuple[str, ...] = ("uid", "model_version", "sentence_index", "need", "sentence",
                                    "clause", "score", "sentiment", "sentiment_score",
                                    "input_type")
"""Columns of a ``mentions`` row (:meth:`ReviewLabels.mention_rows` and theme mentions)."""


def content_hash(review: dict[str, Any]) -> str:
    """sha256 over what a reader sees of a review: an edit changes it, a re-crawl does not.

    >>> content_hash({"title": "a", "text": "b", "rating": 5}) == content_hash(
    ...     {"title": "a", "text": "b", "rating": 5, "url": "x"})
    True
    """
    parts = [str(review.get(k) or "") for k in ("title", "text", "rating", "reply_text")]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def utc_now() -> str:
    """Now as ISO 8601 UTC with seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.define
class UpsertCounts:
    """What an upsert did: reviews inserted, updated (content changed), unchanged."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: UpsertCounts) -> None:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged

    def as_dict(self) -> dict[str, int]:
        return attrs.asdict(self)


class StoreError(Exception):
    """The store file cannot be opened or is from a newer reviewgap."""


class ReviewStore:
    """SQLite-backed store of reviews, labels and runs (see module docstring)."""

    def __init__(self, path: str | Path = ":memory:", *, timeout: float = 30.0) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        except sqlite3.Error as exc:  # pragma: no cover - unreadable path
            raise StoreError(f"{path}: cannot open the store ({exc})") from exc
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    # -- schema -----------------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: store schema version {version} is newer than this reviewgap "
                f"understands ({len(MIGRATIONS)}); upgrade reviewgap"
            )
        for i in range(version, len(MIGRATIONS)):
            with self.transaction():
                for statement in _split_sql(MIGRATIONS[i]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {i + 1}")

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rolls back on any exception."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    # -- reviews ----------------------------------------------------------------------------

    def upsert_reviews(
        self, reviews: Iterable[dict[str, Any]], *, run_id: str | None = None
    ) -> UpsertCounts:
        """Insert new reviews, update changed ones, touch unchanged ones; one transaction."""
        counts = UpsertCounts()
        for outcome in self.upsert_each(reviews, run_id=run_id):
            counts.add(outcome)
        return counts

    def upsert_each(
        self, reviews: Iterable[dict[str, Any]], *, run_id: str | None = None
    ) -> list[UpsertCounts]:
        """Like :meth:`upsert_reviews` but returns one outcome per review, in order."""
        now = utc_now()
        with self.transaction() as conn:
            return [self._upsert_one(conn, review, run_id, now) for review in reviews]

    def _upsert_one(
        self, conn: sqlite3.Connection, review: dict[str, Any], run_id: str | None, now: str
    ) -> UpsertCounts:
        row = {k: review.get(k) for k in REVIEW_COLUMNS}
        row["text"] = row["text"] or ""
        digest = content_hash(row)
        old = conn.execute(
            "SELECT content_hash FROM reviews WHERE source = ? AND review_id = ?",
            (row["source"], row["review_id"]),
        ).fetchone()
        if old is None:
            cols = [*REVIEW_COLUMNS, "uid", "content_hash", "first_seen_run", "last_seen_run",
                    "first_seen_at", "updated_at"]
            values = [*(row[k] for k in REVIEW_COLUMNS), f"{row['source']}:{row['review_id']}",
                      digest, run_id, run_id, now, now]
            conn.execute(
                f"INSERT INTO reviews ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                values,
            )
            return UpsertCounts(new=1)
        if old["content_hash"] == digest:
            conn.execute(
                "UPDATE reviews SET last_seen_run = ?, helpful_count = COALESCE(?, helpful_count)"
                " WHERE source = ? AND review_id = ?",
                (run_id, row["helpful_count"], row["source"], row["review_id"]),
            )
            return UpsertCounts(unchanged=1)
        sets = ", ".join(f"{k} = ?" for k in REVIEW_COLUMNS)
        conn.execute(
            f"UPDATE reviews SET {sets}, content_hash = ?, last_seen_run = ?, updated_at = ?"
            " WHERE source = ? AND review_id = ?",
            [*(row[k] for k in REVIEW_COLUMNS), digest, run_id, now, row["source"],
             row["review_id"]],
        )
        return UpsertCounts(updated=1)

    def review_count(self, product: str | None = None) -> int:
        if product is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0])
        return int(
            self.conn.execute("SELECT COUNT(*) FROM reviews WHERE product = ?", (product,))
            .fetchone()[0]
        )

    def known_ids(self, source: str, product: str) -> list[str]:
        """Review ids of ``source`` x ``product`` stored by crawls that completed their target.

        This feeds the incremental stop. Reviews first seen after their target's last completed
        crawl (a crawl that was killed or failed) are left out, so the next crawl does not stop at
        them: it pages past them and finishes the job.
        """
        rows = self.conn.execute(
            """
            SELECT r.review_id FROM reviews r JOIN target_state t ON t.target = r.target
            WHERE r.source = ? AND r.product = ? AND r.first_seen_at <= t.last_completed_at
            """,
            (source, product),
        ).fetchall()
        return sorted(r[0] for r in rows)

    def reviews_frame(self, products: Sequence[str] | None = None) -> pd.DataFrame:
        """All reviews (one row each) with ``published_at`` parsed to UTC timestamps."""
        query = "SELECT * FROM reviews"
        params: list[Any] = []
        if products:
            query += f" WHERE product IN ({', '.join('?' * len(products))})"
            params = list(products)
        frame = pd.read_sql_query(query + " ORDER BY uid", self.conn, params=params)
        for col in ("published_at", "reply_at", "first_seen_at", "updated_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True, errors="coerce")
        return frame

    # -- store aggregates and targets ------------------------------------------------------

    def add_app_meta(self, item: dict[str, Any], *, run_id: str) -> None:
        """Record a store's own aggregate (average rating, counts) for a target in this run."""
        with self.transaction() as conn:
            conn.execute(
                """INSERT OR REPLACE INTO app_meta (target, run_id, source, product, name,
                   average_rating, rating_count, review_count, histogram_json, url, fetched_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (item["target"], run_id, item["source"], item["product"], item.get("name"),
                 item.get("average_rating"), item.get("rating_count"), item.get("review_count"),
                 json.dumps(item.get("histogram")) if item.get("histogram") else None,
                 item.get("url"), item.get("fetched_at")),
            )

    def app_meta_frame(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM app_meta ORDER BY target, run_id", self.conn)

    def product_names(self) -> dict[str, list[str]]:
        """Product key -> the distinct names the stores list it under (``app_meta.name``), for
        every product with reviews or store aggregates; sorted by key, names sorted."""
        rows = self.conn.execute(
            """SELECT product, NULL FROM reviews GROUP BY product
               UNION SELECT product, name FROM app_meta WHERE name IS NOT NULL AND name != ''
               ORDER BY 1, 2""").fetchall()
        out: dict[str, list[str]] = {}
        for product, name in rows:
            names = out.setdefault(product, [])
            if name is not None:
                names.append(name)
        return out

    def complete_target(self, target: str, *, run_id: str, reviews_seen: int) -> None:
        """Mark a target's crawl finished cleanly in ``run_id`` (enables the incremental stop)."""
        now = utc_now()
        with self.transaction() as conn:
            newest = conn.execute(
                "SELECT MAX(published_at) FROM reviews WHERE target = ?", (target,)
            ).fetchone()[0]
            conn.execute(
                """INSERT INTO target_state (target, last_completed_run, last_completed_at,
                       newest_published_at, consecutive_empty) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT(target) DO UPDATE SET
                       last_completed_run = excluded.last_completed_run,
                       last_completed_at = excluded.last_completed_at,
                       newest_published_at = excluded.newest_published_at,
                       consecutive_empty = CASE WHEN ? = 0
                           THEN target_state.consecutive_empty + 1 ELSE 0 END""",
                (target, run_id, now, newest, 0 if reviews_seen else 1, reviews_seen),
            )

    def target_states(self) -> pd.DataFrame:
        return pd.read_sql_query("SELECT * FROM target_state ORDER BY target", self.conn)

    # -- runs -------------------------------------------------------------------------------

    def start_run(self, run_id: str, kind: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO runs (run_id, kind, started_at, status) VALUES (?, ?, ?, 'running')",
                (run_id, kind, utc_now()),
            )

    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        stats: dict[str, Any] | None = None,
        report_path: str | None = None,
        model_versions: Sequence[str] = (),
        error: str | None = None,
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                """UPDATE runs SET ended_at = ?, status = ?, stats_json = ?, report_path = ?,
                   model_versions_json = ?, error = ? WHERE run_id = ?""",
                (utc_now(), status, json.dumps(stats or {}, sort_keys=True, default=str),
                 report_path, json.dumps(list(model_versions)), error, run_id),
            )

    def runs_frame(self, limit: int | None = None) -> pd.DataFrame:
        query = "SELECT * FROM runs ORDER BY started_at DESC, run_id DESC"
        if limit:
            query += f" LIMIT {int(limit)}"
        return pd.read_sql_query(query, self.conn)

    # -- labels -----------------------------------------------------------------------------

    def pending_uids(self, model_version: str, *, limit: int | None = None) -> list[str]:
        """Uids with no classification for ``model_version`` (what a re-run must label)."""
        query = """SELECT r.uid FROM reviews r LEFT JOIN classifications c
                   ON c.uid = r.uid AND c.model_version = ? WHERE c.uid IS NULL ORDER BY r.uid"""
        if limit:
            query += f" LIMIT {int(limit)}"
        return [r[0] for r in self.conn.execute(query, (model_version,)).fetchall()]

    def texts_for(self, uids: Sequence[str]) -> list[sqlite3.Row]:
        """``uid, title, text, rating, language`` rows for the given uids, in that order."""
        out: list[sqlite3.Row] = []
        for i in range(0, len(uids), 500):
            chunk = list(uids[i : i + 500])
            rows = self.conn.execute(
                f"SELECT uid, title, text, rating, language FROM reviews WHERE uid IN "
                f"({', '.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            by_uid = {r["uid"]: r for r in rows}
            out.extend(by_uid[u] for u in chunk if u in by_uid)
        return out

    def write_classifications(
        self, rows: Iterable[dict[str, Any]], mentions: Iterable[dict[str, Any]] = ()
    ) -> int:
        """Store review-level labels and aspect-level mentions in one transaction."""
        n = 0
        cols = ("uid", "model_version", "language", "status", "sentiment", "sentiment_score",
                "problem_report", "feature_request", "praise", "question", "other", "input_type",
                "needs_json", "classified_at")
        mcols = MENTION_COLUMNS
        with self.transaction() as conn:
            for row in rows:
                values = {**row, "classified_at": row.get("classified_at") or utc_now()}
                if not isinstance(values.get("needs_json"), str):
                    values["needs_json"] = json.dumps(values.get("needs_json") or {},
                                                      sort_keys=True)
                conn.execute(
                    f"INSERT OR REPLACE INTO classifications ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' * len(cols))})",
                    [values.get(c) for c in cols],
                )
                n += 1
            for m in mentions:
                conn.execute(
                    f"INSERT OR REPLACE INTO mentions ({', '.join(mcols)}) VALUES "
                    f"({', '.join('?' * len(mcols))})",
                    [m.get(c) for c in mcols],
                )
        return n

    def classifications_frame(self, model_version: str | None = None) -> pd.DataFrame:
        """Review-level labels; ``needs`` parsed from JSON into a dict column."""
        query, params = "SELECT * FROM classifications", []
        if model_version:
            query, params = query + " WHERE model_version = ?", [model_version]
        frame = pd.read_sql_query(query + " ORDER BY uid", self.conn, params=params)
        frame["needs"] = [json.loads(v) for v in frame["needs_json"]]
        return frame

    def mentions_frame(self, model_version: str | None = None) -> pd.DataFrame:
        query, params = "SELECT * FROM mentions", []
        if model_version:
            query, params = query + " WHERE model_version = ?", [model_version]
        return pd.read_sql_query(query + " ORDER BY uid, sentence_index, need", self.conn,
                                 params=params)

    def model_versions(self) -> list[str]:
        rows = self.conn.execute(
            "SELECT model_version, MAX(classified_at) AS at FROM classifications "
            "GROUP BY model_version ORDER BY at DESC"
        ).fetchall()
        return [r[0] for r in rows]

    def write_themes(self, model_version: str, themes: Iterable[dict[str, Any]],
                     mentions: Iterable[dict[str, Any]] | None = None) -> None:
        """Replace a model version's themes; with ``mentions``, its ``theme:<n>`` mentions too."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM themes WHERE model_version = ?", (model_version,))
            for t in themes:
                conn.execute(
                    "INSERT INTO themes VALUES (?, ?, ?, ?, ?, ?)",
                    (model_version, t["theme_id"], t["label"], json.dumps(t["words"]),
                     json.dumps(t["examples"]), int(t["size"])),
                )
            if mentions is not None:
                # Theme ids are renumbered by each discovery: the old theme mentions go too.
                conn.execute("DELETE FROM mentions WHERE model_version = ? AND need LIKE "
                             "'theme:%'", (model_version,))
                mcols = MENTION_COLUMNS
                for m in mentions:
                    conn.execute(
                        f"INSERT OR REPLACE INTO mentions ({', '.join(mcols)}) VALUES "
                        f"({', '.join('?' * len(mcols))})", [m.get(c) for c in mcols])

    def themes_frame(self, model_version: str | None = None) -> pd.DataFrame:
        query, params = "SELECT * FROM themes", []
        if model_version:
            query, params = query + " WHERE model_version = ?", [model_version]
        return pd.read_sql_query(query + " ORDER BY size DESC", self.conn, params=params)


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
