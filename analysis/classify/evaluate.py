"""Measure a classifier against labelled reviews (``reviewgap evaluate``).

Stage: classify (quality). In: a labelled CSV (``text`` + any of ``sentiment``/``rating``,
``problem_report``, ``feature_request``, ``praise``, ``question``, ``needs``). Out: precision,
recall, F1, support and a confusion matrix per label, sentiment accuracy; written as
``<workspace>/evaluation/latest.json``, which the report's methodology appendix reads.

``needs`` holds need ids separated by ``;``, each optionally with the polarity of that mention
(``pricing:negative;support:positive``). With polarities, the evaluation also says how many
praised and how many criticised mentions were found, and how often the sentiment of the sentence
carrying a found mention matches (aspect sentiment): the two things the report's negative shares
rest on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.classify.heads import INPUT_TYPES

if TYPE_CHECKING:
    from analysis.classify.pipeline import ReviewClassifier

LABEL_COLUMNS = (*INPUT_TYPES, "sentiment", "rating", "needs")
POLARITIES = ("negative", "neutral", "positive")
NEEDS_MICRO = "need:all (micro)"
"""Label key of the needs pooled over every (review, need) pair."""


class LabelledFileError(ValueError):
    """A labelled CSV cannot be used; the message names the file and the column."""


def binary_metrics(y: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Precision, recall, F1, support and ``[[tn, fp], [fn, tp]]`` for one yes/no label."""
    y, pred = np.asarray(y, dtype=bool), np.asarray(pred, dtype=bool)
    tp, fp = int((y & pred).sum()), int((~y & pred).sum())
    fn, tn = int((y & ~pred).sum()), int((~y & ~pred).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "support": tp + fn, "confusion": [[tn, fp], [fn, tp]]}


def _flag(value: Any, path: Path, column: str, row: int) -> int:
    text = str(value).strip().lower()
    if text in ("1", "1.0", "true", "yes", "y"):
        return 1
    if text in ("0", "0.0", "false", "no", "n", ""):
        return 0
    raise LabelledFileError(f"{path}: column {column!r}, row {row}: expected 0/1, got {value!r}")


def read_labelled(path: Path) -> pd.DataFrame:
    """Read and check a labelled CSV; returns text plus the label columns present (parsed).

    Raises:
        LabelledFileError: missing ``text`` column, no label column, or a bad value (names the
            file, column and row).
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LabelledFileError(f"{path}: cannot read as CSV ({exc})") from None
    if "text" not in frame.columns:
        raise LabelledFileError(f"{path}: no 'text' column (columns: {list(frame.columns)})")
    present = [c for c in LABEL_COLUMNS if c in frame.columns]
    if not present:
        raise LabelledFileError(
            f"{path}: no label column; expected any of {', '.join(LABEL_COLUMNS)}")
    out = pd.DataFrame({"text": frame["text"]})
    for col in present:
        if col in INPUT_TYPES:
            out[col] = [_flag(v, path, col, i + 2) for i, v in enumerate(frame[col])]
        elif col == "rating":
            vals = pd.to_numeric(frame[col].replace("", np.nan), errors="coerce")
            bad = frame[col][vals.isna() & (frame[col] != "")]
            if len(bad) or ((vals < 1) | (vals > 5)).any():
                row = int(bad.index[0] if len(bad) else vals[(vals < 1) | (vals > 5)].index[0])
                raise LabelledFileError(
                    f"{path}: column 'rating', row {row + 2}: expected 1-5")
            out[col] = vals
        elif col == "sentiment":
            vals = frame[col].str.strip().str.lower()
            bad = vals[~vals.isin(["negative", "neutral", "positive", ""])]
            if len(bad):
                raise LabelledFileError(
                    f"{path}: column 'sentiment', row {int(bad.index[0]) + 2}: expected "
                    f"negative/neutral/positive, got {bad.iloc[0]!r}")
            out[col] = vals.replace("", np.nan)
        else:  # needs: semicolon-separated ids, each optionally "id:polarity"
            parsed = [needs_cell(v, path, i + 2) for i, v in enumerate(frame[col])]
            out[col] = [set(p) for p in parsed]
            out["need_polarity"] = [{k: v for k, v in p.items() if v} for p in parsed]
    return out


def needs_cell(value: str, path: Path, row: int) -> dict[str, str | None]:
    """``"pricing:negative;support"`` -> ``{"pricing": "negative", "support": None}``."""
    out: dict[str, str | None] = {}
    for item in str(value).split(";"):
        need, _, polarity = (x.strip() for x in item.partition(":"))
        if not need:
            continue
        polarity = polarity.lower()
        if polarity and polarity not in POLARITIES:
            raise LabelledFileError(
                f"{path}: column 'needs', row {row}: polarity of {need!r} must be one of "
                f"{'/'.join(POLARITIES)}, got {polarity!r}")
        out[need] = polarity or None
    return out


def check_need_ids(frame: pd.DataFrame, known: Sequence[str], input_name: str) -> None:
    """Raise :class:`LabelledFileError` for need ids the classifier's taxonomy lacks (a typo
    would otherwise count as a need that is never found, or be skipped silently)."""
    if "needs" not in frame:
        return
    for i, needs in enumerate(frame["needs"]):
        unknown = sorted(set(needs) - set(known))
        if unknown:
            raise LabelledFileError(
                f"{input_name}: column 'needs', row {i + 2}: unknown need id(s) "
                f"{', '.join(unknown)} (this taxonomy has: {', '.join(known)})")


def _mention_sentiment(review: Any, need: str) -> str | None:
    """Sentiment of the mention of ``need`` in the sentence that carries it most strongly (its
    clause's, see :class:`~analysis.classify.pipeline.SentenceLabels`), else the review's."""
    carrying = [s for s in review.sentences if need in s.needs]
    if carrying:
        return max(carrying, key=lambda s: s.needs[need]).mention_sentiment(need)[0]
    return review.sentiment


def needs_figures(frame: pd.DataFrame, results: Sequence[Any], ids: Sequence[str],
                  ok: np.ndarray) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Per-need and pooled P/R/F1, plus, where polarities are labelled, recall by polarity and
    aspect sentiment accuracy.

    Returns:
        (labels, confusion, mentions) where ``mentions`` is ``{"recall_by_polarity":
        {polarity: {"found", "n", "recall"}}, "aspect_sentiment_accuracy", "aspect_n"}`` (empty
        without polarities).
    """
    labels: dict[str, Any] = {}
    confusion: dict[str, Any] = {}
    gold = [g for g, k in zip(frame["needs"], ok, strict=True) if k]
    got = [set(r.needs) for r, k in zip(results, ok, strict=True) if k]
    for need in ids:
        y = np.array([need in g for g in gold], dtype=bool)
        pred = np.array([need in p for p in got], dtype=bool)
        if y.any() or pred.any():
            m = binary_metrics(y, pred)
            confusion[f"need:{need}"] = m.pop("confusion")
            labels[f"need:{need}"] = m
    if gold:
        y_all = np.array([n in g for g in gold for n in ids], dtype=bool)
        p_all = np.array([n in p for p in got for n in ids], dtype=bool)
        m = binary_metrics(y_all, p_all)
        confusion[NEEDS_MICRO] = m.pop("confusion")
        labels[NEEDS_MICRO] = m
    mentions: dict[str, Any] = {}
    if "need_polarity" in frame and any(frame["need_polarity"]):
        by_pol = {p: {"found": 0, "n": 0} for p in POLARITIES}
        right = total = 0
        for pols, r, k in zip(frame["need_polarity"], results, ok, strict=True):
            if not k:
                continue
            for need, pol in pols.items():
                found = need in r.needs
                by_pol[pol]["n"] += 1
                by_pol[pol]["found"] += int(found)
                if found and pol != "neutral":
                    total += 1
                    right += int(_mention_sentiment(r, need) == pol)
        mentions = {
            "recall_by_polarity": {p: {**v, "recall": round(v["found"] / v["n"], 4)}
                                   for p, v in by_pol.items() if v["n"]},
            "aspect_sentiment_accuracy": round(right / total, 4) if total else None,
            "aspect_n": total,
            "aspect_definition": "labelled positive/negative mentions that were found: the "
                                 "sentence carrying the need most strongly has that sentiment",
        }
    return labels, confusion, mentions


def evaluate(clf: ReviewClassifier, frame: pd.DataFrame, *, input_name: str = "") -> dict[str, Any]:
    """Classify ``frame.text`` and compare with its labels (only rows classified ``ok`` count).

    Raises:
        LabelledFileError: the ``needs`` column names an id the classifier's taxonomy lacks.

    A ``rating`` column is given to the classifier too (as a crawl would): heads that read
    stars use it for the input types; sentiment is always read from the text alone. So are
    ``title`` and ``language`` (the language the source stated) when the frame has them."""
    check_need_ids(frame, clf.taxonomy.ids, input_name)
    ratings = frame["rating"].tolist() if "rating" in frame else None
    results = clf.classify(frame["text"].tolist(), ratings, titles=_strings(frame, "title"),
                           stated_languages=_strings(frame, "language"))
    ok = np.array([r.status == "ok" for r in results])
    labels: dict[str, Any] = {}
    confusion: dict[str, Any] = {}
    for col in INPUT_TYPES:
        if col in frame:
            pred = np.array([bool(getattr(r, col)) for r in results])
            m = binary_metrics(frame[col].to_numpy()[ok], pred[ok])
            confusion[col] = m.pop("confusion")
            labels[col] = m
    mentions: dict[str, Any] = {}
    if "needs" in frame:
        need_labels, need_confusion, mentions = needs_figures(frame, results, clf.taxonomy.ids,
                                                              ok)
        labels.update(need_labels)
        confusion.update(need_confusion)
    truth = None
    if "sentiment" in frame:
        truth = frame["sentiment"].to_numpy(dtype=object)
    elif ratings is not None:
        r = np.array(ratings, dtype=float)
        truth = np.where(r <= 2, "negative", np.where(r >= 4, "positive", None))
    sentiment_accuracy = None
    if truth is not None:
        pol = np.array([t in ("negative", "positive") for t in truth]) & ok
        if pol.any():
            pred = np.array(["positive" if (r.sentiment_score or 0) > 0 else "negative"
                             for r in results])
            sentiment_accuracy = round(float(np.mean(pred[pol] == truth[pol])), 4)
    return {
        "model_version": clf.model_version,
        "input": input_name,
        "n": len(frame),
        "n_classified": int(ok.sum()),
        "ratings_given": ratings is not None,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels": labels,
        "confusion": confusion,
        "sentiment_accuracy": sentiment_accuracy,
        "sentiment_accuracy_definition": "sign of sentiment_score vs label "
        "(or stars <=2 negative, >=4 positive), neutral rows left out",
        **({"need_mentions": mentions} if mentions else {}),
    }


def _strings(frame: pd.DataFrame, column: str) -> list[str | None] | None:
    """``frame[column]`` with blanks (NaN, None, "") as None, or None without that column."""
    if column not in frame:
        return None
    return [v if isinstance(v, str) and v else None for v in frame[column]]


def write_evaluation(result: dict[str, Any], folder: Path) -> Path:
    """Write ``latest.json`` (and a timestamped copy) into the workspace's evaluation folder."""
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, sort_keys=True) + "\n"
    stamp = result["created_at"].replace(":", "").replace("-", "")
    (folder / f"evaluation-{stamp}.json").write_text(text, "utf-8")
    latest = folder / "latest.json"
    latest.write_text(text, "utf-8")
    return latest
