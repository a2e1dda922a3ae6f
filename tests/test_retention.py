"""Retention: raw run folders older than raw_days are pruned; the store is never touched."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis.retention import prune_raw
from analysis.store import ReviewStore
from analysis.workspace import new_run_id

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _run_folder(raw: Path, age_days: float) -> str:
    run_id = new_run_id(NOW - timedelta(days=age_days))
    folder = raw / run_id
    folder.mkdir(parents=True)
    (folder / "apple_app_store__acme.jsonl").write_text('{"review_id": "1"}\n')
    return run_id


def test_prunes_only_folders_older_than_raw_days(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    old = [_run_folder(raw, d) for d in (400, 181, 180.01)]
    young = [_run_folder(raw, d) for d in (179.99, 30, 0)]
    result = prune_raw(raw, raw_days=180, now=NOW)
    assert sorted(result.removed) == sorted(old)
    assert sorted(p.name for p in raw.iterdir()) == sorted(young)
    assert result.kept == 3
    assert result.failed == {}


def test_current_run_is_kept_whatever_its_age(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    current = _run_folder(raw, 1000)
    result = prune_raw(raw, raw_days=1, keep=current, now=NOW)
    assert result.removed == []
    assert (raw / current).is_dir()


def test_non_run_names_use_mtime_and_symlinks_and_files_are_left(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    manual = raw / "manual-copy"
    manual.mkdir()
    old = (NOW - timedelta(days=10)).timestamp()
    os.utime(manual, (old, old))
    fresh = raw / "fresh-copy"
    fresh.mkdir()
    os.utime(fresh, (NOW.timestamp(), NOW.timestamp()))
    target = tmp_path / "elsewhere"
    target.mkdir()
    (raw / "20000101T000000Z-link").symlink_to(target)
    (raw / "20000101T000000Z-file.txt").write_text("x")
    result = prune_raw(raw, raw_days=5, now=NOW)
    assert result.removed == ["manual-copy"]
    assert fresh.is_dir()
    assert target.is_dir()
    assert (raw / "20000101T000000Z-link").is_symlink()
    assert (raw / "20000101T000000Z-file.txt").exists()


def test_missing_raw_folder_is_nothing_to_do(tmp_path: Path) -> None:
    result = prune_raw(tmp_path / "raw", raw_days=1, now=NOW)
    assert (result.removed, result.kept) == ([], 0)


def test_unremovable_folder_is_reported_and_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    stuck, gone = _run_folder(raw, 50), _run_folder(raw, 60)
    real_rmtree = shutil.rmtree

    def rmtree(path: Path) -> None:  # as on a read-only mount (root ignores chmod here)
        if Path(path).name == stuck:
            raise PermissionError(13, "Permission denied", str(path))
        real_rmtree(path)

    monkeypatch.setattr("analysis.retention.shutil.rmtree", rmtree)
    result = prune_raw(raw, raw_days=10, now=NOW)
    assert result.removed == [gone]
    assert list(result.failed) == [stuck]
    assert "Permission denied" in result.failed[stuck]
    assert (raw / stuck).is_dir()


def test_store_is_untouched(tmp_path: Path) -> None:
    store = ReviewStore(tmp_path / "reviewgap.sqlite")
    run_id = _run_folder(tmp_path / "raw", 400)
    store.upsert_reviews([{"source": "s", "review_id": "1", "product": "p", "text": "t"}],
                         run_id=run_id)
    prune_raw(tmp_path / "raw", raw_days=1, now=NOW)
    assert store.review_count() == 1
    assert not (tmp_path / "raw" / run_id).exists()
    store.close()
