"""The workspace folder: where the store, raw crawl files, logs, reports and caches live.

In: a :class:`~analysis.config.ProjectConfig`. Out: paths, created on first use, and run ids.

Layout::

    <workspace>/reviewgap.sqlite      the store (reviews, labels, runs)
    <workspace>/raw/<run_id>/          raw crawl files (JSON lines, one per spider x product)
    <workspace>/state/                 known-id files handed to spiders for the incremental stop
    <workspace>/reports/               reports, one folder per run date
    <workspace>/evaluation/latest.json measured accuracy (``reviewgap evaluate``)
    <workspace>/logs/                  scheduled-run logs
    <workspace>/cache/                 model caches (e.g. the ONNX export)
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import attrs

from analysis.config import ProjectConfig


@attrs.define(frozen=True)
class Workspace:
    """Paths inside one project's workspace folder."""

    root: Path

    @classmethod
    def from_config(cls, cfg: ProjectConfig) -> Workspace:
        return cls(cfg.workspace)

    def _dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def store_path(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root / "reviewgap.sqlite"

    def raw_dir(self, run_id: str) -> Path:
        return self._dir(f"raw/{run_id}")

    @property
    def raw_root(self) -> Path:
        return self._dir("raw")

    @property
    def state_dir(self) -> Path:
        return self._dir("state")

    @property
    def reports_dir(self) -> Path:
        return self._dir("reports")

    @property
    def evaluation_dir(self) -> Path:
        return self._dir("evaluation")

    @property
    def logs_dir(self) -> Path:
        return self._dir("logs")

    @property
    def cache_dir(self) -> Path:
        return self._dir("cache")


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id such as ``20261123T162659Z-3fa2``."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"
