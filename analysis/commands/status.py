"""``reviewgap status``: what the store holds, the last runs and each target's health."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from analysis.commands.common import config_option, load_or_exit


@click.command("status")
@config_option
@click.option("--runs", "n_runs", default=5, show_default=True, help="How many recent runs.")
def command(config_path: Path, n_runs: int) -> None:
    """Show review counts per product and source, label coverage, recent runs, target health.

    Each run line shows its status (ok, failed, killed, running), times, new reviews, labels
    written and the report. A target is flagged LIKELY BROKEN when its last two completed
    crawls returned no reviews (the site may have changed), and LAST CRAWL FAILED when the
    newest run that crawled it recorded errors for it. A run in progress (the workspace
    lock) is shown with its pid and host.

    Example:

        reviewgap status --runs 10
    """
    from analysis.history import target_health
    from analysis.lock import LOCK_NAME, read_holder, stale_reason
    from analysis.store import ReviewStore
    from analysis.workspace import Workspace

    cfg = load_or_exit(config_path)
    ws = Workspace.from_config(cfg)
    lock_path = ws.root / LOCK_NAME
    if lock_path.exists():
        holder = read_holder(lock_path)
        reason = stale_reason(holder)
        who = holder.describe() if holder else "an unknown holder"
        click.echo(f"lock: {lock_path} held by {who}"
                   + (f" - STALE ({reason}); the next run takes it over" if reason
                      else " - a run is in progress"))
    if not ws.store_path.exists():
        click.echo(f"no store yet at {ws.store_path}: run `reviewgap crawl` or `reviewgap import`")
        return
    store = ReviewStore(ws.store_path)
    try:
        reviews = store.reviews_frame()
        click.echo(f"store: {ws.store_path} ({len(reviews)} reviews)")
        if len(reviews):
            counts = reviews.groupby(["product", "source"]).size()
            for (product, source), n in counts.items():
                click.echo(f"  {product:<20} {source:<18} {n:>7}")
        for version in store.model_versions():
            labelled = store.classifications_frame(version)
            click.echo(f"labels {version}: {len(labelled)} reviews "
                       f"({(labelled['status'] != 'ok').sum()} not classified)")
        runs = store.runs_frame(limit=n_runs)
        click.echo(f"last {len(runs)} run(s):")
        for run in runs.itertuples():
            click.echo("  " + run_line(run._asdict()))
        health = target_health(store)
        if health:
            click.echo("targets:")
        for h in health:
            flag = {"ok": "ok", "likely broken": "LIKELY BROKEN",
                    "last crawl failed": "LAST CRAWL FAILED"}[h["status"]]
            detail = f" ({h['detail']})" if h["detail"] else ""
            click.echo(f"  {h['target']:<44} last completed {h['last_completed_at'] or 'never':<20}"
                       f" {flag}{detail}")
    finally:
        store.close()


def run_line(run: dict[str, Any]) -> str:
    """One run as a status line.

    >>> run_line({"run_id": "R1", "kind": "run", "status": "ok", "started_at": "s",
    ...           "ended_at": "e", "report_path": None, "error": None, "stats_json":
    ...           '{"totals": {"new": 3}, "classify": {"classified": 3}}'})
    'R1 run    ok       s -> e  new 3, classified 3'
    """
    stats = json.loads(run.get("stats_json") or "{}")
    parts = []
    totals = stats.get("totals")
    if totals is not None:
        parts.append(f"new {totals.get('new', 0)}")
    classify = stats.get("classify")
    if isinstance(classify, dict) and "classified" in classify:
        parts.append(f"classified {classify['classified']}")
    if run.get("report_path"):
        parts.append(f"report {run['report_path']}")
    line = (f"{run['run_id']} {run['kind']:<6} {run['status']:<8} {run['started_at']} -> "
            f"{run['ended_at'] or '...'}")
    if parts:
        line += "  " + ", ".join(parts)
    if run.get("error"):
        line += f"  error: {run['error']}"
    return line
