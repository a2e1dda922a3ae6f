"""``reviewgap crawl``: run the spiders for the configured products into the store."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.commands.common import (
    EXIT_STAGE_FAILED,
    config_option,
    load_or_exit,
    parse_settings,
    settings_option,
)


@click.command("crawl")
@config_option
@settings_option
@click.option("--product", "products", multiple=True, help="Only this product key (repeatable).")
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
def command(
    config_path: Path, scrapy_settings: tuple[str, ...], products: tuple[str, ...],
    sources: tuple[str, ...],
) -> None:
    """Crawl new reviews of every product x source in the config into the store.

    Stops paging a target at reviews already stored by a completed crawl (incremental), keeps
    what it collected if interrupted, and prints per-target counts. Exit 1 if a target failed.

    Example:

        reviewgap crawl -s DOWNLOAD_DELAY=2 --product acme
    """
    from analysis.pipeline import run_pipeline

    cfg = load_or_exit(config_path)
    overrides = parse_settings(scrapy_settings)
    from analysis.lock import RunLockedError

    try:
        result = run_pipeline(cfg, overrides=overrides, stages=("crawl",), products=products,
                              sources=sources, kind="crawl", log=click.echo)
    except RunLockedError as exc:  # another run/crawl is using this workspace
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_STAGE_FAILED) from None
    if result.exit_code:
        click.echo("error: " + "; ".join(result.errors), err=True)
        raise SystemExit(EXIT_STAGE_FAILED)
