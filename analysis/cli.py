"""The ``reviewgap`` command line: a click group whose commands live in :mod:`analysis.commands`.

Commands stay thin: parse options, call one stage function, print its summary. Exit codes:
0 success, 1 a stage failed, 2 a usage or configuration error (the message names file and key).
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

from analysis import __version__

# One module per verb (as Scrapy's commands/): each defines ``command``, a click.Command.
COMMAND_MODULES: tuple[str, ...] = (
    "init",
    "check",
    "crawl",
    "import_",
    "classify",
    "train",
    "evaluate",
    "report",
    "run",
    "status",
    "schedule",
    "demo",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reviewgap")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
def cli(verbose: int, quiet: bool) -> None:
    """reviewgap: mine public reviews of your product and its competitors into a market-gap
    report (PDF, HTML, CSV, XLSX).

    Typical use: `reviewgap init`, edit reviewgap.toml, `reviewgap check`, then `reviewgap run`
    (crawl what is new, classify what is unlabelled, report). `reviewgap demo` shows the whole
    pipeline on a generated corpus with no internet.
    """
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    # Third-party chatter drowns our counted progress lines unless asked for.
    for noisy in ("scrapy", "twisted", "matplotlib", "fontTools", "urllib3", "filelock", "httpx",
                  "huggingface_hub", "py.warnings"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    # WeasyPrint warns about every SVG presentation property it does not know (matplotlib's
    # charts carry many) and about its font subsetter; neither affects the PDF.
    logging.getLogger("weasyprint").setLevel(logging.DEBUG if verbose > 1 else logging.ERROR)


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"analysis.commands.{_name}")
    except ModuleNotFoundError as _exc:
        if _exc.name != f"analysis.commands.{_name}":
            raise
        continue  # a verb still being built is simply not offered yet
    cli.add_command(_module.command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="reviewgap")
