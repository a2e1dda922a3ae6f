"""``reviewgap report``: write the market-gap report (PDF, HTML, CSVs, XLSX) from the store."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.commands.common import config_option, load_or_exit, stage_failed


@click.command("report")
@config_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder for the files (default: <workspace>/reports/"
              "<YYYY-MM-DD>-<slug>/).")
@click.option("--model-version", "model_version", default=None,
              help="Labels to report on (default: the most recently classified version).")
def command(config_path: Path, out_dir: Path | None, model_version: str | None) -> None:
    """Aggregate the classified reviews and render the report; print the PDF path.

    Exit codes: 0 ok, 1 nothing to report (no classified reviews) or rendering failed,
    2 configuration error.

    Example:

        reviewgap report --config reviewgap.toml --out reports/june
    """
    from analysis.report.build import NoClassifiedReviews, build_report
    from analysis.store import ReviewStore
    from analysis.workspace import Workspace

    cfg = load_or_exit(config_path)
    store_path = Workspace.from_config(cfg).store_path
    if not store_path.exists():
        stage_failed(f"no store at {store_path}: run `reviewgap crawl` (or `reviewgap import`),"
                     " then `reviewgap classify` first")
    store = ReviewStore(store_path)
    try:
        outputs = build_report(store, cfg, out_dir=out_dir, model_version=model_version)
    except NoClassifiedReviews as exc:
        stage_failed(f"{exc}: run `reviewgap classify` first")
    except FileNotFoundError as exc:
        stage_failed(str(exc))
    finally:
        store.close()
    click.echo(str(outputs.pdf))
