"""``reviewgap import FILE --product KEY``: own feedback from CSV/JSONL into the store."""

from __future__ import annotations

from pathlib import Path

import click

from analysis.commands.common import EXIT_CONFIG, config_option, load_or_exit


@click.command("import")
@config_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--product", required=True, help="Product key from the config.")
@click.option("--text-column", default="text", show_default=True)
@click.option("--rating-column", default="rating", show_default=True)
@click.option("--date-column", default="date", show_default=True)
@click.option("--id-column", default="id", show_default=True)
def command(
    config_path: Path, file: Path, product: str, text_column: str, rating_column: str,
    date_column: str, id_column: str,
) -> None:
    """Import support tickets or survey answers (CSV, TSV or JSON lines) for a product.

    Only the text column is required. Rows with empty text, a rating outside 1-5 or a date that
    does not parse are skipped and listed with their line numbers; the rest are stored. Importing
    the same file again adds nothing.

    Example:

        reviewgap import tickets.csv --product acme --text-column body --date-column created
    """
    from analysis.ingest import Columns, ImportError_, import_file
    from analysis.store import ReviewStore
    from analysis.workspace import Workspace

    cfg = load_or_exit(config_path)
    if product not in {p.key for p in cfg.products}:
        known = ", ".join(p.key for p in cfg.products)
        click.echo(f"error: --product {product!r} is not in {config_path} (products: {known})",
                   err=True)
        raise SystemExit(EXIT_CONFIG)
    store = ReviewStore(Workspace.from_config(cfg).store_path)
    try:
        result = import_file(
            store, file, product=product,
            columns=Columns(text=text_column, rating=rating_column, date=date_column,
                            id=id_column),
        )
    except ImportError_ as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    finally:
        store.close()
    c = result.counts
    click.echo(f"{file}: {c.new} new, {c.updated} updated, {c.unchanged} unchanged, "
               f"{len(result.skipped)} skipped")
    for skip in result.skipped:
        click.echo(f"  {file}:{skip.line}: skipped: {skip.reason}")
