"""Benchmark the classify stage: speed against plain baselines, fp32 vs ONNX agreement, memory.

Run by hand (2 cores, machine otherwise idle if you can): ``python bench/bench_classify.py``.
Writes ``bench/results/classify.md``. Uses 2,000 real minibar-en reviews from ``../shared``
(never copied into the repo).

Measured on the same 2,000 reviews, each method in a process of its own (loaded and warmed up
first, untimed), in interleaved rounds (``--rounds``):

1. our ``ReviewClassifier.classify`` (fp32 torch; and ONNX int8 when ``--onnx``) - the whole
   stage: language detection, sentence splitting, embedding, heads;
2. ``transformers.pipeline("feature-extraction")`` called once per review (the naive way);
3. ``sentence_transformers.SentenceTransformer.encode`` with default settings;
4. for reference, our encoder alone on review texts, and ONNX Runtime alone on batches
   tokenised and padded beforehand: the ceiling of the ONNX path.

Accuracy: problem_report / feature_request F1 and sentiment polarity accuracy of fp32 vs ONNX
on the same reviews, and their label agreement. Memory: peak RSS while streaming N generated
reviews (resampled from the 2,000, each made unique by recombining sentences) through the file
mode in chunks, recorded at checkpoints so flatness is visible.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from machine import cpu_model  # bench/machine.py: run as a script, bench/ is on sys.path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_reviews(n: int) -> pd.DataFrame:
    from analysis.classify.fit_defaults import find_minibar

    frames = [pd.read_csv(p) for p in sorted(find_minibar().glob("*.csv"))]
    d = pd.concat(frames, ignore_index=True)
    d["data"] = d["data"].fillna("").astype(str)
    return d.sample(n, random_state=0).reset_index(drop=True)


def timed(fn, *args):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def quality(labels, frame: pd.DataFrame) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from analysis.classify.evaluate import binary_metrics

    ok = np.array([lab.status == "ok" for lab in labels])
    out = {"classified_ok": float(ok.mean())}
    for k in ("problem_report", "feature_request"):
        pred = np.array([bool(getattr(lab, k)) for lab in labels])
        out[f"{k}_f1"] = binary_metrics(frame[k].to_numpy()[ok], pred[ok])["f1"]
    stars = frame["score"].to_numpy()
    pol = ok & (stars != 3)
    score = np.array([lab.sentiment_score or 0.0 for lab in labels])
    out["sentiment_accuracy"] = float(np.mean((score[pol] > 0) == (stars[pol] >= 4)))
    return out


def agreement(a, b) -> dict[str, float]:  # type: ignore[no-untyped-def]
    keys = ("problem_report", "feature_request", "praise", "question")
    same = {k: float(np.mean([getattr(x, k) == getattr(y, k)
                              for x, y in zip(a, b, strict=True)]))
            for k in keys}
    same["sentiment"] = float(np.mean([x.sentiment == y.sentiment
                                       for x, y in zip(a, b, strict=True)]))
    # Jaccard of the need sets; two empty sets agree fully.
    same["needs_jaccard"] = float(np.mean([
        len(set(x.needs) & set(y.needs)) / len(set(x.needs) | set(y.needs))
        if set(x.needs) | set(y.needs) else 1.0 for x, y in zip(a, b, strict=True)]))
    return same


def generate_csv(frame: pd.DataFrame, n: int, path: Path, seed: int = 0) -> None:
    """n unique review texts: each joins sentences drawn from two random real reviews."""
    from analysis.classify.sentences import split_sentences

    rng = random.Random(seed)
    pools = [split_sentences(t) or [t] for t in frame["data"]]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "rating"])
        for i in range(n):
            a, b = rng.randrange(len(pools)), rng.randrange(len(pools))
            text = " ".join(pools[a][: rng.randint(1, 3)] + pools[b][-rng.randint(1, 2):])
            w.writerow([i, f"{text} #{i}", frame["score"].iloc[a]])


def memory_only(n: int, threads: int, runtime: str, workspace: str | None = None) -> int:
    """Stream n generated reviews through file mode with ``runtime`` ("fp32" or a key of
    :data:`RUNTIMES`); print checkpoints as JSON (last line). ``workspace``: one whose cache
    holds the int8 export already (the timing runs'), so the peak is the stream's own, not the
    one-off quantisation's; None: a new one (quantised in this process)."""
    import json

    from analysis.classify.pipeline import build_classifier
    from analysis.commands.classify import classify_file

    frame = load_reviews(2000)
    tmp = Path(tempfile.mkdtemp())
    generate_csv(frame, n, tmp / "in.csv")
    clf = build_classifier(_config(runtime, threads, workspace or str(tmp / "ws")))
    clf.classify(["warm up the language detector and the encoder"])
    start = rss_mb()
    t = time.perf_counter()
    checkpoints = []
    done = 0
    for chunk in pd.read_csv(tmp / "in.csv", chunksize=5000, dtype={"text": str}):
        part = tmp / "part.csv"
        chunk.to_csv(part, index=False)
        classify_file(clf, part, tmp / "out.csv", progress=False)
        done += len(chunk)
        checkpoints.append((done, rss_mb(), time.perf_counter() - t))
        print("memory", checkpoints[-1], file=sys.stderr, flush=True)
    print(json.dumps({"start_rss": start, "checkpoints": checkpoints}))
    return 0


METHODS = {
    "fp32": "reviewgap classify (fp32 torch, whole stage)",
    "fp32-encoder": "reviewgap encoder only, review texts (fp32, sorted batches)",
    "onnx": "reviewgap classify (ONNX int8, whole stage)",
    "onnx-sentences": "reviewgap classify (ONNX int8, whole stage, `aspect_clauses = false`: "
                      "sentences that turn read whole)",
    "onnx-warm": "reviewgap classify (ONNX int8, whole stage) after 2,000 other reviews: "
                 "the steady state of a long run",
    "onnx-encoder": "reviewgap encoder only, review texts (ONNX int8, sorted batches)",
    "onnx-runtime": "ONNX Runtime alone on the same sorted batches, tokenised and padded "
                    "beforehand (int8)",
    "ov": "reviewgap classify (OpenVINO int8, whole stage)",
    "ov-sentences": "reviewgap classify (OpenVINO int8, whole stage, `aspect_clauses = false`)",
    "ov-warm": "reviewgap classify (OpenVINO int8, whole stage) after 2,000 other reviews: "
               "the steady state of a long run",
    "ov-encoder": "reviewgap encoder only, review texts (OpenVINO int8, sorted batches)",
    "ov-runtime": "OpenVINO alone on the same sorted batches, tokenised and padded beforehand "
                  "(static int8)",
    "st": "sentence-transformers `encode` (defaults, embeddings only)",
    "pipeline": "transformers `pipeline(\"feature-extraction\")` per review (embeddings only)",
}
"""Timed methods: key (``--time-one``) -> row name in the results."""


RUNTIMES = {"onnx": "ONNX int8", "ov": "OpenVINO int8"}
"""Method prefix of a fast path -> its name in the tables."""


def _config(runtime: str, threads: int, workspace: str,  # type: ignore[no-untyped-def]
            aspect_clauses: bool = True):
    """Config of the classifier for ``runtime`` ("fp32" or a key of :data:`RUNTIMES`)."""
    from analysis.config import validate_config

    return validate_config({"products": [{"key": "b", "name": "B"}],
                            "project": {"workspace": workspace},
                            "classification": {"onnx": runtime == "onnx",
                                               "openvino": runtime == "ov", "threads": threads,
                                               "aspect_clauses": aspect_clauses}}, "bench.toml")


def time_one(method: str, n: int, threads: int, workspace: str) -> int:
    """Load one method, warm it up, time it on the n reviews; print the seconds as JSON.

    Runs in a process of its own: torch's OpenMP threads keep spinning for a while after a
    call, so timing several libraries in one process charges one method for another's threads
    (measured: the ONNX whole stage read 6.8 s after a torch run, 6.0-6.2 s on its own).
    """
    import json

    import torch

    torch.set_num_threads(threads)
    frame = load_reviews(n)
    texts = frame["data"].tolist()
    stars = frame["score"].tolist()
    if method in ("st", "pipeline"):
        from analysis.classify.hub import bundled_encoder

        path = str(bundled_encoder().path)
        if method == "st":
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(path, device="cpu")
            run = model.encode
        else:
            from transformers import pipeline

            pipe = pipeline("feature-extraction", model=path, device=-1)
            run = lambda ts: [pipe(t, truncation=True) for t in ts]  # noqa: E731
        run(texts[:32])
        _, secs = timed(run, texts)
    else:
        from analysis.classify.pipeline import build_classifier

        # The int8 export happens here, on first use (not timed).
        clf = build_classifier(_config(method.split("-")[0], threads, workspace,
                                       aspect_clauses=not method.endswith("-sentences")))
        clf.classify(texts[:32])  # warm-up: language models, first batches
        if method.endswith("-warm"):
            # OpenVINO prepares its kernels for each new batch shape on first sight (20-30
            # ms each): a long run pays that once, a fresh run of 2,000 reviews on every batch.
            seen = set(texts)
            others = [t for t in load_reviews(6000)["data"] if t not in seen][:n]
            clf.classify(others)
        clf.encoder.clear_cache()
        if method.endswith("-encoder"):
            _, secs = timed(clf.encoder.encode, texts)
        elif method.endswith("-runtime"):
            # The model alone: tokenised, sorted and padded beforehand (untimed), so this is
            # the ceiling of the path: what no work around the model can beat. Run as the
            # stage runs them (OpenVINO: one batch in flight per stream).
            enc = clf.encoder
            ids = enc.tokenizer(texts, truncation=True, max_length=enc.max_tokens)["input_ids"]
            batches = list(enc.padded_batches(ids))
            _, secs = timed(lambda: list(enc._run_batches(batches)))
        else:
            _, secs = timed(clf.classify, texts, stars)
    print(json.dumps({"method": method, "seconds": secs}))
    return 0


def run_worker(flags: list[str], what: str) -> dict:  # type: ignore[type-arg]
    """Run this script in a fresh process with ``flags``; returns the JSON of its last line."""
    import json
    import subprocess

    res = subprocess.run([sys.executable, __file__, *flags], capture_output=True, text=True,
                         check=False)
    if res.returncode:
        raise RuntimeError(f"{what} failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def time_in_subprocess(method: str, args: argparse.Namespace, workspace: str) -> float:
    """Seconds of one timed run of ``method`` in a fresh process (see :func:`time_one`)."""
    return float(run_worker(["--time-one", method, "--n", str(args.n), "--threads",
                             str(args.threads), "--workspace", workspace],
                            f"timing {method}")["seconds"])


def write_results(path: Path, lines: list[str]) -> None:
    """Write a results file and echo it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))


def heads_date() -> str:
    """When the shipped default heads were fitted (their manifest's ``created_at``): the
    accuracy and agreement rows depend on them."""
    from analysis.classify.heads import DEFAULT_HEADS_DIR

    manifest = json.loads((DEFAULT_HEADS_DIR / "manifest.json").read_text())
    return str(manifest.get("created_at", "unknown"))[:10]


def timing_report(args: argparse.Namespace, fast: list[str], workspace: str) -> None:
    """Time every method in interleaved rounds, compare labels with fp32; write ``args.out``."""
    frame = load_reviews(args.n)
    texts = frame["data"].tolist()
    lines = ["# classify benchmark\n", f"{args.n} minibar-en reviews (random sample, seed 0), "
             f"{args.threads} threads, `{os.uname().nodename}` ({cpu_model()}), load average at "
             f"start {os.getloadavg()[0]:.1f}, default heads of {heads_date()}. "
             "Run: `python bench/bench_classify.py`.\n",
             f"Each method is timed in its own process (model loaded and warmed up first, not "
             f"timed), in {args.rounds} interleaved rounds; median seconds, and the range of "
             "reviews/s over the rounds.\n",
             "| method | seconds (median) | reviews/s | range |", "|---|---|---|---|"]
    methods = [m for m in METHODS if (m.split("-")[0] in fast or m.split("-")[0] not in RUNTIMES)
               and (args.baselines or m not in ("st", "pipeline"))]
    timings: dict[str, list[float]] = {}
    # Interleaved rounds: this machine's speed drifts by +-15 % over minutes, so each method is
    # timed once per round and the median is reported (with the range) rather than one run.
    for rnd in range(args.rounds):
        for method in methods:
            if method == "pipeline" and rnd:
                continue  # the slow, naive baseline (about 35 s a run): one round is enough
            secs = time_in_subprocess(method, args, workspace)
            timings.setdefault(METHODS[method], []).append(secs)
            print(f"round {rnd + 1}: {METHODS[method]}: {secs:.1f}s", flush=True)
    rows = {k: float(np.median(v)) for k, v in timings.items()}

    # Labels for the accuracy and agreement tables (untimed).
    import torch

    from analysis.classify.pipeline import build_classifier

    torch.set_num_threads(args.threads)
    stars = frame["score"].tolist()
    fp32 = build_classifier(None).classify(texts, stars)
    fast_labels = {r: build_classifier(_config(r, args.threads, workspace)).classify(texts, stars)
                   for r in fast}
    for name, secs in rows.items():
        runs = timings[name]
        lines.append(f"| {name} | {secs:.1f} | {args.n / secs:.0f} | "
                     f"{args.n / max(runs):.0f}-{args.n / min(runs):.0f} |")
    st_key = next((k for k in rows if k.startswith("sentence-transformers")), None)
    if st_key:
        for k in rows:
            if k != st_key and not k.startswith("transformers"):
                per_round = [a / b for a, b in zip(timings[st_key], timings[k], strict=True)]
                lines.append(f"\n{k}: **{rows[st_key] / rows[k]:.2f}x** sentence-transformers "
                             f"(medians; per round {min(per_round):.2f}-{max(per_round):.2f}x).")
    lines += ["\n## Accuracy on these reviews (heads were fitted on minibar: in-sample, "
              "for fp32 vs int8 comparison only)\n", "| encoder | " + " | ".join(
                  quality(fp32, frame)) + " |", "|---" * (1 + len(quality(fp32, frame))) + "|"]
    lines.append("| fp32 | " + " | ".join(f"{v:.3f}" for v in quality(fp32, frame).values())
                 + " |")
    for r, labels in fast_labels.items():
        lines.append(f"| {RUNTIMES[r]} | " + " | ".join(
            f"{v:.3f}" for v in quality(labels, frame).values()) + " |")
    for r, labels in fast_labels.items():
        agree = agreement(fp32, labels)
        lines.append(f"\nfp32 vs {RUNTIMES[r]} label agreement: " + ", ".join(
            f"{k} {v:.3f}" for k, v in agree.items()))
    write_results(args.out, lines)


def memory_report(args: argparse.Namespace, fast: list[str], workspace: str) -> None:
    """Stream ``args.memory_reviews`` reviews in a fresh process holding only our classifier
    (so peak RSS is the stage's own) with the fastest path measured (OpenVINO, else ONNX, else
    fp32), its export already in ``workspace``; write ``<out>_memory.md``."""
    mem_runtime = fast[-1] if fast else "fp32"
    if mem_runtime != "fp32":
        # Make (or find) the export here, so the streamed run's peak is its own, not the
        # one-off quantisation's.
        from analysis.classify.pipeline import build_classifier

        build_classifier(_config(mem_runtime, args.threads, workspace))
    mem = run_worker(["--memory-only", str(args.memory_reviews), "--threads",
                      str(args.threads), "--memory-runtime", mem_runtime,
                      "--workspace", workspace], "memory run")
    mem_lines = [
        f"# classify memory: {args.memory_reviews:,} generated reviews\n",
        "Streamed through the file mode in chunks of 5,000 "
        f"({RUNTIMES.get(mem_runtime, 'fp32')}, its int8 export made beforehand: the one-off "
        "quantisation's peak is not in these figures), in a separate process. Run: "
        "`python bench/bench_classify.py` (or `--no-timing` for this part alone).\n",
        f"Peak RSS after loading the classifier: {mem['start_rss']:.0f} MB.\n",
        "| reviews done | peak RSS MB | seconds | reviews/s |", "|---|---|---|---|"]
    mem_lines += [f"| {n:,} | {m:.0f} | {t:.0f} | {n / t:.0f} |"
                  for n, m, t in mem["checkpoints"]]
    write_results(args.out.with_name(args.out.stem + "_memory.md"), mem_lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--memory-reviews", type=int, default=100_000,
                   help="reviews streamed in the memory run (0: skip it); written to "
                        "<out>_memory.md")
    p.add_argument("--onnx", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--openvino", action=argparse.BooleanOptionalAction, default=True,
                   help="time the OpenVINO path too (needs the openvino extra)")
    p.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--timing", action=argparse.BooleanOptionalAction, default=True,
                   help="the timing rounds and accuracy tables (--no-timing: the memory run "
                        "alone)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "classify.md")
    p.add_argument("--memory-only", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--memory-runtime", choices=["fp32", *RUNTIMES], help=argparse.SUPPRESS)
    p.add_argument("--time-one", choices=list(METHODS), help=argparse.SUPPRESS)
    p.add_argument("--workspace", help="a workspace whose cache holds (or will hold) the int8 "
                                       "exports (default: a new temporary one)")
    args = p.parse_args()
    if args.time_one:
        return time_one(args.time_one, args.n, args.threads, args.workspace)
    if args.memory_only:
        return memory_only(args.memory_only, args.threads, args.memory_runtime, args.workspace)
    # One export per fast path, shared by the timing processes and the memory run.
    workspace = args.workspace or tempfile.mkdtemp()
    fast = [r for r, on in (("onnx", args.onnx), ("ov", args.openvino)) if on]
    if args.timing:
        timing_report(args, fast, workspace)
    if args.memory_reviews:
        memory_report(args, fast, workspace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
