"""Benchmark, whole pipeline: ``reviewgap demo`` end to end (generate, serve, crawl, classify,
report).

In: ``--reviews-per-app`` (default the demo's), ``--seed``, ``--repeat``. Out: a Markdown table
on stdout and in ``bench/results/demo.md``: wall time per stage and in total, peak RSS of the
demo process, corpus size, machine facts.

The demo runs as a subprocess (as a user runs it); stage times are when its ``== <stage>``
progress lines appear on stdout, so they include whatever each stage loads (the model, the
fonts). Peak RSS is the largest child's ``ru_maxrss`` (Linux: KiB).

Usage::

    python bench/bench_demo.py [--reviews-per-app 300] [--seed 7] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine_facts  # bench/machine.py: run as a script, bench/ is on sys.path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "demo.md"


def run_once(reviews_per_app: int, seed: int) -> dict[str, float]:
    """One demo run in a fresh folder; returns seconds per phase, total and the exit code.

    Phases are whatever ``== <stage>`` lines the pipeline prints (crawl, classify, compare,
    report, ...), so a stage added to the pipeline shows up without changing this script.
    """
    with tempfile.TemporaryDirectory(prefix="reviewgap-bench-demo-") as tmp:
        cmd = [sys.executable, "-m", "analysis", "demo", "--out", str(Path(tmp) / "out"),
               "--seed", str(seed), "--reviews-per-app", str(reviews_per_app)]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        marks: list[tuple[str, float]] = []
        start = time.perf_counter()
        # Line-buffered reading: a stage starts when its "== <stage>" line is printed.
        with subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, bufsize=1) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("== "):
                    marks.append((line[3:].strip(), time.perf_counter() - start))
            code = proc.wait()
        total = time.perf_counter() - start
    out = {"setup": marks[0][1] if marks else total, "total": total, "exit_code": float(code)}
    ends = [t for _, t in marks[1:]] + [total]
    for (stage, begin), end in zip(marks, ends, strict=True):
        out[stage] = end - begin
    return out


def main() -> None:
    """Run the benchmark and write the Markdown report."""
    from analysis.demo.corpus import DEFAULT_REVIEWS_PER_APP, DEFAULT_SEED
    from analysis.demo.truth import APPS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reviews-per-app", type=int, default=DEFAULT_REVIEWS_PER_APP)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    load = os.getloadavg()[0]  # other work on the machine slows the demo: say how much there was
    runs = [run_once(args.reviews_per_app, args.seed) for _ in range(args.repeat)]
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    n_reviews = args.reviews_per_app * len(APPS)
    stages = [k for k in runs[0] if k not in ("setup", "total", "exit_code")]
    phases = ["setup", *stages, "total"]
    lines = [
        "# `reviewgap demo` end to end",
        "",
        f"Corpus: {len(APPS)} fictional apps x {args.reviews_per_app} reviews = {n_reviews} "
        f"reviews (seed {args.seed}); runs: {len(runs)}; exit codes: "
        f"{', '.join(str(int(r['exit_code'])) for r in runs)}.",
        f"Machine: {machine_facts()}, {platform.platform()}, load average at start {load:.1f}.",
        "",
        "| phase | " + " | ".join(f"run {i + 1} (s)" for i in range(len(runs))) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for phase in phases:
        cells = [f"{r[phase]:.1f}" if phase in r else "-" for r in runs]
        lines.append(f"| {phase} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Peak RSS of the demo process: {peak_mib:.0f} MiB.",
        "Classification throughput (reviews / classify seconds incl. model load and theme "
        "discovery, run 1): "
        + (f"{n_reviews / runs[0]['classify']:.0f}/s." if runs[0].get("classify") else "n/a."),
        "",
        "`setup` = generate the corpus, start the server, write the config, import the stages.",
        "",
    ]
    text = "\n".join(lines)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, "utf-8")
    print(text)


if __name__ == "__main__":
    main()
