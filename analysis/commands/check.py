"""``reviewgap check``: validate reviewgap.toml offline and show what would be crawled."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.commands.common import config_option, load_or_exit


@click.command("check")
@config_option
def command(config_path: Path) -> None:
    """Validate the configuration offline; print the products and crawl jobs.

    Exits 2 with a message naming the file and the key on any problem (unknown key, wrong type,
    unknown source, duplicate product key, bad source arguments).

    Example:

        reviewgap check --config reviewgap.toml
    """
    from analysis.crawl import jobs_from_config

    cfg = load_or_exit(config_path)
    click.echo(f"{config_path}: OK — project {cfg.project.name!r}, workspace {cfg.workspace}")
    for product in cfg.products:
        mark = " (ours)" if product.ours else ""
        sources = ", ".join(product.sources()) or "no sources (import only)"
        click.echo(f"  {product.key}{mark}: {product.name} — {sources}")
    jobs = jobs_from_config(cfg)
    click.echo(f"{len(jobs)} crawl job(s):")
    for job in jobs:
        args = " ".join(f"{k}={v}" for k, v in job.args.items() if k != "product")
        click.echo(f"  {job.name}  {args}")
