"""``reviewgap demo``: the whole pipeline on a generated corpus, with no internet.

Stage: all (crawl, classify, report) against a local server.
In: ``--out DIR`` (default ``./demo-out``), ``--seed``, ``--reviews-per-app``.
Out: ``DIR/reviewgap.toml`` (the fictional products and their source ids), ``DIR/data/`` (the
workspace: store, raw crawl files, reports) and the report's PDF path on the last line.

The corpus (:mod:`analysis.demo.corpus`) is served by :class:`analysis.demo.server.DemoServer`
in the App Store, Google Play and Trustpilot wire formats; the real spiders crawl it because
every ``REVIEWGAP_*_BASE`` setting points at the server. Exit codes: 0 ok, 1 a stage failed,
2 usage error (``--out`` is a non-empty folder the demo did not create).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from analysis.commands.common import EXIT_CONFIG, EXIT_STAGE_FAILED
from analysis.demo import truth
from analysis.demo.corpus import DEFAULT_REVIEWS_PER_APP, DEFAULT_SEED, DemoCorpus

MARKER = ".reviewgap-demo"
"""File the demo writes into its folder: only a folder carrying it is ever emptied by the demo."""

DEMO_SOURCES: tuple[str, ...] = ("apple_app_store", "google_play", "trustpilot")


def available_sources() -> tuple[str, ...]:
    """The demo sources whose spider is installed (a source without one is left out)."""
    return tuple(s for s in DEMO_SOURCES if importlib.util.find_spec(f"spiders.sources.{s}"))


def _toml_value(value: Any) -> str:
    # json.dumps of str/list/bool/int is valid TOML for these simple values.
    return json.dumps(value)


def demo_config_text(corpus: DemoCorpus, sources: tuple[str, ...]) -> str:
    """The demo's reviewgap.toml: one ``[[products]]`` per fictional app, its source tables.

    Args:
        corpus: The generated corpus (for the seed and window, named in the header).
        sources: Sources to include (see :func:`available_sources`).
    """
    lines = [
        "# Written by `reviewgap demo`: fictional note-taking apps served by a local server.",
        f"# Corpus seed {corpus.seed}, reviews {corpus.start} .. {corpus.end}.",
        "# Crawl it again with the demo running, or use it as an example of a real config.",
        "",
        "[project]",
        'name = "Demo: note-taking apps (fictional)"',
        'workspace = "data"',
        'contact = "reviewgap-demo@example.invalid"',
        "",
        "[report]",
        'title = "Market gaps: Margin Notes vs. rivals (demo, fictional data)"',
        f"months = {truth.MONTHS}",
        "",
    ]
    for demo_app in corpus.apps:
        lines += [
            "[[products]]",
            f"key = {_toml_value(demo_app.key)}",
            f"name = {_toml_value(demo_app.name)}",
            f"ours = {_toml_value(demo_app.ours)}",
            f"aliases = {_toml_value(list(demo_app.aliases))}",
            "",
        ]
        if "apple_app_store" in sources:
            lines += ["[products.apple_app_store]",
                      f"app_id = {_toml_value(demo_app.apple_app_id)}",
                      'countries = ["us", "gb"]', ""]
        if "google_play" in sources and demo_app.google_play_package:
            lines += ["[products.google_play]",
                      f"package = {_toml_value(demo_app.google_play_package)}",
                      'langs = ["en"]', 'countries = ["us", "gb"]', ""]
        if "trustpilot" in sources and demo_app.trustpilot_domain:
            lines += ["[products.trustpilot]",
                      f"domain = {_toml_value(demo_app.trustpilot_domain)}", ""]
    return "\n".join(lines)


def server_overrides(base: str) -> dict[str, str]:
    """Scrapy settings that point every endpoint at the demo server and drop the waits."""
    return {
        "REVIEWGAP_APPLE_RSS_BASE": base,
        "REVIEWGAP_APPLE_LOOKUP_BASE": base,
        "REVIEWGAP_APPLE_WEB_BASE": base,
        "REVIEWGAP_GOOGLE_PLAY_BASE": base,
        "REVIEWGAP_TRUSTPILOT_BASE": base,
        # Politeness is for real sites; the local server can take parallel requests.
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "False",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
        "ROBOTSTXT_OBEY": "True",
        "REVIEWGAP_BACKOFF_BASE": "0.1",
        # The demo prints its own per-target summary; Scrapy's INFO stats dump would bury it.
        "LOG_LEVEL": "WARNING",
    }


def prepare_out_dir(out: Path) -> None:
    """Create ``out``, or empty it when an earlier demo made it; refuse any other non-empty folder.

    Raises:
        click.UsageError: ``out`` holds files the demo did not write.
    """
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise click.UsageError(
                f"--out {out}: folder is not empty and was not made by `reviewgap demo`; "
                "choose an empty or new folder")
        # A rerun starts clean: an old store would make the crawl "incremental" and could mix
        # corpora of different seeds.
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by `reviewgap demo`; the demo empties this folder on rerun\n")


def planted_summary() -> list[str]:
    """One line per planted gap, printed so a reader knows what the report should show."""
    return [f"  ({g.gap_id[0]}) {g.description}" for g in truth.GAPS]


def run_demo(out: Path, seed: int, reviews_per_app: int,
             log: Callable[[str], None] = print) -> int:
    """Generate, serve, crawl, classify, report. Returns the exit code (0 ok, 1 failed).

    Args:
        out: Output folder (see :func:`prepare_out_dir`).
        seed: Corpus seed.
        reviews_per_app: Reviews per fictional app.
        log: Progress printer.
    """
    from analysis.commands.common import load_or_exit
    from analysis.demo.corpus import generate_corpus
    from analysis.demo.server import DemoServer
    from analysis.pipeline import run_pipeline

    started = time.monotonic()
    prepare_out_dir(out)
    corpus = generate_corpus(seed=seed, reviews_per_app=reviews_per_app)
    sources = available_sources()
    missing = [s for s in DEMO_SOURCES if s not in sources]
    log(f"demo: {len(corpus.reviews)} generated reviews of {len(corpus.apps)} fictional apps "
        f"({corpus.start} .. {corpus.end}, seed {seed})")
    if missing:
        log(f"demo: no spider installed for {', '.join(missing)}: left out of the demo config")
    config_path = out / "reviewgap.toml"
    config_path.write_text(demo_config_text(corpus, sources), "utf-8")
    cfg = load_or_exit(config_path)
    log(f"demo: config {config_path}")
    log("demo: planted gaps the report should find:")
    for line in planted_summary():
        log(line)
    with DemoServer(corpus) as server:
        log(f"demo: serving the corpus at {server.base}")
        result = run_pipeline(cfg, overrides=server_overrides(server.base), log=log,
                              kind="demo")
        if server.unmatched:
            log(f"demo: the server had no answer for {len(server.unmatched)} request(s), e.g. "
                f"{server.unmatched[0]}")
    log(f"demo: finished in {time.monotonic() - started:.0f}s "
        f"({'ok' if result.exit_code == 0 else 'with errors: ' + '; '.join(result.errors)})")
    if result.report is not None:
        log(str(result.report.pdf))
    return result.exit_code


@click.command("demo")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-out"), show_default=True,
              help="Folder for the demo config, workspace and report (emptied on a rerun).")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True,
              help="Corpus seed: the same seed gives the same reviews.")
@click.option("--reviews-per-app", type=click.IntRange(min=24), default=DEFAULT_REVIEWS_PER_APP,
              show_default=True,
              help="Reviews generated per fictional app. As on the real store, Apple's feed "
                   "serves at most 500 per country, so above about 1,500 the oldest Apple "
                   "reviews are not crawled.")
def command(out: Path, seed: int, reviews_per_app: int) -> None:
    """Run the whole pipeline offline on a generated corpus with planted gaps.

    Four fictional note-taking apps (ours: Margin Notes) get a year of generated reviews with
    known gaps; a local server answers in the App Store, Google Play and Trustpilot formats, the
    real spiders crawl it, the classifier labels the reviews and the report is written. The last
    line printed is the PDF's path.

    Exit codes: 0 ok, 1 a stage failed, 2 usage error.

    Example:

        reviewgap demo --out demo-out
    """
    try:
        code = run_demo(out, seed, reviews_per_app, log=click.echo)
    except click.UsageError as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise SystemExit(EXIT_CONFIG) from None
    raise SystemExit(EXIT_STAGE_FAILED if code else 0)
