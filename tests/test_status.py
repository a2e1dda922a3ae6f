"""``reviewgap status``: recent runs with their counts, target health flags, the run lock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from analysis.cli import cli
from analysis.lock import LOCK_NAME, RunLock
from analysis.store import ReviewStore

CONFIG = """\
[project]
workspace = "ws"

[[products]]
key = "acme"
name = "Acme"
"""


def _project(tmp_path: Path) -> tuple[Path, ReviewStore]:
    cfg = tmp_path / "reviewgap.toml"
    cfg.write_text(CONFIG, "utf-8")
    return cfg, ReviewStore(tmp_path / "ws" / "reviewgap.sqlite")


def _job(name: str, failed: bool, targets: dict[str, dict[str, int]],
         errors: dict[str, int] | None = None) -> dict[str, Any]:
    return {"job": name, "finish_reason": "finished", "failed": failed, "targets": targets,
            "errors": errors or {}}


def _status(cfg: Path) -> str:
    result = CliRunner().invoke(cli, ["status", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    return result.output


def test_status_shows_runs_counts_and_target_health(tmp_path: Path) -> None:
    cfg, store = _project(tmp_path)
    quiet, broken = "apple_app_store:acme:us", "apple_app_store:acme:gb"
    store.start_run("20261001T030000Z-aaaa", "run")
    store.finish_run("20261001T030000Z-aaaa", status="ok", report_path="/ws/r1.pdf", stats={
        "totals": {"new": 40}, "classify": {"classified": 40},
        "crawl": {"jobs": [_job("apple_app_store:acme", False, {quiet: {"reviews": 0}})]}})
    store.start_run("20261101T030000Z-bbbb", "run")
    store.finish_run("20261101T030000Z-bbbb", status="failed",
                     error="crawl: 1 job(s) failed: apple_app_store:acme", stats={
                         "totals": {"new": 0}, "crawl": {"jobs": [
                             _job("apple_app_store:acme", True,
                                  {quiet: {"reviews": 0}, broken: {"errors": 1}},
                                  {"page_failed": 1})]}})
    # A failed job marks none of its targets complete (analysis.store_pipeline).
    store.complete_target(quiet, run_id="20261001T030000Z-aaaa", reviews_seen=0)
    store.close()
    out = _status(cfg)
    assert "last 2 run(s):" in out
    assert ("20261001T030000Z-aaaa run    ok       " in out)
    assert ("new 40, classified 40, report /ws/r1.pdf" in out)
    assert "20261101T030000Z-bbbb run    failed" in out
    assert "error: crawl: 1 job(s) failed: apple_app_store:acme" in out
    lines = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("  apple_app_store")}
    # `quiet` is in the failed job but completed nothing in it: its last crawl failed too.
    assert "LAST CRAWL FAILED" in lines[quiet]
    assert "LAST CRAWL FAILED" in lines[broken]
    assert "page_failed=1" in lines[broken]
    assert "last completed never" in lines[broken]


def test_status_flags_two_empty_completed_crawls(tmp_path: Path) -> None:
    cfg, store = _project(tmp_path)
    target = "apple_app_store:acme:us"
    for run_id in ("R1", "R2"):
        store.start_run(run_id, "run")
        store.finish_run(run_id, status="ok", stats={"crawl": {"jobs": [
            _job("apple_app_store:acme", False, {target: {"pages": 1, "reviews": 0}})]}})
        store.complete_target(target, run_id=run_id, reviews_seen=0)
    store.close()
    out = _status(cfg)
    assert "LIKELY BROKEN (no reviews in the last 2 completed crawls)" in out


def test_status_shows_run_in_progress_and_stale_lock(tmp_path: Path) -> None:
    cfg, store = _project(tmp_path)
    store.close()
    with RunLock(tmp_path / "ws", run_id="live-run"):
        out = _status(cfg)
    assert (f"held by run live-run (pid {os.getpid()} on {socket.gethostname()}" in out)
    assert ("a run is in progress" in out)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    (tmp_path / "ws" / LOCK_NAME).write_text(json.dumps({
        "pid": proc.pid, "host": socket.gethostname(), "started_at": "2026-11-01T03:00:00Z",
        "run_id": "dead-run"}))
    out = _status(cfg)
    assert "held by run dead-run" in out
    assert "STALE" in out
    assert "the next run takes it over" in out


def test_status_without_store(tmp_path: Path) -> None:
    cfg = tmp_path / "reviewgap.toml"
    cfg.write_text(CONFIG, "utf-8")
    out = _status(cfg)
    assert "no store yet at" in out
