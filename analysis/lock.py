"""The workspace run lock: at most one ``reviewgap run`` per workspace at a time.

Stage: run orchestration. In: the workspace folder, this run's id, a maximum lock age. Out: a
lock file ``<workspace>/reviewgap.lock`` (JSON: pid, host, started_at, run_id) held for the
run's duration, or :class:`RunLockedError` naming the file and its holder.

Why two files: the lock file itself is created with ``O_CREAT | O_EXCL`` (atomic: of two
runs, exactly one creates it). Taking over a *stale* lock (its holder was killed) is
read-check-unlink-create, which is not atomic on its own: two runs that both found the same
stale lock could each delete what the other just created. So every acquire and release runs
under a short ``fcntl.flock`` on ``<workspace>/reviewgap.lock.guard``; the kernel drops that
flock when a process dies, so a killed run can never leave the guard held.

A lock is stale when its holder's pid is not alive on this host (a pid on another host cannot
be checked), when it is older than ``max_age`` (covers pid reuse and other hosts), or when it
is empty or unreadable (a writer died mid-write; writes happen under the guard, so a live
holder is never seen half-written).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

logger = logging.getLogger(__name__)

LOCK_NAME = "reviewgap.lock"
DEFAULT_MAX_AGE = timedelta(hours=24)
"""A monthly run takes minutes to a few hours; a day-old lock is from a run that is gone."""


@attrs.define(frozen=True)
class LockHolder:
    """Who holds (or held) a lock file."""

    pid: int
    """Process id of the run."""
    host: str
    """``socket.gethostname()`` of the run's machine."""
    started_at: str
    """ISO 8601 UTC, when the lock was taken."""
    run_id: str
    """The run's id (``runs.run_id`` in the store)."""

    def describe(self) -> str:
        """A one-line human description for error messages and ``reviewgap status``."""
        return f"run {self.run_id} (pid {self.pid} on {self.host}, started {self.started_at})"

    @classmethod
    def parse(cls, text: str) -> LockHolder | None:
        """The holder recorded in a lock file's text; None when empty or malformed."""
        try:
            data = json.loads(text)
            return cls(pid=int(data["pid"]), host=str(data["host"]),
                       started_at=str(data["started_at"]), run_id=str(data["run_id"]))
        except (ValueError, KeyError, TypeError):
            return None


class RunLockedError(RuntimeError):
    """Another run holds the workspace lock; the message names the lock file and holder."""

    def __init__(self, path: Path, holder: LockHolder | None) -> None:
        who = holder.describe() if holder else "an unknown holder"
        super().__init__(
            f"another reviewgap run is in progress: {path} is held by {who}. "
            f"Wait for it to finish; if that run is gone, delete {path}."
        )
        self.path = path
        self.holder = holder


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie.

    >>> pid_alive(os.getpid())
    True
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    # A killed child its parent has not reaped yet still answers kill(0): ask /proc.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    state = stat.rsplit(")", 1)[-1].split()[:1]
    return state != ["Z"]


def stale_reason(
    holder: LockHolder | None,
    *,
    max_age: timedelta = DEFAULT_MAX_AGE,
    now: datetime | None = None,
    host: str | None = None,
) -> str | None:
    """Why a lock with this holder may be taken over, or None when it is live.

    Args:
        holder: the parsed lock file (None: empty or unreadable).
        max_age: locks older than this are stale whoever holds them.
        now: the current time (tests pass a fixed one).
        host: this machine's name (default ``socket.gethostname()``).

    Returns:
        A short reason for the log, or None.
    """
    if holder is None:
        return "the lock file is empty or unreadable"
    now = now or datetime.now(UTC)
    host = host or socket.gethostname()
    try:
        started = datetime.fromisoformat(holder.started_at.replace("Z", "+00:00"))
    except ValueError:
        return f"its start time {holder.started_at!r} is not a date"
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    age = now - started
    if age > max_age:
        return f"it is {_hours(age)} old (max age {_hours(max_age)})"
    if holder.host == host and not pid_alive(holder.pid):
        return f"pid {holder.pid} is no longer running on {host}"
    return None


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


class RunLock:
    """The lock of one workspace (see the module docstring). Use as a context manager.

    Example:
        >>> import tempfile
        >>> with RunLock(Path(tempfile.mkdtemp()), run_id="r1") as lock:
        ...     lock.path.exists()
        True
    """

    def __init__(
        self,
        workspace: Path,
        *,
        run_id: str,
        max_age: timedelta = DEFAULT_MAX_AGE,
    ) -> None:
        self.path = Path(workspace) / LOCK_NAME
        self.guard_path = self.path.with_name(LOCK_NAME + ".guard")
        self.run_id = run_id
        self.max_age = max_age
        self.holder: LockHolder | None = None
        self.took_over: tuple[LockHolder | None, str] | None = None
        """When a stale lock was taken over: its holder and why it was stale."""

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        self.guard_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.guard_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held for microseconds; blocking is fine
            yield
        finally:
            os.close(fd)  # closing drops the flock

    def acquire(self) -> LockHolder:
        """Take the lock, taking over a stale one; raise :class:`RunLockedError` if held."""
        me = LockHolder(pid=os.getpid(), host=socket.gethostname(),
                        started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        run_id=self.run_id)
        with self._guard():
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                current = read_holder(self.path)
                reason = stale_reason(current, max_age=self.max_age)
                if reason is None:
                    raise RunLockedError(self.path, current) from None
                logger.warning("taking over stale lock %s held by %s: %s", self.path,
                               current.describe() if current else "an unknown holder", reason)
                self.took_over = (current, reason)
                self.path.unlink(missing_ok=True)  # a hand-deleted lock is fine too
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(attrs.asdict(me), fh)
                fh.flush()
                os.fsync(fh.fileno())
        self.holder = me
        return me

    def release(self) -> None:
        """Remove the lock file if it is still ours (a takeover may have replaced it)."""
        if self.holder is None:
            return
        with self._guard():
            if read_holder(self.path) == self.holder:
                self.path.unlink()
            else:
                logger.warning("lock %s is no longer ours (%s): leaving it", self.path,
                               self.holder.describe())
        self.holder = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def read_holder(path: Path) -> LockHolder | None:
    """The holder recorded in ``path``; None when absent, empty or malformed."""
    try:
        return LockHolder.parse(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        return None
