"""``reviewgap run``: crawl what is new, classify what is unlabelled, write the report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import click

from analysis.commands.common import (
    EXIT_STAGE_FAILED,
    config_option,
    load_or_exit,
    parse_settings,
    settings_option,
)

run_log = logging.getLogger("reviewgap.run")


@click.command("run")
@config_option
@settings_option
@click.option("--skip", "skip", multiple=True, type=click.Choice(["crawl", "classify", "report"]),
              help="Leave out a stage (repeatable).")
@click.option("--log-file", type=str, default=None, metavar="PATH",
              help="Append progress and log records to PATH ({yyyymm} becomes the month); "
                   "the terminal then shows warnings and errors only (what cron mails).")
@click.option("--lock-max-age", type=click.FloatRange(min=0.01), default=24.0,
              show_default=True, metavar="HOURS",
              help="A workspace lock older than this is stale even if its process seems alive.")
@click.option("--no-alerts", is_flag=True, help="Do not send the [alerts] digest this time.")
def command(config_path: Path, scrapy_settings: tuple[str, ...], skip: tuple[str, ...],
            log_file: str | None, lock_max_age: float, no_alerts: bool) -> None:
    """Crawl + classify + report in one go: what a scheduled monthly run calls.

    Incremental: only reviews newer than the last completed crawl of each target are fetched,
    only unlabelled reviews are classified. One run per workspace at a time: a lock file
    (<workspace>/reviewgap.lock) refuses a second run; the lock of a killed run is taken over.
    The report has a "Since last run" section; [alerts] get a digest; raw crawl files older
    than [retention] raw_days are pruned.

    Exit codes: 0 ok, 1 a stage failed (the later stages still run) or another run holds the
    lock, 2 configuration error.

    Example:

        reviewgap run -c /srv/acme/reviewgap.toml --log-file /srv/acme/logs/run-{yyyymm}.log
    """
    from analysis.lock import RunLockedError
    from analysis.pipeline import STAGES, run_pipeline

    log = _log_to_file(log_file) if log_file else click.echo
    cfg = load_or_exit(config_path)
    stages = [s for s in STAGES if s not in skip]
    try:
        result = run_pipeline(cfg, overrides=parse_settings(scrapy_settings), stages=stages,
                              log=log, lock_max_age=timedelta(hours=lock_max_age),
                              alerts=not no_alerts)
    except RunLockedError as exc:
        if log_file:  # to the file and, as an error, to the terminal (what cron mails)
            run_log.error("%s", exc)
        else:
            click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_STAGE_FAILED) from None
    if result.report is not None:
        log(str(result.report.pdf))
    if result.errors:
        run_log.error("run %s finished with errors: %s", result.run_id, "; ".join(result.errors))
    raise SystemExit(result.exit_code)


def log_path(template: str, now: datetime | None = None) -> Path:
    """``template`` with ``{yyyymm}`` replaced by the (local) month.

    >>> str(log_path("/ws/logs/run-{yyyymm}.log", datetime(2026, 11, 3)))
    '/ws/logs/run-202611.log'
    """
    return Path(template.replace("{yyyymm}", (now or datetime.now()).strftime("%Y%m")))


def _log_to_file(template: str) -> Callable[[str], None]:
    """Send INFO and above to the log file, keep only WARNING and above on the terminal."""
    path = log_path(template)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setLevel(max(handler.level, logging.WARNING))
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    run_log.info("reviewgap run started; logging to %s", path)

    def log(line: str) -> None:
        if line.startswith("error"):
            run_log.error("%s", line)
        elif line.startswith("warning"):
            run_log.warning("%s", line)
        else:
            run_log.info("%s", line)

    return log
