"""``reviewgap status``: what the store holds, the last runs and each target's health."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.commands.common import config_option, load_or_exit


@click.command("status")
@config_option
@click.option("--runs", "n_runs", default=5, show_default=True, help="How many recent runs.")
def command(config_path: Path, n_runs: int) -> None:
    """Show review counts per product and source, label coverage, recent runs, target health.

    A target that returned no reviews in two completed crawls in a row is flagged as likely
    broken (the site may have changed).

    Example:

        reviewgap status --runs 10
    """
    from analysis.store import ReviewStore
    from analysis.workspace import Workspace

    cfg = load_or_exit(config_path)
    ws = Workspace.from_config(cfg)
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
            click.echo(f"  {run.run_id} {run.kind:<6} {run.status:<8} {run.started_at} -> "
                       f"{run.ended_at or '...'}" + (f"  {run.error}" if run.error else ""))
        states = store.target_states()
        if len(states):
            click.echo("targets:")
        for t in states.itertuples():
            health = "LIKELY BROKEN (no reviews twice in a row)" if t.consecutive_empty >= 2 \
                else "ok"
            click.echo(f"  {t.target:<48} last completed {t.last_completed_at}  {health}")
    finally:
        store.close()
