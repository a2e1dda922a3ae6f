"""Retention: prune raw crawl files older than ``[retention] raw_days``.

Stage: end of a run. In: the workspace's ``raw/`` folder (one sub-folder per run id), the
retention in days, the current run id (never pruned), the current time. Out: the list of
folders removed (and what failed to be removed). Reviews, labels and run history live in the
store and are never touched here: the raw files are only the audit trail of what each crawl
downloaded.

A folder's age comes from its run id's timestamp (``YYYYMMDDTHHMMSSZ-xxxx``, see
:func:`analysis.workspace.new_run_id`) because copying or touching a workspace changes mtimes;
folders whose name is not a run id fall back to their mtime.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

logger = logging.getLogger(__name__)


@attrs.define
class PruneResult:
    """What :func:`prune_raw` did."""

    removed: list[str] = attrs.field(factory=list)
    """Names of the run folders removed."""
    failed: dict[str, str] = attrs.field(factory=dict)
    """Run folder name -> error, for folders that could not be removed."""
    kept: int = 0
    """Run folders still within the retention period (or the current run)."""


def folder_time(folder: Path) -> datetime:
    """When a raw run folder was written: its run id's timestamp, else its mtime.

    >>> folder_time(Path("raw/20260101T030000Z-ab12")).isoformat()
    '2026-01-01T03:00:00+00:00'
    """
    try:
        return datetime.strptime(folder.name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return datetime.fromtimestamp(folder.stat().st_mtime, tz=UTC)


def prune_raw(
    raw_root: Path,
    *,
    raw_days: int,
    keep: str | None = None,
    now: datetime | None = None,
) -> PruneResult:
    """Remove ``raw_root/<run_id>/`` folders older than ``raw_days`` days.

    Args:
        raw_root: ``<workspace>/raw``.
        raw_days: retention in days (``[retention] raw_days``).
        keep: a run id whose folder stays whatever its age (the run in progress).
        now: the current time (tests pass a fixed one).

    Returns:
        A :class:`PruneResult`. A folder that cannot be removed is logged and listed in
        ``failed``; pruning goes on with the others.
    """
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=raw_days)
    result = PruneResult()
    if not raw_root.is_dir():
        return result
    for folder in sorted(raw_root.iterdir()):
        # Only real run folders: a symlink or a stray file is the operator's, not ours.
        if folder.is_symlink() or not folder.is_dir():
            continue
        if folder.name == keep or folder_time(folder) >= cutoff:
            result.kept += 1
            continue
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            logger.warning("retention: could not remove %s: %s", folder, exc)
            result.failed[folder.name] = str(exc)
            continue
        result.removed.append(folder.name)
    if result.removed:
        logger.info("retention: removed %d raw run folder(s) older than %d days: %s",
                    len(result.removed), raw_days, ", ".join(result.removed))
    return result
