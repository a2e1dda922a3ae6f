"""Options and helpers shared by the ``reviewgap`` commands."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from analysis.config import ConfigError, ProjectConfig, load_config

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_STAGE_FAILED, EXIT_CONFIG = 0, 1, 2


def config_option(func: F) -> F:
    """Adds ``-c/--config PATH`` (default ``./reviewgap.toml`` or ``$REVIEWGAP_CONFIG``)."""
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=lambda: os.environ.get("REVIEWGAP_CONFIG", "reviewgap.toml"),
        show_default="./reviewgap.toml",
        help="Project configuration file.",
    )(func)


def load_or_exit(path: Path) -> ProjectConfig:
    """Load the config; on any problem print it and exit with status 2."""
    try:
        return load_config(path)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None


def settings_option(func: F) -> F:
    """Adds repeatable ``-s KEY=VALUE`` Scrapy setting overrides (as ``scrapy crawl -s``)."""
    return click.option(
        "-s",
        "--set",
        "scrapy_settings",
        multiple=True,
        metavar="KEY=VALUE",
        help="Scrapy setting override, e.g. -s DOWNLOAD_DELAY=3 (repeatable).",
    )(func)


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("A=1", "B=x=y")`` -> ``{"A": "1", "B": "x=y"}``; exit 2 on a pair without ``=``."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            click.echo(f"error: -s {pair!r}: expected KEY=VALUE", err=True)
            raise SystemExit(EXIT_CONFIG)
        out[key.strip()] = value
    return out


def stage_failed(message: str) -> None:
    """Print a stage failure and exit 1."""
    click.echo(f"error: {message}", err=True)
    raise SystemExit(EXIT_STAGE_FAILED)


def wraps_errors(func: F) -> F:
    """Turn ConfigError into exit 2 for commands that load more than the config."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(EXIT_CONFIG) from None

    return wrapper  # type: ignore[return-value]
