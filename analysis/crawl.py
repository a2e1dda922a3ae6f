"""Run the spiders for the products in reviewgap.toml, storing reviews as they arrive.

In: a :class:`~analysis.config.ProjectConfig`, Scrapy setting overrides (``-s KEY=VALUE``), a run
id and the store path. Out: a :class:`CrawlSummary` (per spider job: finish reason, pages,
reviews new/updated/unchanged, errors by kind) — also stored with the run.

This is the one module of ``analysis/`` that knows spider names. Each product x source is one
*job* (one spider run with the source table's keys as spider arguments); the spider splits it
into *targets* (e.g. one per storefront country). For the incremental stop, each job is handed the
ids its targets stored in completed crawls (``known_ids`` file); see
:mod:`analysis.store_pipeline` for why only completed crawls count.

A Twisted reactor starts once per process, so a process runs :func:`run_crawl` once.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs
from scrapy.settings import Settings

from analysis.config import ProjectConfig
from analysis.store import ReviewStore
from analysis.workspace import Workspace

logger = logging.getLogger(__name__)


@attrs.define
class Job:
    """One spider run: a product's table for one source."""

    source: str
    product: str
    args: dict[str, str]

    @property
    def name(self) -> str:
        return f"{self.source}:{self.product}"


@attrs.define
class JobResult:
    """What one spider run did."""

    job: str
    finish_reason: str
    failed: bool
    targets: dict[str, dict[str, int]]
    """target -> {pages, reviews, new, updated, unchanged, errors}."""
    errors: dict[str, int]
    """error kind -> count (``reviewgap/errors/*``, page format errors, spider exceptions)."""


@attrs.define
class CrawlSummary:
    """Per-job results of one crawl."""

    run_id: str
    jobs: list[JobResult] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        return all(not j.failed for j in self.jobs)

    def totals(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for job in self.jobs:
            for counts in job.targets.values():
                for key, value in counts.items():
                    out[key] += value
        return dict(out)

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _arg(value: Any) -> str:
    """A config value as a spider ``-a`` string (lists are comma-joined)."""
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def jobs_from_config(
    cfg: ProjectConfig,
    *,
    products: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> list[Job]:
    """Every product x source in the config, optionally filtered; ``since`` passed down."""
    jobs: list[Job] = []
    for product in cfg.products:
        if products and product.key not in products:
            continue
        for source, table in product.sources().items():
            if sources and source not in sources:
                continue
            args = {k: _arg(v) for k, v in table.items()}
            args["product"] = product.key
            if cfg.project.since and "since" not in args:
                args["since"] = cfg.project.since.isoformat()
            jobs.append(Job(source=source, product=product.key, args=args))
    return jobs


def crawl_settings(
    cfg: ProjectConfig, *, run_id: str, overrides: dict[str, str] | None = None
) -> Settings:
    """Project settings < ``[crawl] settings`` in the config < ``-s`` overrides."""
    ws = Workspace.from_config(cfg)
    settings = Settings()
    settings.setmodule("spiders.settings", priority="project")
    settings.setdict(cfg.crawl.settings, priority="project")
    if cfg.project.contact:
        settings.set("REVIEWGAP_CONTACT", cfg.project.contact, priority="project")
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    pipelines["analysis.store_pipeline.StorePipeline"] = 800
    settings.set("ITEM_PIPELINES", pipelines, priority="project")
    settings.set("REVIEWGAP_STORE_PATH", str(ws.store_path), priority="project")
    settings.set("REVIEWGAP_RUN_ID", run_id, priority="project")
    # Raw archive: what the spiders yielded, exactly, one file per spider x product.
    raw = ws.raw_dir(run_id) / "%(name)s__%(product)s.jsonl"
    settings.set("FEEDS", {str(raw): {"format": "jsonlines", "encoding": "utf-8"}},
                 priority="project")
    for key, value in (overrides or {}).items():
        settings.set(key, _decode_setting(value), priority="cmdline")
    return settings


def _decode_setting(value: str) -> Any:
    """Dict/list settings may come as JSON strings (as ``scrapy crawl -s`` accepts)."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def run_crawl(
    cfg: ProjectConfig,
    *,
    run_id: str,
    overrides: dict[str, str] | None = None,
    products: Sequence[str] = (),
    sources: Sequence[str] = (),
) -> CrawlSummary:
    """Crawl every selected job in one Scrapy process; block until all are done."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.spiderloader import SpiderLoader

    jobs = jobs_from_config(cfg, products=products, sources=sources)
    summary = CrawlSummary(run_id=run_id)
    if not jobs:
        logger.warning("no crawl jobs: no product in the config has a source table")
        return summary
    ws = Workspace.from_config(cfg)
    settings = crawl_settings(cfg, run_id=run_id, overrides=overrides)
    store = ReviewStore(ws.store_path)
    loader = SpiderLoader.from_settings(settings)
    # Our CLI already configured logging: Scrapy must not add a second root handler, nor keep
    # the DEBUG level its logging setup gives its own loggers (their pages drown our counts).
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    levels = {name: logging.getLogger(name).level for name in ("scrapy", "twisted", "py.warnings")}
    process = CrawlerProcess(settings)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    crawlers = []
    for job in jobs:
        known = store.known_ids(job.source, job.product)
        known_file = ws.state_dir / f"{job.source}__{job.product}.known"
        known_file.write_text("\n".join(known) + ("\n" if known else ""), "utf-8")
        args = {**job.args, "known_ids": str(known_file)}
        crawler = process.create_crawler(loader.load(job.source))
        crawlers.append((job, crawler))
        logger.info("crawl %s: %d reviews already stored by completed crawls", job.name,
                    len(known))
        process.crawl(crawler, **args)
    store.close()
    process.start()
    for job, crawler in crawlers:
        summary.jobs.append(_job_result(job, crawler.stats.get_stats() if crawler.stats else {}))
    return summary


_TARGET_KEY = re.compile(r"^reviewgap/(?P<target>[^/]+:[^/]+:[^/]+)/(?P<what>.+)$")


def _job_result(job: Job, stats: dict[str, Any]) -> JobResult:
    """Summarise a finished crawler's stats (see the keys in docs/architecture.md)."""
    targets: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    errors: dict[str, int] = defaultdict(int)
    for key, value in stats.items():
        match = _TARGET_KEY.match(key)
        if match:
            what = match.group("what")
            if what.startswith("errors/"):
                errors[what.removeprefix("errors/")] += int(value)
                targets[match.group("target")]["errors"] += int(value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                targets[match.group("target")][what] += int(value)
        elif key.startswith("reviewgap/errors/"):
            errors[key.removeprefix("reviewgap/errors/")] += int(value)
        elif key.startswith("reviewgap/dropped/"):
            errors["dropped/" + key.removeprefix("reviewgap/dropped/")] += int(value)
        elif key.startswith("spider_exceptions/"):
            errors[key] += int(value)
        elif key == "reviewgap/page_format_errors":
            errors["page_format"] = max(errors["page_format"], int(value))
    reason = str(stats.get("finish_reason", "not started"))
    failed = (
        reason != "finished"
        or bool(stats.get("reviewgap/failed"))
        or any(k.startswith("spider_exceptions/") for k in stats)
        or int(stats.get("reviewgap/page_format_errors", 0)) > 0
    )
    return JobResult(
        job=job.name,
        finish_reason=reason,
        failed=failed,
        targets={t: dict(c) for t, c in sorted(targets.items())},
        errors=dict(sorted(errors.items())),
    )


def format_summary(summary: CrawlSummary) -> str:
    """A plain-text table of the crawl summary for the terminal."""
    lines = [f"{'target':<48} {'pages':>5} {'new':>6} {'upd':>5} {'same':>6} {'errors':>6}"]
    for job in summary.jobs:
        if not job.targets:
            lines.append(f"{job.job:<48} {'-':>5} {'-':>6} {'-':>5} {'-':>6} {'-':>6}  "
                         f"({job.finish_reason})")
        for target, c in job.targets.items():
            lines.append(
                f"{target:<48} {c.get('pages', 0):>5} {c.get('new', 0):>6} "
                f"{c.get('updated', 0):>5} {c.get('unchanged', 0):>6} {c.get('errors', 0):>6}"
            )
        if job.failed:
            detail = ", ".join(f"{k}={v}" for k, v in job.errors.items()) or job.finish_reason
            lines.append(f"  FAILED {job.job}: {detail}")
    totals = summary.totals()
    lines.append(
        f"total: {totals.get('new', 0)} new, {totals.get('updated', 0)} updated, "
        f"{totals.get('unchanged', 0)} unchanged reviews"
    )
    return "\n".join(lines)
