"""One run of the whole pipeline: crawl what is new, classify what is unlabelled, report.

In: a :class:`~analysis.config.ProjectConfig`, Scrapy overrides, the stages to run. Out: a
:class:`RunResult` (run id, per-stage results, exit code) and a row in the store's ``runs`` table
whose ``stats_json`` holds the stages run, per-target counts, errors, the since-last-run
comparison, theme labels, alert deliveries and what retention pruned.

Order: take the workspace lock (:mod:`analysis.lock`; a second run is refused with
:class:`~analysis.lock.RunLockedError`, a stale lock from a killed run is taken over and that
run is marked ``killed``) -> crawl -> classify -> since-last-run comparison
(:mod:`analysis.history`) -> report -> retention (:mod:`analysis.retention`) -> alerts
(:mod:`analysis.alerts`) -> record the run -> release the lock.

A stage that fails does not stop the later ones (a report from what was collected is still worth
having) but makes the run's exit code 1. Retention and alert delivery problems are logged and
recorded, never failing the run. ``reviewgap run``, ``reviewgap crawl`` and ``reviewgap demo``
all come here.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import attrs

from analysis.config import ProjectConfig
from analysis.lock import DEFAULT_MAX_AGE, RunLock
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
    since_last_run: dict[str, Any] | None = None
    """The :func:`analysis.history.since_last_run` dict (when the report stage ran)."""
    problems: list[str] = attrs.field(factory=list)
    """Target health problems after this run (likely broken, last crawl failed)."""
    deliveries: list[Any] = attrs.field(factory=list)
    """:class:`analysis.alerts.Delivery` per configured alert channel."""
    pruned: Any = None
    """:class:`analysis.retention.PruneResult`."""
    lock_takeover: str | None = None
    """When a stale lock was taken over: whose and why."""

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
    lock: bool = True,
    lock_max_age: timedelta = DEFAULT_MAX_AGE,
    alerts: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Run ``stages`` in order (see module docstring); never raises for a stage failure.

    Args:
        cfg: the project.
        overrides: Scrapy settings (``-s KEY=VALUE``).
        stages: a subset of :data:`STAGES`.
        products: crawl only these product keys (default all).
        sources: crawl only these sources (default all).
        run_id: default a new one.
        kind: recorded in ``runs.kind`` (``run``, ``crawl``, ``demo``).
        log: where progress lines go.
        lock: take the workspace lock (see :mod:`analysis.lock`).
        lock_max_age: a lock older than this is stale whoever holds it.
        alerts: send the ``[alerts]`` digest at the end; default: for ``kind == "run"``
            only (an ad-hoc ``reviewgap crawl`` or the demo sends none).
        env: environment for SMTP settings (default ``os.environ``).

    Raises:
        analysis.lock.RunLockedError: another run holds the workspace lock (nothing was done).
    """
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; stages are {', '.join(STAGES)}")
    ws = Workspace.from_config(cfg)
    result = RunResult(run_id=run_id or new_run_id())
    run_lock = RunLock(ws.root, run_id=result.run_id, max_age=lock_max_age) if lock else None
    if run_lock is not None:
        run_lock.acquire()
    try:
        with _store(ws) as store:
            store.start_run(result.run_id, kind)
            if run_lock is not None and run_lock.took_over is not None:
                _record_takeover(store, result, run_lock.took_over, log)

        if "crawl" in stages:
            _stage(result, "crawl", log,
                   lambda: _crawl(cfg, result, overrides, products, sources, log))
        if "classify" in stages:
            _stage(result, "classify", log, lambda: _classify(cfg, result, log))
        _health(ws, result, kind)
        if "report" in stages:
            _stage(result, "compare", log, lambda: _compare(cfg, result, log))
            _stage(result, "report", log, lambda: _report(cfg, result, log))
        _prune(cfg, result, log)
        send_alerts = kind == "run" if alerts is None else alerts
        if send_alerts:
            _alert(cfg, result, env, log)
        with _store(ws) as store:
            store.finish_run(
                result.run_id,
                status=result.status,
                stats=_stats(result, stages, store),
                report_path=str(result.report.pdf) if result.report else None,
                model_versions=result.model_versions,
                error="; ".join(result.errors) or None,
            )
    finally:
        if run_lock is not None:
            run_lock.release()
    return result


class _store:
    """Open the store for a short block: stages open their own, and Scrapy's pipeline too."""

    def __init__(self, ws: Workspace) -> None:
        self.store = ReviewStore(ws.store_path)

    def __enter__(self) -> ReviewStore:
        return self.store

    def __exit__(self, *exc: Any) -> None:
        self.store.close()


def _record_takeover(store: ReviewStore, result: RunResult, took_over: tuple[Any, str],
                     log: Callable[[str], None]) -> None:
    holder, reason = took_over
    who = holder.describe() if holder else "an unknown holder"
    result.lock_takeover = f"took over the stale lock of {who}: {reason}"
    log(f"warning: {result.lock_takeover}")
    if holder is None:
        return
    runs = store.runs_frame()
    row = runs.loc[runs["run_id"] == holder.run_id]
    if len(row) and row["status"].iloc[0] == "running":
        # The killed run never recorded its end; say what happened to it.
        store.finish_run(holder.run_id, status="killed",
                         error=f"interrupted ({reason}); lock taken over by {result.run_id}")


def _stage(result: RunResult, name: str, log: Callable[[str], None],
           body: Callable[[], None]) -> None:
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
        # classification.batch_size is the encoder's batch; classify_pending's own default
        # (reviews per call and per transaction) sorts a larger pool by length.
        result.classify = classify_pending(store, clf, product_names=cfg.product_names())
    finally:
        store.close()
    log(f"classified: {result.classify}")


def _health(ws: Workspace, result: RunResult, kind: str) -> None:
    """Target problems after this run's crawl (this run's stats are not stored yet)."""
    from analysis.history import health_problems, target_health

    if result.crawl is None:
        return
    with _store(ws) as store:
        current = {"run_id": result.run_id, "stats": {"crawl": result.crawl.as_dict()}}
        result.problems = health_problems(target_health(store, current=current))


def _compare(cfg: ProjectConfig, result: RunResult, log: Callable[[str], None]) -> None:
    from analysis.history import since_last_run

    with _store(Workspace.from_config(cfg)) as store:
        result.since_last_run = since_last_run(
            store, cfg, run_id=result.run_id, model_version=_model_version(result, store),
            failures=[*result.errors, *result.problems])
    log(f"since last run: {result.since_last_run['summary']}")


def _model_version(result: RunResult, store: ReviewStore) -> str | None:
    if result.model_versions:
        return result.model_versions[0]
    return next(iter(store.model_versions()), None)


def _report(cfg: ProjectConfig, result: RunResult, log: Callable[[str], None]) -> None:
    from analysis.report.build import build_report

    ws = Workspace.from_config(cfg)
    store = ReviewStore(ws.store_path)
    try:
        model_version = result.model_versions[0] if result.model_versions else None
        result.report = build_report(store, cfg, model_version=model_version,
                                     since_last_run=result.since_last_run)
    finally:
        store.close()
    log(f"report: {result.report.pdf}")


def _prune(cfg: ProjectConfig, result: RunResult, log: Callable[[str], None]) -> None:
    from analysis.retention import prune_raw

    ws = Workspace.from_config(cfg)
    result.pruned = prune_raw(ws.root / "raw", raw_days=cfg.retention.raw_days,
                              keep=result.run_id)
    if result.pruned.removed:
        log(f"retention: removed {len(result.pruned.removed)} raw run folder(s) older than "
            f"{cfg.retention.raw_days} days")
    for name, error in result.pruned.failed.items():
        log(f"warning: retention could not remove raw/{name}: {error}")


def _alert(cfg: ProjectConfig, result: RunResult, env: Mapping[str, str] | None,
           log: Callable[[str], None]) -> None:
    from analysis.alerts import build_digest, deliver

    if not (cfg.alerts.webhook_url or cfg.alerts.email_to):
        return
    digest = build_digest(
        project=cfg.title, run_id=result.run_id, status=result.status, errors=result.errors,
        report_path=str(result.report.pdf) if result.report else None,
        since=result.since_last_run, problems=result.problems)
    result.deliveries = deliver(cfg.alerts, digest, env=env)
    for d in result.deliveries:
        log(f"alert {d.channel}: " + ("sent" if d.ok else f"NOT sent ({d.error})"))


def _stats(result: RunResult, stages: Sequence[str], store: ReviewStore) -> dict[str, Any]:
    from analysis.history import theme_labels

    stats: dict[str, Any] = {"stages": list(stages), "errors": list(result.errors)}
    if result.crawl is not None:
        stats["crawl"] = result.crawl.as_dict()
        # Flat per-target counts and errors, for `reviewgap status` and anyone reading the row.
        stats["targets"] = {t: c for job in result.crawl.jobs for t, c in job.targets.items()}
        stats["crawl_errors"] = {job.job: job.errors for job in result.crawl.jobs if job.errors}
        stats["totals"] = result.crawl.totals()
    if result.classify is not None:
        stats["classify"] = (
            attrs.asdict(result.classify) if attrs.has(type(result.classify))
            else result.classify if isinstance(result.classify, dict) else str(result.classify)
        )
    if result.problems:
        stats["problems"] = result.problems
    if result.since_last_run is not None:
        stats["since_last_run"] = result.since_last_run
    version = _model_version(result, store)
    if "classify" in stages or "report" in stages:
        stats["themes"] = theme_labels(store, version)  # the next run's "new themes" base
    if result.pruned is not None:
        stats["retention"] = attrs.asdict(result.pruned)
    if result.deliveries:
        stats["alerts"] = [attrs.asdict(d) for d in result.deliveries]
    if result.lock_takeover:
        stats["lock_takeover"] = result.lock_takeover
    return stats
