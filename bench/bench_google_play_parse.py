"""Benchmark, crawl stage: Google Play reviews parsing, ours vs the PyPI ``google-play-scraper``.

In: the two recorded ``batchexecute`` answers in ``../shared/fixtures/raw/google_play/`` (or
``--fixtures DIR``). Out: a Markdown table on stdout and in ``bench/results/google_play_parse.md``:
reviews parsed per second by each parser over the same bytes, the fields each extracts, and what
each does with an error envelope and a truncated body.

The other parser is JoMingyu's ``google_play_scraper.features.reviews.reviews()`` (1.2.x) with its
HTTP ``post`` replaced by one that returns the recorded body, so its whole per-page path runs:
envelope regex, ``json.loads`` twice, token lookup, and ``ElementSpecs.Review`` per review.

Usage::

    python bench/bench_google_play_parse.py [-n 200] [--fixtures DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import google_play_scraper
from google_play_scraper.features import reviews as gps_reviews
from machine import machine_facts  # bench/machine.py: run as a script, bench/ is on sys.path

from spiders.pages import PageFormatError
from spiders.pages.google_play import parse_reviews

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures" / "raw" / "google_play"
PAGES = (
    "mradex77__reviews_batchexecute_UsvDTd_translate_newest_initial_2026-07.txt",
    "mradex77__reviews_batchexecute_UsvDTd_translate_newest_page2_2026-07.txt",
)
PKG = "com.google.android.apps.translate"
URL = "https://play.google.com/_/PlayStoreUi/data/batchexecute?hl=en&gl=us"
ERROR_ENVELOPE = (
    b")]}'\n\n[[\"wrb.fr\",\"UsvDTd\",null,null,null,[5,null,[[\"type.googleapis.com/wireless."
    b"android.finsky.boq.web.data.store.error.PlayDataError\",[1]]]],\"generic\"],[\"di\",1]]"
)


def ours(body: bytes) -> list[dict[str, Any]]:
    """Our parser: bytes -> review field dicts."""
    return parse_reviews(URL, body, PKG).reviews


_served: list[str] = [""]


def _recorded_post(url: str, data: Any, headers: dict[str, str]) -> str:
    """Stands in for google-play-scraper's HTTP ``post``: the body being benchmarked."""
    return _served[0]


def theirs(body: bytes) -> list[dict[str, Any]]:
    """google-play-scraper's per-page path on the recorded body (its network call replaced)."""
    _served[0] = body.decode("utf-8")  # its post() returns the decoded body
    result, _token = gps_reviews.reviews(PKG, count=150)
    return result


def rates(parsers: list[Callable[[bytes], list[dict[str, Any]]]], bodies: list[bytes],
          n: int) -> list[tuple[float, int]]:
    """Median reviews/s of each parser over ``n`` repetitions, and reviews per repetition.

    The parsers take turns within each repetition so that load from other processes on a
    shared machine hits both alike.
    """
    counts = [sum(len(parse(b)) for b in bodies) for parse in parsers]  # warm-up and counts
    times: list[list[float]] = [[] for _ in parsers]
    for _ in range(n):
        for parse, spent in zip(parsers, times, strict=True):
            start = time.perf_counter()
            for body in bodies:
                parse(body)
            spent.append(time.perf_counter() - start)
    return [(c / statistics.median(t), c) for c, t in zip(counts, times, strict=True)]


def outcome(parse: Callable[[bytes], list[dict[str, Any]]], body: bytes) -> str:
    """What a parser does with a bad body, in words for the table."""
    try:
        got = parse(body)
    except PageFormatError as exc:
        return f"`{type(exc).__name__}`"
    except Exception as exc:
        return f"raises `{type(exc).__name__}`"
    return f"returns {len(got)} reviews, no error"


def main() -> None:
    """Run the benchmark and write the Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=200, help="repetitions (median is reported)")
    ap.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = ap.parse_args()
    bodies = [(args.fixtures / name).read_bytes() for name in PAGES]
    # Patched once, outside the timed loop, so the mock costs them nothing.
    patch = mock.patch.object(gps_reviews, "post", _recorded_post)
    patch.start()
    truncated = bodies[0][: len(bodies[0]) // 2]

    (ours_rate, ours_n), (theirs_rate, theirs_n) = rates([ours, theirs], bodies, args.n)
    ours_fields = sorted(ours(bodies[0])[0])
    theirs_fields = sorted(theirs(bodies[0])[0])
    rows = [
        ("reviewgap `spiders.pages.google_play.parse_reviews`", ours_rate, ours_n, ours_fields,
         outcome(ours, ERROR_ENVELOPE), outcome(ours, truncated)),
        (f"google-play-scraper {_version()} `features.reviews.reviews` (post patched)",
         theirs_rate, theirs_n, theirs_fields, outcome(theirs, ERROR_ENVELOPE),
         outcome(theirs, truncated)),
    ]
    lines = [
        f"Google Play reviews parsing: 2 recorded pages ({ours_n} reviews) x {args.n} "
        f"repetitions, median; {machine_facts()}.",
        "",
        "| parser | reviews/s | reviews per run | fields | PlayDataError envelope | "
        "truncated body |",
        "|---|---:|---:|---|---|---|",
    ]
    for name, r, n, fields, err, trunc in rows:
        lines.append(f"| {name} | {r:,.0f} | {n} | {', '.join(fields)} | {err} | {trunc} |")
    lines += [
        "",
        f"Speed ratio (ours / theirs): {ours_rate / theirs_rate:.2f}.",
        "google-play-scraper also returns `userName` and `userImage` (reviewgap never collects "
        "reviewer identities), gives times as naive local-time `datetime`s "
        "(`datetime.fromtimestamp`), and turns a failed page into an empty result, which reads "
        "as the end of the reviews.",
    ]
    patch.stop()
    table = "\n".join(lines) + "\n"
    print(table)
    out = REPO / "bench" / "results" / "google_play_parse.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table, encoding="utf-8")
    print(f"written to {out.relative_to(REPO)}")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("google-play-scraper")
    except Exception:
        return getattr(google_play_scraper, "__version__", "?")


if __name__ == "__main__":
    main()
