"""Benchmark: time and peak memory to build the report for 50,000 synthetic reviews.

Stage: bench (run by hand, never by pytest). In: ``--n`` reviews (default 50,000) across the
6 synthetic products of ``tests/support/report_data.py`` (generated once into ``--work``).
Out: a line per phase on stdout and ``bench/results/report.md``. Goal: build <= 30 s.

The build runs in a child process so its peak RSS (``ru_maxrss``) is the report's alone, not
the store generation's.

    python bench/bench_report.py            # 50,000 reviews
    python bench/bench_report.py --n 5000   # quicker look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from machine import machine_facts  # bench/machine.py: run as a script, bench/ is on sys.path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
NOW = datetime(2025, 7, 1, tzinfo=UTC)
GOAL_S = 30.0


def child(work: Path) -> None:
    """Build the report once; print the phase timings as JSON."""
    from analysis.config import load_config
    from analysis.report import context, data, pdf, render, tables
    from analysis.store import ReviewStore

    cfg = load_config(work / "reviewgap.toml")
    store = ReviewStore(work / "ws" / "reviewgap.sqlite")
    times: dict[str, float] = {}
    start = t = time.perf_counter()
    d = data.compute(store, cfg, "synthetic-v1")
    times["metrics"], t = time.perf_counter() - t, time.perf_counter()
    ctx = context.build_context(d, now=NOW)
    times["context+charts"], t = time.perf_counter() - t, time.perf_counter()
    dirs = render.template_dirs(cfg)
    html = render.render_html(ctx, dirs)
    times["html"], t = time.perf_counter() - t, time.perf_counter()
    out = work / "out"
    pdf.write_pdf(html, out / "report.pdf", roots=dirs, epoch=int(NOW.timestamp()))
    times["pdf"], t = time.perf_counter() - t, time.perf_counter()
    frames = data.export_frames(d)
    tables.write_csvs(frames, out / "tables")
    tables.write_xlsx(frames, out / "report.xlsx", created=NOW)
    times["csv+xlsx"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - start
    from pypdf import PdfReader

    print(json.dumps({"times": times, "reviews": len(d.reviews),
                      "pages": len(PdfReader(out / "report.pdf").pages)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/reviewgap-bench-report"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    work = args.work / str(args.n)
    if args.child:
        child(work)
        return
    from tests.support.report_data import make_store, write_config

    if not (work / "ws" / "reviewgap.sqlite").exists():
        work.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        write_config(work)
        make_store(work / "ws" / "reviewgap.sqlite", n=args.n).close()
        print(f"generated {args.n} reviews in {time.perf_counter() - t:.1f}s")
    else:
        write_config(work)
    wall = time.perf_counter()
    res = subprocess.run([sys.executable, __file__, "--child", "--n", str(args.n), "--work",
                          str(args.work)], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - wall
    result = json.loads(res.stdout.strip().splitlines()[-1])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    times = result["times"]
    lines = [
        "# Report build benchmark",
        "",
        f"`python bench/bench_report.py --n {args.n}` on {machine_facts()} (shared with other "
        "work).",
        "",
        f"- reviews in the report: {result['reviews']:,} (6 products, 12 months)",
        f"- pages: {result['pages']}",
        f"- build time (in process): **{times['total']:.1f} s** (goal <= {GOAL_S:.0f} s: "
        f"{'met' if times['total'] <= GOAL_S else 'NOT met'}); child wall time incl. imports "
        f"{wall:.1f} s",
        f"- peak memory (child max RSS): **{peak_mb:.0f} MB**",
        "",
        "| phase | seconds |",
        "|---|---|",
        *[f"| {k} | {v:.2f} |" for k, v in times.items()],
        "",
    ]
    out = REPO / "bench" / "results" / "report.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), "utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
