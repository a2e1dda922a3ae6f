"""Build the market-gap report: metrics -> context -> HTML -> PDF, plus CSV and XLSX tables.

Stage: report. In: a :class:`ReviewStore` with classified reviews, the project config.
Out: :class:`ReportOutputs` (paths of the PDF, the HTML, the CSV folder and the XLSX) in
``<workspace>/reports/<YYYY-MM-DD>-<slug>/`` or ``out_dir``.

Same store, config, model version and ``now`` give the same bytes in every file. ``now``
defaults to ``$SOURCE_DATE_EPOCH`` when set, else the current time.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from analysis.config import ProjectConfig, slug
from analysis.report import tables
from analysis.report.context import build_context
from analysis.report.data import NoClassifiedReviews, compute, export_frames
from analysis.report.pdf import write_pdf
from analysis.report.render import render_html, template_dirs
from analysis.store import ReviewStore

log = logging.getLogger(__name__)

__all__ = ["NoClassifiedReviews", "ReportOutputs", "build_report"]


@attrs.define(frozen=True)
class ReportOutputs:
    """Where the report's files are."""

    pdf: Path
    html: Path
    csv_dir: Path
    xlsx: Path
    refused_urls: tuple[str, ...] = ()


def report_time(now: datetime | None) -> datetime:
    """``now`` in UTC; default ``$SOURCE_DATE_EPOCH`` (reproducible builds) or the clock."""
    if now is not None:
        return now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def pick_model_version(store: ReviewStore, model_version: str | None) -> str:
    """The asked version, else the store's most recently used one."""
    if model_version:
        return model_version
    versions = store.model_versions()
    if not versions:
        raise NoClassifiedReviews("the store has no classified reviews")
    return versions[0]


def build_report(
    store: ReviewStore,
    cfg: ProjectConfig,
    *,
    out_dir: Path | None = None,
    now: datetime | None = None,
    model_version: str | None = None,
    since_last_run: dict[str, Any] | None = None,
) -> ReportOutputs:
    """Compute, render and write the report (see the module docstring).

    Raises:
        NoClassifiedReviews: nothing to report on (run ``reviewgap classify`` first).
        FileNotFoundError: the configured ``project.templates`` folder is missing.
    """
    when = report_time(now)
    version = pick_model_version(store, model_version)
    data = compute(store, cfg, version)
    name = f"{when:%Y-%m-%d}-{slug(cfg.title)}"
    folder = Path(out_dir) if out_dir else cfg.workspace / "reports" / name
    folder.mkdir(parents=True, exist_ok=True)
    dirs = template_dirs(cfg)
    context = build_context(data, now=when, since_last_run=since_last_run)
    html = render_html(context, dirs)
    html_path = folder / f"{name}.html"
    html_path.write_text(html, "utf-8")
    pdf_path = folder / f"{name}.pdf"
    refused = write_pdf(html, pdf_path, roots=dirs, epoch=int(when.timestamp()))
    frames = export_frames(data)
    csv_dir = folder / "tables"
    tables.write_csvs(frames, csv_dir)
    xlsx = tables.write_xlsx(frames, folder / f"{name}.xlsx", created=when)
    log.info("report: %s (%d reviews, model %s)", pdf_path, len(data.reviews), version)
    return ReportOutputs(pdf=pdf_path, html=html_path, csv_dir=csv_dir, xlsx=xlsx,
                         refused_urls=tuple(refused))
