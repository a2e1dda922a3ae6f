"""Small classification heads on top of frozen sentence embeddings, stored as npz + JSON.

Stage: classify (scoring). In: feature matrices (embeddings). Out: probabilities per label.

Heads are fitted with scikit-learn (:mod:`analysis.classify.training`) and then stored as plain
arrays (no pickles: a heads folder is data, safe to share). Prediction is numpy only.

A heads folder holds ``heads.npz`` (arrays named ``<head>.<array>``) and ``manifest.json``
(labels, thresholds, how the heads were fitted, hold-out figures).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np

DEFAULT_HEADS_DIR = Path(__file__).resolve().parent / "default_heads"

SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
INPUT_TYPES: tuple[str, ...] = ("problem_report", "feature_request", "praise", "question")
"""Independent yes/no input types; ``other`` is none of them."""


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@attrs.define(eq=False)  # arrays: compare with .digest, not ==
class LinearHead:
    """``probs = act(x @ coef.T + intercept)``, optional one hidden ReLU layer before it.

    ``kind`` is ``"softmax"`` (one label per row) or ``"sigmoid"`` (independent labels, each
    with its own decision threshold).
    """

    labels: tuple[str, ...]
    kind: str
    coef: np.ndarray
    intercept: np.ndarray
    thresholds: np.ndarray | None = None
    hidden_coef: np.ndarray | None = None
    hidden_intercept: np.ndarray | None = None

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probabilities, shape (n, len(labels))."""
        if x.shape[0] == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        h = x
        if self.hidden_coef is not None:
            h = np.maximum(0.0, h @ self.hidden_coef.T + self.hidden_intercept)
        z = h @ self.coef.T + self.intercept
        probs = _softmax(z) if self.kind == "softmax" else _sigmoid(z)
        return probs.astype(np.float32)

    def decide(self, probs: np.ndarray) -> np.ndarray:
        """Yes/no per label for a sigmoid head (probability at or over its threshold)."""
        thr = self.thresholds if self.thresholds is not None else np.full(len(self.labels), 0.5)
        return probs >= thr[None, :]

    def subset(self, labels: tuple[str, ...]) -> LinearHead:
        """Only some labels of a sigmoid head (e.g. the needs left after ``[needs] disable``)."""
        idx = [self.labels.index(lab) for lab in labels]
        return attrs.evolve(
            self, labels=labels, coef=self.coef[idx], intercept=self.intercept[idx],
            thresholds=None if self.thresholds is None else self.thresholds[idx],
        )

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        out = {f"{name}.coef": self.coef, f"{name}.intercept": self.intercept}
        if self.thresholds is not None:
            out[f"{name}.thresholds"] = self.thresholds
        if self.hidden_coef is not None:
            out[f"{name}.hidden_coef"] = self.hidden_coef
            out[f"{name}.hidden_intercept"] = self.hidden_intercept  # type: ignore[assignment]
        return out


@attrs.define(eq=False)
class HeadSet:
    """All heads of a classifier plus the manifest that describes them."""

    heads: dict[str, LinearHead]
    manifest: dict[str, Any]
    adapter: dict[str, np.ndarray] | None = None
    """LoRA arrays merged into the encoder (``adapter.npz``), or None for the plain encoder."""
    language_offsets: dict[str, np.ndarray] | None = None
    """Per language, the offset taken off that language's vectors before the sentiment and
    input-type heads (:mod:`analysis.classify.language_offsets`; ``offset.<lang>`` arrays in
    ``heads.npz``), or None."""

    @property
    def features(self) -> str:
        """Feature layout the heads expect (see :mod:`analysis.classify.features`)."""
        return str(self.manifest.get("features", "review+sentmax"))

    @property
    def encoder(self) -> str:
        return str(self.manifest.get("encoder", ""))

    @property
    def need_threshold(self) -> float:
        """Score at which the needs head's output counts as a mention (manifest
        ``need_threshold``, 0.5 when it names none)."""
        return float(self.manifest.get("need_threshold", 0.5))

    @property
    def need_thresholds_by_language(self) -> dict[str, float]:
        """Languages whose need threshold differs from :attr:`need_threshold` (manifest
        ``need_threshold_by_language``): the needs head scores some languages lower."""
        return {k: float(v) for k, v in self.manifest.get("need_threshold_by_language",
                                                           {}).items()}

    @property
    def example_languages(self) -> tuple[str, ...]:
        """Languages of the need example sentences the needs head learned from (``en`` for
        heads written before other languages had examples); custom needs are fitted on the
        same ones."""
        return tuple(self.manifest.get("needs_example_languages", ("en",)))

    @property
    def digest(self) -> str:
        """12 hex digits over every array and label: changes whenever a head changes."""
        h = hashlib.sha256()
        for name in sorted(self.heads):
            head = self.heads[name]
            h.update(json.dumps([name, head.kind, list(head.labels)]).encode())
            for key, arr in sorted(head.arrays(name).items()):
                h.update(key.encode())
                h.update(np.ascontiguousarray(arr, dtype=np.float32).tobytes())
        for key in sorted(self.adapter or {}):
            h.update(key.encode())
            h.update(np.ascontiguousarray(self.adapter[key], dtype=np.float32).tobytes())  # type: ignore[index]
        for lang in sorted(self.language_offsets or {}):  # none: digests as before offsets
            h.update(f"offset.{lang}".encode())
            h.update(np.ascontiguousarray(self.language_offsets[lang],  # type: ignore[index]
                                          dtype=np.float32).tobytes())
        return h.hexdigest()[:12]

    def save(self, folder: Path) -> Path:
        """Write ``heads.npz`` and ``manifest.json`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for name, head in self.heads.items():
            arrays.update({k: v.astype(np.float32) for k, v in head.arrays(name).items()})
        for lang, offset in (self.language_offsets or {}).items():
            arrays[f"offset.{lang}"] = offset.astype(np.float32)
        np.savez_compressed(folder / "heads.npz", **arrays)
        if self.adapter:
            np.savez_compressed(folder / "adapter.npz", **self.adapter)
        elif (folder / "adapter.npz").exists():
            (folder / "adapter.npz").unlink()
        manifest = {
            **self.manifest,
            "heads": {n: {"kind": h.kind, "labels": list(h.labels)} for n, h in self.heads.items()},
            "digest": self.digest,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
        return folder

    @classmethod
    def load(cls, folder: Path, key: str = "classification.heads") -> HeadSet:
        """Read a heads folder written by :meth:`save`.

        Raises:
            FileNotFoundError: the folder lacks ``heads.npz`` or ``manifest.json`` (the message
                names the folder and the config key).
        """
        npz, man = folder / "heads.npz", folder / "manifest.json"
        if not npz.exists() or not man.exists():
            raise FileNotFoundError(
                f"{key}: {folder} is not a heads folder (needs heads.npz and manifest.json; "
                "write one with `reviewgap train`)"
            )
        manifest = json.loads(man.read_text("utf-8"))
        heads: dict[str, LinearHead] = {}
        # allow_pickle=False: a heads folder may come from someone else; arrays only.
        with np.load(npz, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        for name, spec in manifest["heads"].items():
            heads[name] = LinearHead(
                labels=tuple(spec["labels"]),
                kind=spec["kind"],
                coef=arrays[f"{name}.coef"],
                intercept=arrays[f"{name}.intercept"],
                thresholds=arrays.get(f"{name}.thresholds"),
                hidden_coef=arrays.get(f"{name}.hidden_coef"),
                hidden_intercept=arrays.get(f"{name}.hidden_intercept"),
            )
        adapter = None
        if (folder / "adapter.npz").exists():
            with np.load(folder / "adapter.npz", allow_pickle=False) as data:
                adapter = {k: data[k] for k in data.files}
        offsets = {k.removeprefix("offset."): v for k, v in arrays.items()
                   if k.startswith("offset.")}
        return cls(heads, {k: v for k, v in manifest.items() if k not in ("heads", "digest")},
                   adapter, offsets or None)


def head_from_sklearn(model: Any, labels: tuple[str, ...], kind: str,
                      thresholds: Mapping[str, float] | None = None) -> LinearHead:
    """Convert a fitted sklearn LogisticRegression (or a list of binary ones) to a head."""
    models = model if isinstance(model, list) else [model]
    if kind == "sigmoid":
        coef = np.vstack([m.coef_.reshape(1, -1) for m in models])
        intercept = np.concatenate([np.ravel(m.intercept_) for m in models])
    else:
        (m,) = models
        coef, intercept = m.coef_, m.intercept_
        if coef.shape[0] == 1:  # sklearn binary: one row for class 1
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.concatenate([-intercept / 2, intercept / 2])
    thr = None
    if thresholds is not None:
        thr = np.array([thresholds.get(lab, 0.5) for lab in labels], dtype=np.float32)
    return LinearHead(labels=labels, kind=kind, coef=np.asarray(coef, dtype=np.float32),
                      intercept=np.asarray(intercept, dtype=np.float32), thresholds=thr)
