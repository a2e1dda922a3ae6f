"""The workspace run lock: exclusion, stale detection and takeover, races between processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis.lock import (
    LOCK_NAME,
    LockHolder,
    RunLock,
    RunLockedError,
    pid_alive,
    read_holder,
    stale_reason,
)


def _write(path: Path, **fields: object) -> None:
    base = {"pid": os.getpid(), "host": socket.gethostname(),
            "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "run_id": "old"}
    path.write_text(json.dumps({**base, **fields}), "utf-8")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid is free (reuse within the test is practically impossible)
    return proc.pid


def test_lock_file_records_holder_and_is_removed(tmp_path: Path) -> None:
    with RunLock(tmp_path, run_id="r1") as lock:
        holder = read_holder(tmp_path / LOCK_NAME)
        assert holder == lock.holder
        assert holder is not None
        assert (holder.pid, holder.host, holder.run_id) == (os.getpid(), socket.gethostname(),
                                                            "r1")
    assert not (tmp_path / LOCK_NAME).exists()


def test_live_holder_refuses_second_lock_naming_file_and_holder(tmp_path: Path) -> None:
    with RunLock(tmp_path, run_id="first"), pytest.raises(RunLockedError) as err:
        RunLock(tmp_path, run_id="second").acquire()
    message = str(err.value)
    assert str(tmp_path / LOCK_NAME) in message
    assert "run first" in message
    assert f"pid {os.getpid()}" in message
    assert err.value.holder is not None
    assert err.value.holder.run_id == "first"


def test_dead_pid_on_this_host_is_taken_over(tmp_path: Path, caplog: pytest.LogCaptureFixture
                                             ) -> None:
    dead = _dead_pid()
    _write(tmp_path / LOCK_NAME, pid=dead, run_id="killed")
    lock = RunLock(tmp_path, run_id="next")
    with caplog.at_level("WARNING", logger="analysis.lock"):
        lock.acquire()
    assert lock.took_over is not None
    old, reason = lock.took_over
    assert old is not None
    assert old.run_id == "killed"
    assert f"pid {dead} is no longer running" in reason
    assert "taking over stale lock" in caplog.text
    assert "killed" in caplog.text
    assert read_holder(tmp_path / LOCK_NAME).run_id == "next"  # type: ignore[union-attr]
    lock.release()


def test_other_host_is_live_until_max_age(tmp_path: Path) -> None:
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    holder = LockHolder(pid=1, host="elsewhere", started_at="2026-11-01T10:00:00Z", run_id="x")
    assert stale_reason(holder, now=now, host="here", max_age=timedelta(hours=3)) is None
    reason = stale_reason(holder, now=now, host="here", max_age=timedelta(hours=1))
    assert reason == "it is 2.0 h old (max age 1.0 h)"


def test_old_lock_of_live_pid_is_stale(tmp_path: Path) -> None:
    # pid reuse: our own (live) pid, but the lock is two days old.
    _write(tmp_path / LOCK_NAME, started_at="2020-01-01T00:00:00Z", run_id="ancient")
    lock = RunLock(tmp_path, run_id="new", max_age=timedelta(hours=24))
    lock.acquire()
    assert lock.took_over is not None
    assert "old (max age 24.0 h)" in lock.took_over[1]
    lock.release()


@pytest.mark.parametrize("content", ["", "{not json", json.dumps({"pid": 1})])
def test_empty_or_corrupt_lock_is_stale(tmp_path: Path, content: str) -> None:
    (tmp_path / LOCK_NAME).write_text(content, "utf-8")
    lock = RunLock(tmp_path, run_id="new")
    lock.acquire()
    assert lock.took_over == (None, "the lock file is empty or unreadable")
    lock.release()


def test_pid_alive_sees_zombie_as_dead() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    # Not reaped yet: kill(pid, 0) succeeds for a zombie; /proc says Z.
    deadline = datetime.now(UTC) + timedelta(seconds=20)
    while pid_alive(proc.pid) and datetime.now(UTC) < deadline:
        pass
    assert not pid_alive(proc.pid)
    proc.wait()
    assert pid_alive(os.getpid())


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path: Path) -> None:
    lock = RunLock(tmp_path, run_id="mine")
    lock.acquire()
    _write(tmp_path / LOCK_NAME, run_id="someone-else")
    lock.release()
    assert read_holder(tmp_path / LOCK_NAME).run_id == "someone-else"  # type: ignore[union-attr]


def _contend(workspace: str, run_id: str, barrier: multiprocessing.synchronize.Barrier,
             results: multiprocessing.Queue[tuple[str, str]]) -> None:
    barrier.wait(timeout=30)
    try:
        RunLock(Path(workspace), run_id=run_id).acquire()  # kept: never released
        results.put((run_id, "won"))
    except RunLockedError:
        results.put((run_id, "refused"))
    except Exception as exc:  # reported, so the test fails instead of hanging
        results.put((run_id, f"error: {exc!r}"))
    # Stay alive until every racer has tried: a winner that exited would (rightly) leave a
    # stale lock for a late racer to take over.
    barrier.wait(timeout=30)


@pytest.mark.parametrize("stale_first", [False, True])
def test_exactly_one_of_many_racing_processes_wins(tmp_path: Path, stale_first: bool) -> None:
    if stale_first:  # all racers find the same stale lock: only one may take it over
        _write(tmp_path / LOCK_NAME, pid=_dead_pid(), run_id="killed")
    ctx = multiprocessing.get_context("fork")
    n = 6
    barrier = ctx.Barrier(n)
    results: multiprocessing.Queue[tuple[str, str]] = ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(str(tmp_path), f"r{i}", barrier, results))
             for i in range(n)]
    for p in procs:
        p.start()
    outcomes = dict(results.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert all(o in ("won", "refused") for o in outcomes.values()), outcomes
    winners = [r for r, o in outcomes.items() if o == "won"]
    assert len(winners) == 1, outcomes
    assert read_holder(tmp_path / LOCK_NAME).run_id == winners[0]  # type: ignore[union-attr]
