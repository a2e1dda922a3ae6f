"""Benchmark the classify stage: speed against plain baselines, fp32 vs ONNX agreement, memory.

Run by hand (2 cores, machine otherwise idle if you can): ``python bench/bench_classify.py``.
Writes ``bench/results/classify.md``. Uses 2,000 real minibar-en reviews from ``../shared``
(never copied into the repo).

Measured, on the same 2,000 reviews, in one process, each timed after a warm-up:

1. our ``ReviewClassifier.classify`` (fp32 torch; and ONNX int8 when ``--onnx``) - the whole
   stage: language detection, sentence splitting, embedding, heads;
2. ``transformers.pipeline("feature-extraction")`` called once per review (the naive way);
3. ``sentence_transformers.SentenceTransformer.encode`` with default settings.

Accuracy: problem_report / feature_request F1 and sentiment polarity accuracy of fp32 vs ONNX
on the same reviews, and their label agreement. Memory: peak RSS while streaming N generated
reviews (resampled from the 2,000, each made unique by recombining sentences) through the file
mode in chunks, recorded at checkpoints so flatness is visible.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

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


def memory_only(n: int, threads: int, onnx: bool) -> int:
    """Stream n generated reviews through file mode; print checkpoints as JSON (last line)."""
    import json

    from analysis.classify.pipeline import build_classifier
    from analysis.commands.classify import classify_file
    from analysis.config import validate_config

    frame = load_reviews(2000)
    tmp = Path(tempfile.mkdtemp())
    generate_csv(frame, n, tmp / "in.csv")
    cfg = validate_config({"products": [{"key": "b", "name": "B"}],
                           "project": {"workspace": str(tmp / "ws")},
                           "classification": {"onnx": onnx, "threads": threads}}, "bench.toml")
    clf = build_classifier(cfg)
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


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--memory-reviews", type=int, default=100_000)
    p.add_argument("--onnx", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--baselines", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "classify.md")
    p.add_argument("--memory-only", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.memory_only:
        return memory_only(args.memory_only, args.threads, args.onnx)
    import torch

    torch.set_num_threads(args.threads)
    frame = load_reviews(args.n)
    texts = frame["data"].tolist()
    stars = frame["score"].tolist()
    lines = ["# classify benchmark\n", f"{args.n} minibar-en reviews (random sample, seed 0), "
             f"{args.threads} threads, `{os.uname().nodename}`, load average at start "
             f"{os.getloadavg()[0]:.1f}. Run: `python bench/bench_classify.py`.\n",
             "| method | seconds | reviews/s |", "|---|---|---|"]
    rows: dict[str, float] = {}

    from analysis.classify.pipeline import build_classifier
    from analysis.config import validate_config

    def measure(clf, name: str, short: str):  # type: ignore[no-untyped-def]
        """Time the whole stage and the encoder alone, each from a cold cache."""
        clf.classify(texts[:32])  # warm-up (language models, first batches)
        clf.encoder.clear_cache()
        labels, secs = timed(clf.classify, texts, stars)
        rows[f"reviewgap classify ({name}, whole stage)"] = secs
        print("ours", name, secs, flush=True)
        clf.encoder.clear_cache()
        _, secs = timed(clf.encoder.encode, texts)
        rows[f"reviewgap encoder only, review texts ({short}, sorted batches)"] = secs
        clf.encoder.clear_cache()
        return labels

    fp32 = measure(build_classifier(None), "fp32 torch", "fp32")
    onnx_labels = None
    if args.onnx:
        cfg = validate_config({"products": [{"key": "b", "name": "B"}],
                               "project": {"workspace": tempfile.mkdtemp()},
                               "classification": {"onnx": True, "threads": args.threads}},
                              "bench.toml")
        # The export happens on first use, in build_classifier (not timed).
        onnx_labels = measure(build_classifier(cfg), "ONNX int8", "ONNX int8")
    if args.baselines:
        from sentence_transformers import SentenceTransformer

        from analysis.classify.hub import bundled_encoder

        path = str(bundled_encoder().path)
        st = SentenceTransformer(path, device="cpu")
        st.encode(texts[:32])
        _, secs = timed(st.encode, texts)
        rows["sentence-transformers `encode` (defaults, embeddings only)"] = secs
        print("st", secs, flush=True)
        from transformers import pipeline

        pipe = pipeline("feature-extraction", model=path, device=-1)
        pipe(texts[0])
        _, secs = timed(lambda ts: [pipe(t, truncation=True) for t in ts], texts)
        rows["transformers `pipeline(\"feature-extraction\")` per review (embeddings only)"] = secs
        print("pipe", secs, flush=True)
    for name, secs in rows.items():
        lines.append(f"| {name} | {secs:.1f} | {args.n / secs:.0f} |")
    st_key = next((k for k in rows if k.startswith("sentence-transformers")), None)
    if st_key:
        for k in rows:
            if k.startswith("reviewgap"):
                lines.append(f"\n{k}: **{rows[st_key] / rows[k]:.2f}x** sentence-transformers.")
    lines += ["\n## Accuracy on these reviews (heads were fitted on minibar: in-sample, "
              "for fp32 vs ONNX comparison only)\n", "| encoder | " + " | ".join(
                  quality(fp32, frame)) + " |", "|---" * (1 + len(quality(fp32, frame))) + "|"]
    lines.append("| fp32 | " + " | ".join(f"{v:.3f}" for v in quality(fp32, frame).values())
                 + " |")
    if onnx_labels is not None:
        lines.append("| ONNX int8 | " + " | ".join(
            f"{v:.3f}" for v in quality(onnx_labels, frame).values()) + " |")
        agree = agreement(fp32, onnx_labels)
        lines.append("\nfp32 vs ONNX int8 label agreement: " + ", ".join(
            f"{k} {v:.3f}" for k, v in agree.items()))
    if args.memory_reviews:
        # A fresh process holding only our classifier, so peak RSS is the stage's own.
        import json
        import subprocess

        cmd = [sys.executable, __file__, "--memory-only", str(args.memory_reviews),
               "--threads", str(args.threads), "--onnx" if args.onnx else "--no-onnx"]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        mem = json.loads(res.stdout.strip().splitlines()[-1])
        lines += [f"\n## Memory: {args.memory_reviews:,} generated reviews streamed through file "
                  f"mode in chunks of 5,000 ({'ONNX int8' if args.onnx else 'fp32'}), separate "
                  "process\n",
                  f"Peak RSS after loading the classifier: {mem['start_rss']:.0f} MB.\n",
                  "| reviews done | peak RSS MB | seconds | reviews/s |", "|---|---|---|---|"]
        lines += [f"| {n:,} | {m:.0f} | {t:.0f} | {n / t:.0f} |" for n, m, t in mem["checkpoints"]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
