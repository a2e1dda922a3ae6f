"""``reviewgap init [DIR]``: write a commented reviewgap.toml and create the workspace."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from analysis.commands.common import EXIT_CONFIG


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing reviewgap.toml.")
def command(directory: Path, force: bool) -> None:
    """Write a commented reviewgap.toml into DIRECTORY (default: here).

    Example:

        reviewgap init my-study && cd my-study && reviewgap check
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "reviewgap.toml"
    if target.exists() and not force:
        click.echo(f"error: {target} exists (use --force to overwrite)", err=True)
        raise SystemExit(EXIT_CONFIG)
    text = resources.files("analysis").joinpath("config_template.toml").read_text("utf-8")
    target.write_text(text, "utf-8")
    (directory / "data").mkdir(exist_ok=True)
    click.echo(f"wrote {target}; edit the products, then run `reviewgap check`")
