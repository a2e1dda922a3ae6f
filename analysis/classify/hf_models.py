"""Hugging Face pipelines a user may name instead of our heads.

Stage: classify (optional models). In: ``[classification] sentiment_model`` (a
``text-classification`` model) or ``needs_model`` (a zero-shot NLI model), as a hub id or folder.
Out: probabilities in our label spaces (negative/neutral/positive; one score per need).

Loaded offline from a folder or the local hub cache (see :mod:`analysis.classify.hub`). A model
whose labels cannot be mapped is an error naming the model, its labels and the config key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.classify.hub import ModelLoadError, ModelRef, set_offline_env

if TYPE_CHECKING:
    from analysis.classify.taxonomy import Taxonomy

_STARS = re.compile(r"^([1-5])\s*stars?$", re.IGNORECASE)


def _polarity(label: str) -> int | None:
    """Map a model label to 0 (negative), 1 (neutral), 2 (positive), or None if unknown."""
    low = label.lower().strip()
    m = _STARS.match(low)
    if m:
        return 0 if int(m.group(1)) <= 2 else (1 if m.group(1) == "3" else 2)
    for prefix, value in (("neg", 0), ("neu", 1), ("pos", 2)):
        if low.startswith(prefix):
            return value
    return None


def _pipeline(task: str, ref: ModelRef, key: str, threads: int) -> Any:
    set_offline_env()
    import torch
    from transformers import pipeline

    if threads:
        torch.set_num_threads(threads)
    try:
        return pipeline(task, model=str(ref.path), tokenizer=str(ref.path), device=-1)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"{key}: cannot load {task} model {ref.id!r}: {exc}") from None


class SentimentModel:
    """A ``text-classification`` model whose labels map to negative/neutral/positive."""

    def __init__(self, ref: ModelRef, *, threads: int = 0, batch_size: int = 32,
                 key: str = "classification.sentiment_model") -> None:
        self.ref = ref
        self.pipe = _pipeline("text-classification", ref, key, threads)
        self.batch_size = batch_size
        labels = list(self.pipe.model.config.id2label.values())
        self.mapping = {lab: _polarity(lab) for lab in labels}
        if any(v is None for v in self.mapping.values()) or not {0, 2} <= set(
                self.mapping.values()):
            raise ModelLoadError(
                f"{key}: model {ref.id!r} has labels {labels}; expected negative/positive "
                "(optionally neutral) or '1 star'..'5 stars'")

    @property
    def id(self) -> str:
        return self.ref.id

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 3) probabilities of negative, neutral, positive."""
        out = np.zeros((len(texts), 3), dtype=np.float32)
        if not texts:
            return out
        results = self.pipe(list(texts), top_k=None, truncation=True, batch_size=self.batch_size)
        for i, scores in enumerate(results):
            for item in scores:
                out[i, self.mapping[item["label"]]] += float(item["score"])
        return out


class NeedsModel:
    """A zero-shot NLI model scoring each sentence against each need's description."""

    TEMPLATE = "This review is about {}."

    def __init__(self, ref: ModelRef, *, threads: int = 0, batch_size: int = 16,
                 key: str = "classification.needs_model") -> None:
        self.ref = ref
        self.pipe = _pipeline("zero-shot-classification", ref, key, threads)
        self.batch_size = batch_size
        labels = [v.lower() for v in self.pipe.model.config.id2label.values()]
        if not any(lab.startswith("entail") for lab in labels):
            raise ModelLoadError(
                f"{key}: model {ref.id!r} is not an NLI model (labels {labels}; "
                "zero-shot classification needs an 'entailment' label)")

    @property
    def id(self) -> str:
        return self.ref.id

    def scores(self, texts: Sequence[str], taxonomy: Taxonomy) -> np.ndarray:
        """(n, len(taxonomy)) entailment probabilities (independent per need)."""
        out = np.zeros((len(texts), len(taxonomy)), dtype=np.float32)
        if not texts or not len(taxonomy):
            return out
        # Labels in lower case read naturally in the hypothesis ("... about pricing").
        names = [n.label.lower() for n in taxonomy]
        results = self.pipe(list(texts), candidate_labels=names, multi_label=True,
                            hypothesis_template=self.TEMPLATE, batch_size=self.batch_size)
        if isinstance(results, dict):
            results = [results]
        for i, res in enumerate(results):
            for label, score in zip(res["labels"], res["scores"], strict=True):
                out[i, names.index(label)] = float(score)
        return out
