"""Since-last-run comparison and target health, on a store built by hand with known numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import chi2_contingency

from analysis.classify.taxonomy import build_taxonomy
from analysis.config import validate_config
from analysis.history import previous_run, since_last_run, target_health
from analysis.store import ReviewStore

MV = "test-model"


def _cfg(tmp_path: Path, min_sample: int = 20) -> Any:
    return validate_config({
        "project": {"workspace": str(tmp_path)},
        "report": {"min_sample": min_sample, "alpha": 0.05},
        "products": [{"key": "acme", "name": "Acme Notes", "ours": True},
                     {"key": "rival", "name": "Rival Pad"}],
    }, tmp_path / "reviewgap.toml")


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class Builder:
    """Writes runs, reviews (with chosen first-seen and publish times) and labels."""

    def __init__(self, store: ReviewStore) -> None:
        self.store = store
        self.n = 0

    def run(self, run_id: str, start: datetime, end: datetime | None, status: str = "ok",
            stats: dict[str, Any] | None = None, kind: str = "run") -> None:
        self.store.start_run(run_id, kind)
        if end is not None:
            self.store.finish_run(run_id, status=status, stats=stats or {"stages": [
                "crawl", "classify", "report"]})
        self.store.conn.execute("UPDATE runs SET started_at = ?, ended_at = ? WHERE run_id = ?",
                                (_iso(start), _iso(end) if end else None, run_id))

    def reviews(self, product: str, count: int, *, run_id: str, seen: datetime,
                published: datetime, with_need: int = 0, need: str = "sync_data",
                negative: int = 0) -> None:
        """``count`` reviews; the first ``with_need`` mention ``need``, the first ``negative``
        of those are negative."""
        rows, labels = [], []
        for i in range(count):
            self.n += 1
            rid = f"r{self.n}"
            rows.append({"source": "apple_app_store", "review_id": rid, "product": product,
                         "target": f"apple_app_store:{product}:us", "rating": 3,
                         "text": f"review {rid}",
                         "published_at": _iso(published + timedelta(hours=i % 20))})
            mentions = i < with_need
            labels.append({"uid": f"apple_app_store:{rid}", "model_version": MV,
                           "status": "ok", "sentiment": "negative" if i < negative else
                           "positive", "sentiment_score": 0.0, "problem_report": 0,
                           "feature_request": 0, "praise": 0, "question": 0, "other": 1,
                           "input_type": "other",
                           "needs_json": {need: 0.9} if mentions else {}})
        self.store.upsert_reviews(rows, run_id=run_id)
        self.store.write_classifications(labels)
        uids = [r["source"] + ":" + r["review_id"] for r in rows]
        self.store.conn.execute(
            f"UPDATE reviews SET first_seen_at = ? WHERE uid IN ({','.join('?' * len(uids))})",
            [_iso(seen), *uids])


T0 = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def built(tmp_path: Path) -> tuple[ReviewStore, Builder]:
    store = ReviewStore(tmp_path / "s.sqlite")
    b = Builder(store)
    b.run("R1", T0, T0 + timedelta(minutes=10),
          stats={"stages": ["crawl", "classify", "report"],
                 "themes": [{"label": "widget / home / screen", "size": 6, "words": "w"}]})
    sep = datetime(2026, 9, 5, tzinfo=UTC)
    octo = datetime(2026, 10, 5, tzinfo=UTC)
    seen0, seen1 = T0 + timedelta(minutes=5), T1 + timedelta(minutes=5)
    # Acme sync share 5/100 -> 40/100 (a planted jump); Rival pricing 20/100 -> 22/100 (noise).
    b.reviews("acme", 100, run_id="R1", seen=seen0, published=sep, with_need=5)
    b.reviews("rival", 100, run_id="R1", seen=seen0, published=sep, with_need=20,
              need="pricing")
    # A failed and a killed run in between: neither is "the previous run".
    b.run("R1b", T0 + timedelta(days=10), T0 + timedelta(days=10, minutes=1), status="failed")
    b.run("R1c", T0 + timedelta(days=20), None)
    b.run("R2", T1, None)
    b.reviews("acme", 100, run_id="R2", seen=seen1, published=octo, with_need=40, negative=30)
    b.reviews("rival", 100, run_id="R2", seen=seen1, published=octo, with_need=22,
              need="pricing")
    for run_id, avg, count in (("R1", 4.5, 1000), ("R2", 4.2, 1100)):
        store.add_app_meta({"target": "apple_app_store:acme:us", "source": "apple_app_store",
                            "product": "acme", "average_rating": avg, "rating_count": count},
                           run_id=run_id)
    store.add_app_meta({"target": "apple_app_store:rival:us", "source": "apple_app_store",
                        "product": "rival", "average_rating": 3.9, "rating_count": 50},
                       run_id="R2")  # no earlier row: no comparison
    store.write_themes(MV, [
        {"theme_id": "theme:0", "label": "widget / home / screen", "words": ["widget"],
         "examples": [], "size": 6},
        {"theme_id": "theme:1", "label": "dark / mode / night", "words": ["dark", "mode"],
         "examples": [], "size": 9},
    ])
    return store, b


def test_previous_run_is_last_ok_run_with_report(built: tuple[ReviewStore, Builder]) -> None:
    store, _ = built
    prev = previous_run(store, "R2")
    assert prev is not None
    assert prev["run_id"] == "R1"
    assert previous_run(store, "R1") is None


def test_since_last_run_numbers(built: tuple[ReviewStore, Builder], tmp_path: Path) -> None:
    store, _ = built
    out = since_last_run(store, _cfg(tmp_path), run_id="R2", model_version=MV,
                         failures=["crawl: boom"])
    assert list(out) == ["summary", "previous_run", "window", "new_reviews", "need_changes",
                         "new_themes", "rating_changes", "failures", "method"]
    assert out["previous_run"].startswith("R1 (started 2026-10-01 03:00:00 UTC)")
    assert out["new_reviews"] == [
        {"product": "Acme Notes", "new_reviews": 100, "total_reviews": 200},
        {"product": "Rival Pad", "new_reviews": 100, "total_reviews": 200},
    ]
    assert out["window"]["days"] == 30  # newest Oct 5 19:00 - cutoff Sep 5 19:00
    sync_label = build_taxonomy().label("sync_data")
    sync = [c for c in out["need_changes"] if c["need"] == sync_label]
    shares = [c for c in sync if c["measure"] == "share of reviews"]
    assert len(shares) == 1
    row = shares[0]
    assert row["product"] == "Acme Notes"
    assert (row["before_pct"], row["since_pct"], row["change_pts"]) == (5.0, 40.0, 35.0)
    assert (row["count_before"], row["count_since"]) == ("5/100", "40/100")
    # The pooled z-test equals the uncorrected chi-square test on the 2x2 table.
    p_raw = chi2_contingency([[40, 60], [5, 95]], correction=False).pvalue
    assert p_raw <= row["p_adjusted"] < 0.05
    # Negative share of sync mentions: 0/5 -> 30/40 is a change too, but 5 mentions are under
    # min_sample (20): not tested, so not listed.
    assert not [c for c in sync if c["measure"] != "share of reviews"]
    # Rival's pricing 20 -> 22 % is noise.
    assert not [c for c in out["need_changes"] if c["product"] == "Rival Pad"]
    assert out["new_themes"] == [{"theme": "dark / mode / night", "size": 9,
                                  "words": "dark, mode"}]
    assert out["rating_changes"] == [
        {"product": "Acme Notes", "store": "apple_app_store:acme:us", "before": 4.5,
         "now": 4.2, "change": -0.3, "ratings_before": 1000, "ratings_now": 1100},
    ]
    assert out["failures"] == ["crawl: boom"]
    assert out["summary"].startswith("200 new review(s); 1 significant need change(s)")
    json.dumps(out)  # plain data only


def test_negative_share_tested_when_enough_mentions(built: tuple[ReviewStore, Builder],
                                                    tmp_path: Path) -> None:
    store, _ = built
    out = since_last_run(store, _cfg(tmp_path, min_sample=5), run_id="R2", model_version=MV)
    neg = [c for c in out["need_changes"] if c["measure"] == "negative share of mentions"]
    assert [(c["product"], c["count_before"], c["count_since"]) for c in neg] == [
        ("Acme Notes", "0/5", "30/40")]


def test_first_run(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "s.sqlite")
    b = Builder(store)
    b.run("R1", T0, None)
    b.reviews("acme", 7, run_id="R1", seen=T0, published=T0)
    out = since_last_run(store, _cfg(tmp_path), run_id="R1", model_version=MV)
    assert out["previous_run"] == "none (this is the first run)"
    assert out["new_reviews"][0] == {"product": "Acme Notes", "new_reviews": 7,
                                     "total_reviews": 7}
    assert out["need_changes"] == []
    assert out["rating_changes"] == []
    assert out["summary"].startswith("First run: 7 reviews collected")


def _job(name: str, failed: bool, targets: dict[str, dict[str, int]],
         errors: dict[str, int] | None = None) -> dict[str, Any]:
    return {"job": name, "finish_reason": "finished", "failed": failed, "targets": targets,
            "errors": errors or {}}


def test_target_health(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "s.sqlite")
    b = Builder(store)
    quiet, flaky, good = ("apple_app_store:quiet:us", "apple_app_store:flaky:us",
                          "apple_app_store:good:us")
    b.run("R1", T0, T0 + timedelta(minutes=1), stats={"crawl": {"jobs": [
        _job("apple_app_store:flaky", True, {flaky: {"pages": 1, "errors": 1}},
             {"page_failed": 1}),
        _job("google_play:gone", True, {}, {}),
    ]}})
    b.run("R2", T1, T1 + timedelta(minutes=1), stats={"crawl": {"jobs": [
        _job("apple_app_store:flaky", False, {flaky: {"pages": 2, "reviews": 10}}),
        _job("apple_app_store:quiet", False, {quiet: {"pages": 1, "reviews": 0}}),
        _job("apple_app_store:good", True, {good: {"pages": 1, "reviews": 5}},
             {"page_format": 1}),
    ]}})
    for run in ("R1", "R2"):
        store.complete_target(quiet, run_id=run, reviews_seen=0)
    store.complete_target(flaky, run_id="R2", reviews_seen=10)
    health = {h["target"]: h for h in target_health(store)}
    assert health[quiet]["status"] == "likely broken"
    assert health[quiet]["detail"] == "no reviews in the last 2 completed crawls"
    assert health[flaky]["status"] == "ok"  # failed in R1, fine in R2
    assert health[good]["status"] == "last crawl failed"
    assert "page_format=1" in health[good]["detail"]
    assert health["google_play:gone"]["status"] == "last crawl failed"
