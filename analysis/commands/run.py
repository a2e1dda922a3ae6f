"""``reviewgap run``: crawl what is new, classify what is unlabelled, write the report."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.commands.common import config_option, load_or_exit, parse_settings, settings_option


@click.command("run")
@config_option
@settings_option
@click.option("--skip", "skip", multiple=True, type=click.Choice(["crawl", "classify", "report"]),
              help="Leave out a stage (repeatable).")
def command(config_path: Path, scrapy_settings: tuple[str, ...], skip: tuple[str, ...]) -> None:
    """Crawl + classify + report in one go: what a scheduled monthly run calls.

    Exit codes: 0 ok, 1 a stage failed (the later stages still run), 2 configuration error.

    Example:

        reviewgap run --config /srv/acme/reviewgap.toml
    """
    from analysis.pipeline import STAGES, run_pipeline

    cfg = load_or_exit(config_path)
    stages = [s for s in STAGES if s not in skip]
    result = run_pipeline(cfg, overrides=parse_settings(scrapy_settings), stages=stages,
                          log=click.echo)
    if result.report is not None:
        click.echo(str(result.report.pdf))
    raise SystemExit(result.exit_code)
