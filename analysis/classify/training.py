"""Fit the heads (scikit-learn LogisticRegression) and turn them into stored arrays.

Stage: classify (training). In: embeddings and labels (weak labels from stars, our example
sentences, a user's labelled CSV). Out: :class:`~analysis.classify.heads.LinearHead` objects.

Regularisation and decision thresholds are chosen by cross-validation on the training data
only (grouped by app/source when groups are given), never on the data a figure is reported on.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analysis.classify.heads import SENTIMENT_LABELS, LinearHead, head_from_sklearn
from analysis.classify.taxonomy import Need, training_sentences

C_GRID: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0)
THRESHOLDS = np.round(np.linspace(0.2, 0.8, 25), 3)

_QUESTION = re.compile(
    r"(^|[.!?]\s+)(how|what|why|where|when|which|who|is|are|can|could|does|do|did|will|"
    r"would|should|anyone|any)\b[^.!?]*\?", re.IGNORECASE)


def weak_question(text: str) -> int:
    """Weak label for training: the text has an interrogative sentence ending in '?'."""
    return int(bool(_QUESTION.search(text or "")))


def weak_praise(stars: int | None, problem: int, feature: int) -> float:
    """Weak praise label from stars: 1 for a 4-5 star review that reports nothing and asks for
    nothing, 0 for 1-3 stars, unknown (NaN) for 4-5 stars that also report or request."""
    if stars is None or np.isnan(stars):
        return float("nan")
    if stars <= 3:
        return 0.0
    return 1.0 if not problem and not feature else float("nan")


def stars_to_sentiment(stars: Sequence[float]) -> np.ndarray:
    """1-2 -> negative (0), 3 -> neutral (1), 4-5 -> positive (2), missing -> -1."""
    s = np.asarray(stars, dtype=float)
    return np.where(np.isnan(s), -1, np.where(s <= 2, 0, np.where(s == 3, 1, 2))).astype(int)


def _cv(n: int, groups: np.ndarray | None) -> tuple[object, np.ndarray | None]:
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    if groups is not None and len(np.unique(groups)) >= 2:
        return GroupKFold(n_splits=min(3, len(np.unique(groups)))), groups
    return StratifiedKFold(n_splits=3, shuffle=True, random_state=0), None


def fit_binary(x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None,
               class_weight: str | None = None) -> tuple[object, float, dict[str, float]]:
    """Fit one yes/no LogisticRegression; C and the threshold maximise cross-validated F1.

    Returns:
        (fitted model, threshold, {"C", "cv_f1"}).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import cross_val_predict

    cv, g = _cv(len(y), groups)
    best = (-1.0, 1.0, 0.5)
    if min(np.bincount(y.astype(int), minlength=2)) >= 3:
        for c in C_GRID:
            model = LogisticRegression(C=c, max_iter=3000, class_weight=class_weight)
            oof = cross_val_predict(model, x, y, groups=g, cv=cv, method="predict_proba")[:, 1]
            for t in THRESHOLDS:
                f = f1_score(y, oof >= t, zero_division=0)
                if f > best[0]:
                    best = (f, c, float(t))
    model = LogisticRegression(C=best[1], max_iter=3000, class_weight=class_weight).fit(x, y)
    return model, best[2], {"C": best[1], "cv_f1": round(best[0], 4)}


def fit_input_types(x: np.ndarray, targets: dict[str, np.ndarray],
                    groups: np.ndarray | None = None) -> tuple[LinearHead, dict[str, dict]]:
    """One sigmoid row per input type; rows with NaN targets are left out of that label."""
    models, thresholds, info = [], {}, {}
    for label, y in targets.items():
        known = ~np.isnan(y)
        model, thr, meta = fit_binary(x[known], y[known].astype(int),
                                      None if groups is None else groups[known])
        models.append(model)
        thresholds[label] = thr
        info[label] = {**meta, "threshold": thr, "n": int(known.sum()),
                       "positives": int(np.nansum(y))}
    return head_from_sklearn(models, tuple(targets), "sigmoid", thresholds), info


def fit_sentiment(x: np.ndarray, y3: np.ndarray,
                  groups: np.ndarray | None = None) -> tuple[LinearHead, dict[str, float]]:
    """Three-class softmax LogisticRegression; C by cross-validated polarity accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    known = y3 >= 0
    x, y3 = x[known], y3[known]
    g = None if groups is None else groups[known]
    cv, g = _cv(len(y3), g)
    polar = y3 != 1
    best = (-1.0, 1.0)
    for c in C_GRID:
        oof = cross_val_predict(LogisticRegression(C=c, max_iter=3000), x, y3, groups=g, cv=cv,
                                method="predict_proba")
        acc = float(np.mean(((oof[:, 2] - oof[:, 0]) > 0)[polar] == (y3[polar] == 2)))
        if acc > best[0]:
            best = (acc, c)
    model = LogisticRegression(C=best[1], max_iter=3000).fit(x, y3)
    return head_from_sklearn(model, SENTIMENT_LABELS, "softmax"), {
        "C": best[1], "cv_polarity_accuracy": round(best[0], 4), "n": len(y3)}


def fit_needs(vectors: np.ndarray, labels: list[set[str]], need_ids: Sequence[str]) -> LinearHead:
    """One sigmoid row per need, fitted on example sentences (others' examples = negatives).

    Balanced class weights: each need has ~22 positives against ~300 negatives.
    """
    from sklearn.linear_model import LogisticRegression

    models = []
    for need_id in need_ids:
        y = np.array([need_id in lab for lab in labels], dtype=int)
        models.append(LogisticRegression(C=3.0, max_iter=3000, class_weight="balanced")
                      .fit(vectors, y))
    return head_from_sklearn(models, tuple(need_ids), "sigmoid")


EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
EXAMPLE_LANGUAGES: tuple[str, ...] = ("en", "fr", "nl", "ja", "es", "pt", "it", "ko")
"""Languages the default needs have example sentences in: English in the taxonomy, others in
``examples/needs_<lang>.csv`` (columns ``need``, ``text``, ``polarity``; an empty ``need`` is a
sentence that names no need)."""
POLARITIES: tuple[str, ...] = ("negative", "neutral", "positive", "request", "mixed")
"""What an example sentence says of the product, as written for it: a complaint, neither, praise,
a wish for a change, or both praise and complaint."""
ENGLISH_POLARITY = EXAMPLES_DIR / "needs_en_polarity.csv"
"""Polarity of the English example sentences, descriptions and generic sentences (columns
``text``, ``polarity``): they live in the taxonomy, which has no place for it."""


def example_polarity(languages: Sequence[str] = ("en",)) -> dict[str, str]:
    """The polarity written for each default example sentence in ``languages`` (one of
    :data:`POLARITIES`), by text.

    Raises:
        ValueError: a polarity not in :data:`POLARITIES`, or one text given two, naming the
            file and the text.
    """
    out: dict[str, str] = {}
    for lang in languages:
        path = ENGLISH_POLARITY if lang == "en" else EXAMPLES_DIR / f"needs_{lang}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                text, polarity = row["text"], (row.get("polarity") or "").strip()
                if polarity not in POLARITIES:
                    raise ValueError(f"{path.name}: {text!r} has polarity {polarity!r} "
                                     f"(expected one of {', '.join(POLARITIES)})")
                if out.setdefault(text, polarity) != polarity:
                    raise ValueError(f"{path.name}: {text!r} is {polarity!r} here and "
                                     f"{out[text]!r} where it came first")
    return out


def needs_training_set(needs: Sequence[Need], languages: Sequence[str] = ("en",)
                       ) -> tuple[list[str], list[set[str]]]:
    """Example sentences of every need plus generic sentences (negatives for all).

    Args:
        needs: the taxonomy in use; its own examples and descriptions (English for the
            defaults, whatever the user wrote for custom needs) always count.
        languages: also read the default needs' examples written in these languages (for a
            multilingual encoder). Examples of needs not in ``needs`` are left out; generic
            sentences are kept.

    Raises:
        ValueError: a language without an examples file, naming the languages there are.
    """
    texts, labels = training_sentences(needs)
    ids = {n.id for n in needs}
    for lang in languages:
        if lang == "en":
            continue
        path = EXAMPLES_DIR / f"needs_{lang}.csv"
        if lang not in EXAMPLE_LANGUAGES or not path.is_file():
            raise ValueError(f"no need example sentences in {lang!r} (there are: "
                             f"{', '.join(EXAMPLE_LANGUAGES)})")
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                need = (row["need"] or "").strip()
                if need and need not in ids:
                    continue  # a disabled default need
                texts.append(row["text"])
                labels.append({need} if need else set())
    return texts, labels
