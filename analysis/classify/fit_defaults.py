"""Reproduce the shipped default heads: ``python -m analysis.classify.fit_defaults``.

Stage: classify (maintainer tool). In: the minibar-en labelled reviews
(``../shared/data/minibar-en``, not shipped), our example sentences
(``examples/input_types.csv``, the taxonomy). Out: a heads folder (``heads.npz``, optional
``adapter.npz``, ``manifest.json`` with how the heads were fitted and their leave-one-app-out
hold-out figures).

Labels used: sentiment from stars (1-2 negative, 3 neutral, 4-5 positive; weak), problem_report
and feature_request hand labels, praise weakly from stars (4-5 stars, no report, no request),
question weakly from interrogative sentences, needs from the taxonomy's example sentences.

Leave-one-app-out: for each app, everything (adapter, heads, thresholds, C) is fitted on the
other apps plus the examples, and the figures are measured on the held-out app.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.classify.emoji_text import EMOJI_VERSION
from analysis.classify.evaluate import binary_metrics
from analysis.classify.features import FEATURES, N_STAR_COLUMNS, encode_features
from analysis.classify.heads import DEFAULT_HEADS_DIR, INPUT_TYPES, HeadSet
from analysis.classify.hub import ModelRef, bundled_encoder, resolve_model
from analysis.classify.language_offsets import fit_offsets, parallel_pairs
from analysis.classify.sentences import split_sentences
from analysis.classify.taxonomy import DEFAULT_NEEDS
from analysis.classify.training import (
    example_polarity,
    fit_input_types,
    fit_needs,
    fit_sentiment,
    needs_training_set,
    stars_to_sentiment,
    weak_praise,
    weak_question,
)

if TYPE_CHECKING:
    from analysis.classify.finetune import ExampleTask

log = logging.getLogger("fit_defaults")
EXAMPLES = Path(__file__).resolve().parent / "examples" / "input_types.csv"
SENT_INDEX = {"negative": 0, "neutral": 1, "positive": 2}


def find_minibar() -> Path:
    """``$REVIEWGAP_SHARED/data/minibar-en`` or ``../shared/data/minibar-en`` beside the repo."""
    repo = Path(__file__).resolve().parents[2]
    env = os.environ.get("REVIEWGAP_SHARED")
    for cand in ([Path(env)] if env else []) + [repo.parent / "shared", repo / "shared"]:
        if (cand / "data" / "minibar-en").is_dir():
            return cand / "data" / "minibar-en"
    raise FileNotFoundError("minibar-en not found: set REVIEWGAP_SHARED or pass --data")


def load_training_frame(data_dir: Path) -> pd.DataFrame:
    """minibar reviews + our example sentences in one frame with every target column.

    Columns: text, group (app name or ``examples``), stars, sentiment (0/1/2, -1 unknown),
    problem_report, feature_request, praise, question (float, NaN unknown).
    """
    frames = []
    for path in sorted(data_dir.glob("*.csv")):
        d = pd.read_csv(path)
        text = d["data"].fillna("").astype(str)
        frames.append(pd.DataFrame({
            "text": text, "group": d["app"].astype(str), "stars": d["score"].astype(float),
            "sentiment": stars_to_sentiment(d["score"]),
            "problem_report": d["problem_report"].astype(float),
            "feature_request": d["feature_request"].astype(float),
            "praise": [weak_praise(s, p, f) for s, p, f in
                       zip(d["score"], d["problem_report"], d["feature_request"], strict=True)],
            "question": [float(weak_question(t)) for t in text],
        }))
    ex = pd.read_csv(EXAMPLES)
    frames.append(pd.DataFrame({
        "text": ex["text"], "group": "examples", "stars": np.nan,
        "sentiment": ex["sentiment"].map(SENT_INDEX).astype(int),
        **{k: ex[k].astype(float) for k in INPUT_TYPES},
    }))
    return pd.concat(frames, ignore_index=True)


class EmbeddingCache:
    """Embeddings per (encoder, adapter) kept in an npz under ``cache_dir`` between runs."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.dir = cache_dir

    def features(self, key: str, encoder: Any, texts: list[str],
                 sentences: list[list[str]]) -> np.ndarray:
        """``review_features`` of ``texts`` (cached)."""
        return self._cached("feat", _text_key(key, encoder), texts,
                            lambda: encode_features(encoder, texts, sentences)[0])

    def sentences(self, key: str, encoder: Any, texts: list[str]) -> np.ndarray:
        """Stand-alone sentence vectors (``encode_sentences``) of ``texts`` (cached)."""
        return self._cached("sent", _text_key(key, encoder), texts,
                            lambda: encoder.encode_sentences(texts))

    def _cached(self, kind: str, key: str, texts: list[str], compute: Any) -> np.ndarray:
        import hashlib

        digest = hashlib.sha256(("\x1f".join(texts) + kind + key).encode()).hexdigest()[:16]
        path = self.dir / f"{kind}-{digest}.npy" if self.dir else None
        if path and path.exists():
            return np.load(path)
        vecs = compute()
        if path:
            self.dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            np.save(path, vecs)
        return vecs


def _text_key(key: str, encoder: Any) -> str:
    """Cache key of an encoder's vectors: texts read with emoji spelled out are not the same
    vectors as texts read without."""
    return key + (f"/{EMOJI_VERSION}" if encoder.spells_emoji else "")


def slug(app: str) -> str:
    """Folder name of a hold-out fold (``Garmin Connect`` -> ``garmin_connect``)."""
    return "".join(c if c.isalnum() else "_" for c in app.lower())


def frame_sentences(frame: pd.DataFrame) -> list[list[str]]:
    """Each row's sentences, split like the pipeline splits them."""
    return [split_sentences(t) or [t] for t in frame["text"].tolist()]


def embed_frame(frame: pd.DataFrame, encoder: Any, cache: EmbeddingCache,
                key: str) -> np.ndarray:
    """``review+sentmax`` features for every row, from one pass per review (as the pipeline)."""
    return cache.features(key, encoder, frame["text"].tolist(), frame_sentences(frame))


def fit_heads(x: np.ndarray, frame: pd.DataFrame, need_vecs: np.ndarray,
              need_labels: list[set[str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit sentiment, input-type and needs heads; returns (heads, fitting info)."""
    groups = frame["group"].to_numpy()
    sent_head, sent_info = fit_sentiment(x, frame["sentiment"].to_numpy(), groups)
    it_head, it_info = fit_input_types(
        x, {k: frame[k].to_numpy(dtype=float) for k in INPUT_TYPES}, groups)
    needs_head = fit_needs(need_vecs, need_labels, [n.id for n in DEFAULT_NEEDS])
    return ({"sentiment": sent_head, "input_types": it_head, "needs": needs_head},
            {"sentiment": sent_info, "input_types": it_info})


def holdout_figures(heads: dict[str, Any], x: np.ndarray, frame: pd.DataFrame) -> dict[str, Any]:
    """Figures on a held-out app: polarity accuracy (stars <=2 vs >=4), P/R/F1 per input type."""
    probs = heads["sentiment"].predict_proba(x)
    stars = frame["stars"].to_numpy()
    polar = (stars <= 2) | (stars >= 4)
    score = probs[:, 2] - probs[:, 0]
    out: dict[str, Any] = {
        "n": len(frame),
        "sentiment_accuracy": round(float(np.mean((score[polar] > 0) == (stars[polar] >= 4))), 4),
        "sentiment_3class_accuracy": round(float(np.mean(
            probs.argmax(1) == frame["sentiment"].to_numpy())), 4),
    }
    it = heads["input_types"]
    yes = it.decide(it.predict_proba(x))
    for j, label in enumerate(it.labels):
        y = frame[label].to_numpy(dtype=float)
        known = ~np.isnan(y)
        out[label] = binary_metrics(y[known].astype(int), yes[known, j])
    return out


def _encoder(ref: ModelRef, adapter: dict[str, np.ndarray] | None, threads: int,
             emoji: str) -> Any:
    from analysis.classify.encoder import TransformerEncoder

    return TransformerEncoder(ref, threads=threads, adapter=adapter,
                              spell_emoji=_spell(emoji))


def _spell(emoji: str) -> bool | None:
    """``--emoji``: "spell" = as at inference (spelled when the vocabulary lacks emoji),
    "unknown" = never spelled (how heads fitted before emoji_text read them)."""
    return None if emoji == "spell" else False


def _adapter_key(ref: ModelRef, adapter: dict[str, np.ndarray] | None) -> str:
    import hashlib

    h = hashlib.sha256(ref.id.encode())
    for k in sorted(adapter or {}):
        h.update(adapter[k].tobytes())  # type: ignore[index]
    return h.hexdigest()[:16]


def run_fold(frame: pd.DataFrame, train: np.ndarray, ref: ModelRef, args: argparse.Namespace,
             cache: EmbeddingCache) -> tuple[dict[str, Any], dict[str, Any], Any, np.ndarray]:
    """Fit the linear heads on frozen (or adapted) embeddings of ``frame[train]``.

    Returns:
        (heads, fitting info, encoder, features of every row).
    """
    encoder = _encoder(ref, args.adapter, args.threads, args.emoji)
    key = _adapter_key(ref, args.adapter)
    x = embed_frame(frame, encoder, cache, key)
    need_texts, need_labels = needs_training_set(DEFAULT_NEEDS, args.example_languages)
    heads, info = fit_heads(x[train], frame[train], cache.sentences(key, encoder, need_texts),
                            need_labels)
    return heads, info, encoder, x


FT_LABELS = ("problem_report", "feature_request")


def finetune_fold(lower: Any, frame: pd.DataFrame, train: np.ndarray,
                  args: argparse.Namespace, task: ExampleTask | None
                  ) -> tuple[dict[str, np.ndarray], dict[str, Any], Any]:
    """LoRA + heads fitted on ``frame[train]`` (see :mod:`analysis.classify.finetune`), with
    the example sentences of ``task`` learned alongside when given."""
    from analysis.classify.finetune import finetune

    idx = np.flatnonzero(train)
    adapter, heads, model = finetune(lower, idx.tolist(),
                    {k: frame[k].to_numpy(dtype=float)[idx] for k in FT_LABELS},
                    frame["sentiment"].to_numpy()[idx],
                    frame["stars"].to_numpy(dtype=float)[idx] if args.stars else None,
                    epochs=args.epochs, rank=args.rank, needs=task,
                    progress=log.info)
    return adapter, (text_only(heads) if args.stars else heads), model


def need_examples_task(first_row: int, languages: tuple[str, ...], *,
                       sentiment_weight: float = 0.0) -> tuple[list[str], ExampleTask]:
    """``--needs-task``: the need example sentences in ``languages`` (cached after the
    frame's ``first_row`` texts) and the task :func:`~analysis.classify.finetune.finetune`
    learns from them: their rows in the cache, 0/1 targets sentences x default needs and, with
    a ``sentiment_weight`` (``--example-sentiment``), each sentence's written polarity as a
    sentiment target of that weight (a request or a mixed sentence: none)."""
    from analysis.classify.finetune import ExampleTask

    texts, labels = needs_training_set(DEFAULT_NEEDS, languages)
    ids = [n.id for n in DEFAULT_NEEDS]
    targets = np.array([[need in lab for need in ids] for lab in labels], dtype=np.float32)
    polarity = None
    if sentiment_weight:
        written = example_polarity(languages)
        missing = [t for t in texts if t not in written]
        if missing:
            raise ValueError(f"{len(missing)} example sentence(s) have no polarity written, "
                             f"e.g. {missing[0]!r}")
        polarity = np.array([SENT_INDEX.get(written[t], -1) for t in texts])
    return texts, ExampleTask(list(range(first_row, first_row + len(texts))), targets, polarity,
                              sentiment_weight)


def text_only(heads: dict[str, Any]) -> dict[str, Any]:
    """Heads fine-tuned with the star rating as an auxiliary input, as text-only heads.

    The "no rating" column's weight moves into the bias and the star columns go: exactly how
    those heads score a review whose rating is unknown. Sentiment never had star weights.
    Measured on minibar, the text-only heads did as well as reading the ratings (the
    ``--stars`` run's hold-out figures differed by at most 0.002 F1 either way), and they work
    the same on any input, rated or not.
    """
    import attrs

    it, sent = heads["input_types"], heads["sentiment"]
    width = it.coef.shape[1] - N_STAR_COLUMNS
    if np.any(sent.coef[:, width:]):
        raise ValueError("sentiment head reads the star columns")
    return {
        "input_types": attrs.evolve(it, coef=it.coef[:, :width].copy(),
                                    intercept=it.intercept + it.coef[:, -1]),
        "sentiment": attrs.evolve(sent, coef=sent.coef[:, :width].copy()),
    }


def merge_heads(lr_heads: dict[str, Any], ft_heads: dict[str, Any]) -> dict[str, Any]:
    """Fine-tuned sentiment and problem/feature rows; LogReg rows for praise and question."""
    import attrs

    it = lr_heads["input_types"]
    ft = ft_heads["input_types"]
    coef, icpt, thr = it.coef.copy(), it.intercept.copy(), it.thresholds.copy()
    for j, label in enumerate(ft.labels):
        i = it.labels.index(label)
        coef[i], icpt[i], thr[i] = ft.coef[j], ft.intercept[j], ft.thresholds[j]
    return {**lr_heads, "sentiment": ft_heads["sentiment"],
            "input_types": attrs.evolve(it, coef=coef, intercept=icpt, thresholds=thr)}


def refit_needs(args: argparse.Namespace, argv: list[str] | None) -> int:
    """Refit the needs head of the heads in ``args.out`` from the taxonomy's example sentences.

    The needs head reads sentence vectors of the encoder with the folder's adapter and learns
    from the examples only (never from minibar), so it can be refitted alone after the examples
    change; sentiment, input types, the adapter and the hold-out folds stay as they are. A full
    run refits it the same way. The manifest records the refit under ``needs_refit``.
    """
    import attrs

    shipped = HeadSet.load(args.out, key="--out")
    ref = resolve_model(args.encoder, "--encoder") if args.encoder else bundled_encoder()
    if shipped.encoder and shipped.encoder != ref.id:
        raise SystemExit(f"--out {args.out} holds heads for encoder {shipped.encoder!r}, "
                         f"not {ref.id!r}: pass --encoder {shipped.encoder}")
    # Read as the shipped heads were fitted (the examples have no emoji, but the rule is one).
    args.emoji = shipped.manifest.get("training", {}).get("emoji", "spell")
    encoder = _encoder(ref, shipped.adapter, args.threads, args.emoji)
    args.example_languages = args.example_languages or shipped.example_languages
    args.need_threshold = args.need_threshold or (shipped.need_threshold,
                                                  shipped.need_thresholds_by_language)
    texts, labels = needs_training_set(DEFAULT_NEEDS, args.example_languages)
    needs = fit_needs(encoder.encode_sentences(texts), labels, [n.id for n in DEFAULT_NEEDS])
    offsets = shipped.language_offsets
    if args.language_offsets:
        offsets = fit_offsets(encoder, args.language_offsets)
    manifest = {**shipped.manifest, **needs_settings(args), **offsets_settings(offsets),
                "needs_refit": {
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sentences": len(texts), "needs": len(DEFAULT_NEEDS),
        "command": "python -m analysis.classify.fit_defaults "
                   + " ".join(argv if argv is not None else sys.argv[1:])}}
    attrs.evolve(shipped, heads={**shipped.heads, "needs": needs}, manifest=manifest,
                 language_offsets=offsets).save(args.out)
    log.info("refitted the needs head from %d example sentences into %s", len(texts), args.out)
    return 0


def needs_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The manifest keys that say how the needs head reads: example languages, thresholds."""
    threshold, by_language = args.need_threshold
    return {"needs_example_languages": list(args.example_languages),
            "need_threshold": threshold, "need_threshold_by_language": by_language}


def offsets_settings(offsets: dict[str, np.ndarray] | None) -> dict[str, Any]:
    """The manifest key that says which languages have an offset and where it came from."""
    if not offsets:
        return {}
    return {"language_offsets": {
        lang: {"pairs_file": f"analysis/classify/examples/parallel_en_{lang}.csv",
               "pairs": len(parallel_pairs(lang)[0]),
               "read_by": ["sentiment", "input_types"]} for lang in sorted(offsets)}}


def need_threshold_arg(value: str) -> tuple[float, dict[str, float]]:
    """``0.6`` or ``0.6,fr=0.5`` -> (threshold, {language: threshold})."""
    first, *rest = value.split(",")
    try:
        return float(first), {k.strip(): float(v) for k, v in (p.split("=") for p in rest)}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected a number, then optional language=number pairs "
            "(0.6,fr=0.5)") from None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    p = argparse.ArgumentParser(prog="python -m analysis.classify.fit_defaults",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, help="minibar-en folder (default: ../shared/...)")
    p.add_argument("--out", type=Path, default=DEFAULT_HEADS_DIR)
    p.add_argument("--encoder", help="hub id or folder (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--fine-tune", action=argparse.BooleanOptionalAction, default=True,
                   help="fit a LoRA adapter (default; BERT- or MPNet-style encoders) or only "
                        "linear heads on frozen embeddings (any encoder)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--stars", action=argparse.BooleanOptionalAction, default=True,
                   help="fine-tune with the star rating as an auxiliary input of the input-type "
                        "heads (hidden for 30%% of reviews); the heads written read text only")
    p.add_argument("--holdout", action=argparse.BooleanOptionalAction, default=True,
                   help="measure leave-one-app-out figures (one extra fit per app)")
    p.add_argument("--cache", type=Path, default=Path("/tmp/reviewgap-fit-cache"),
                   help="embedding cache folder (outside the repo)")
    p.add_argument("--needs-task", action=argparse.BooleanOptionalAction, default=False,
                   help="fine-tune: learn the need example sentences (--example-languages) "
                        "alongside the reviews, so the adapter keeps needs apart in every "
                        "language the examples are written in")
    p.add_argument("--example-sentiment", type=float, default=0.0, metavar="WEIGHT",
                   help="with --needs-task: the sentiment head also learns each example "
                        "sentence's written polarity (examples/needs_<lang>.csv, "
                        "needs_en_polarity.csv), so it reads a single sentence or clause, not "
                        "only whole reviews; WEIGHT is that loss against the reviews' (1: the "
                        "same). Default 0: off")
    p.add_argument("--first-layer", type=int, default=2,
                   help="fine-tune: adapt layers from this index on (lower ones are cached)")
    p.add_argument("--needs-only", action="store_true",
                   help="refit only the needs head of the heads in --out (its adapter kept) "
                        "from the taxonomy's example sentences; seconds instead of minutes")
    p.add_argument("--example-languages", type=lambda v: tuple(v.split(",")),
                   help="comma-separated languages of the need example sentences the needs head "
                        "learns from (en, fr, nl, ja, es, pt, it, ko; all but en are for a "
                        "multilingual --encoder). Default: en; "
                        "with --needs-only, those the --out heads were fitted on")
    p.add_argument("--need-threshold", type=need_threshold_arg,
                   help="score at which the needs head's output counts as a mention, written to "
                        "the manifest (the default of classification.need_threshold), optionally "
                        "with other values per language: 0.6,fr=0.5. Default: 0.5; with "
                        "--needs-only, the --out heads' own")
    p.add_argument("--emoji", choices=("spell", "unknown"), default="spell",
                   help="spell: read emoji the encoder's vocabulary lacks as their names, as "
                        "inference does (default); unknown: as unknown tokens, which is how the "
                        "shipped default heads were fitted (reproduces them)")
    p.add_argument("--language-offsets", type=lambda v: tuple(v.split(",")), default=(),
                   help="comma-separated languages (fr) whose offset to English, from the "
                        "parallel example sentences, is taken off before the sentiment and "
                        "input-type heads (for a multilingual --encoder). With --needs-only, "
                        "the --out heads' offsets are kept unless this is given")
    args = p.parse_args(argv)
    args.adapter = None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.needs_only:
        return refit_needs(args, argv)
    args.example_languages = args.example_languages or ("en",)
    args.need_threshold = args.need_threshold or (0.5, {})
    data_dir = args.data or find_minibar()
    frame = load_training_frame(data_dir)
    ref = resolve_model(args.encoder, "--encoder") if args.encoder else bundled_encoder()
    cache = EmbeddingCache(args.cache)
    apps = sorted(g for g in frame["group"].unique() if g != "examples")
    holdout: dict[str, Any] = {}
    lower, task = None, None
    if args.fine_tune:
        from analysis.classify.finetune import LowerCache

        t0 = time.time()
        extra, task = (need_examples_task(len(frame), args.example_languages,
                                          sentiment_weight=args.example_sentiment)
                       if args.needs_task else ([], None))
        lower = LowerCache(ref, frame["text"].tolist() + extra,
                           frame_sentences(frame) + [[t] for t in extra],
                           first_layer=args.first_layer, threads=args.threads,
                           spell_emoji=_spell(args.emoji))
        log.info("cached lower layers in %.0fs", time.time() - t0)
    if args.holdout:
        for app in apps:
            train = (frame["group"] != app).to_numpy()
            log.info("hold-out fold: %s", app)
            if lower is not None:
                fold_adapter, ft_heads, model = finetune_fold(lower, frame, train, args, task)
                x_out = lower.embed(model, np.flatnonzero(~train).tolist())
                holdout[app] = holdout_figures(ft_heads, x_out, frame[~train])
                # Kept so that tests/test_classify_quality.py can re-measure the hold-out
                # figures through the inference code path without fitting anything.
                HeadSet(ft_heads, {"encoder": ref.id, "held_out": app,
                                   "features": FEATURES, "emoji": args.emoji,
                                   "holdout": {app: holdout[app]}},
                        fold_adapter).save(args.out / "holdout" / slug(app))
            else:
                heads, _, _, x = run_fold(frame, train, ref, args, cache)
                holdout[app] = holdout_figures(heads, x[~train], frame[~train])
            log.info("%s: %s", app, holdout[app])
    log.info("final fit on all apps")
    everything = np.ones(len(frame), bool)
    ft_heads = None
    if lower is not None:
        t0 = time.time()
        args.adapter, ft_heads, _ = finetune_fold(lower, frame, everything, args, task)
        info_ft = {"fine_tune_seconds": round(time.time() - t0, 1)}
    heads, info, final_encoder, _ = run_fold(frame, everything, ref, args, cache)
    if ft_heads is not None:
        heads = merge_heads(heads, ft_heads)
        info = {**info, **info_ft, "fine_tuned_heads": ["sentiment", *FT_LABELS]}
    adapter = args.adapter
    # The encoder the final heads were fitted through (final adapter, same emoji reading).
    offsets = (fit_offsets(final_encoder, args.language_offsets) if args.language_offsets
               else None)
    manifest = {
        "encoder": ref.id,
        "features": FEATURES,
        **needs_settings(args),
        **offsets_settings(offsets),
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sources": {
            "minibar-en": "Jl-wei/mini-bar dataset/for_classification (MIT), 3 apps x 2,000 "
                          "English reviews; text not shipped",
            "examples": "analysis/classify/examples/input_types.csv and taxonomy.py examples "
                        "(written for this project)",
        },
        "labels": {
            "sentiment": "stars 1-2 negative, 3 neutral, 4-5 positive (weak) + examples",
            "problem_report": "minibar hand labels + examples",
            "feature_request": "minibar hand labels + examples",
            "praise": "weak: 4-5 stars with no problem/feature label; 1-3 stars = no",
            "question": "weak: an interrogative sentence ending in '?'",
            "needs": "taxonomy example sentences (generic sentences as negatives)",
        },
        "training": {"fine_tune": args.fine_tune, "emoji": args.emoji,
                     **({"epochs": args.epochs, "rank": args.rank,
                         "first_layer": args.first_layer,
                         **({"needs_task": True} if args.needs_task else {}),
                         **({"example_sentiment": task.sentiment_weight}
                            if task is not None and task.sentiment is not None else {})}
                        if args.fine_tune else {}),
                     "head": "LogisticRegression on review+sentmax, C and thresholds by "
                             "grouped CV on the training apps"
                             + ("; sentiment/problem/feature: heads fine-tuned with a LoRA "
                                "adapter on the upper layers" if args.fine_tune else ""),
                     **info},
        "holdout": holdout,
        "command": "python -m analysis.classify.fit_defaults "
                   + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    HeadSet(heads, manifest, adapter, offsets).save(args.out)
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
