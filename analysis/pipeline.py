"""One run of the whole pipeline: crawl what is new, classify what is unlabelled, report.

In: a :class:`~analysis.config.ProjectConfig`, Scrapy overrides, the stages to run. Out: a
:class:`RunResult` (run id, per-stage results, exit code) and a row in the store's ``runs`` table
with the per-target counts, errors, report path and model versions.

A stage that fails does not stop the later ones (a report from what was collected is still worth
having) but makes the run's exit code 1. ``reviewgap run`` and ``reviewgap demo`` both come here.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from analysis.config import ProjectConfig
from analysis.store import ReviewStore
from analysis.workspace import Workspace, new_run_id

logger = logging.getLogger(__name__)

STAGES: tuple[str, ...] = ("crawl", "classify", "report")


@attrs.define
class RunResult:
    """What a run did; ``exit_code`` is 0 when every stage succeeded, else 1."""

    run_id: str
    crawl: Any = None
    classify: Any = None
    report: Any = None
    model_versions: list[str] = attrs.field(factory=list)
    errors: list[str] = attrs.field(factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    @property
    def status(self) -> str:
        return "failed" if self.errors else "ok"


def run_pipeline(
    cfg: ProjectConfig,
    *,
    overrides: dict[str, str] | None = None,
    stages: Sequence[str] = STAGES,
    products: Sequence[str] = (),
    sources: Sequence[str] = (),
    run_id: str | None = None,
    kind: str = "run",
    log: Callable[[str], None] = print,
) -> RunResult:
    """Run ``stages`` in order (see module docstring); never raises for a stage failure."""
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; stages are {', '.join(STAGES)}")
    ws = Workspace.from_config(cfg)
    result = RunResult(run_id=run_id or new_run_id())
    store = ReviewStore(ws.store_path)
    store.start_run(result.run_id, kind)
    store.close()

    if "crawl" in stages:
        _stage(result, "crawl", log, lambda: _crawl(cfg, result, overrides, products, sources, log))
    if "classify" in stages:
        _stage(result, "classify", log, lambda: _classify(cfg, result, log))
    if "report" in stages:
        _stage(result, "report", log, lambda: _report(cfg, result, log))

    store = ReviewStore(ws.store_path)
    store.finish_run(
        result.run_id,
        status=result.status,
        stats=_stats(result),
        report_path=str(result.report.pdf) if result.report else None,
        model_versions=result.model_versions,
        error="; ".join(result.errors) or None,
    )
    store.close()
    return result


def _stage(result: RunResult, name: str, log: Callable[[str], None], body: Callable[[], None]) -> None:
    log(f"== {name}")
    try:
        body()
    except Exception as exc:  # a stage failure is recorded, and later stages still run
        logger.debug("stage %s failed:\n%s", name, traceback.format_exc())
        result.errors.append(f"{name}: {exc}")
        log(f"error: {name} failed: {exc}")


def _crawl(
    cfg: ProjectConfig,
    result: RunResult,
    overrides: dict[str, str] | None,
    products: Sequence[str],
    sources: Sequence[str],
    log: Callable[[str], None],
) -> None:
    from analysis.crawl import format_summary, run_crawl

    summary = run_crawl(cfg, run_id=result.run_id, overrides=overrides, products=products,
                        sources=sources)
    result.crawl = summary
    log(format_summary(summary))
    failed = [j.job for j in summary.jobs if j.failed]
    if failed:
        result.errors.append(f"crawl: {len(failed)} job(s) failed: {', '.join(failed)}")


def _classify(cfg: ProjectConfig, result: RunResult, log: Callable[[str], None]) -> None:
    from analysis.classify import build_classifier, classify_pending

    ws = Workspace.from_config(cfg)
    store = ReviewStore(ws.store_path)
    try:
        clf = build_classifier(cfg)
        result.model_versions = [clf.model_version]
        result.classify = classify_pending(store, clf, batch_size=cfg.classification.batch_size)
    finally:
        store.close()
    log(f"classified: {result.classify}")


def _report(cfg: ProjectConfig, result: RunResult, log: Callable[[str], None]) -> None:
    from analysis.report.build import build_report

    ws = Workspace.from_config(cfg)
    store = ReviewStore(ws.store_path)
    try:
        model_version = result.model_versions[0] if result.model_versions else None
        result.report = build_report(store, cfg, model_version=model_version)
    finally:
        store.close()
    log(f"report: {result.report.pdf}")


def _stats(result: RunResult) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    if result.crawl is not None:
        stats["crawl"] = result.crawl.as_dict()
    if result.classify is not None:
        stats["classify"] = (
            attrs.asdict(result.classify) if attrs.has(type(result.classify))
            else result.classify if isinstance(result.classify, dict) else str(result.classify)
        )
    return stats
