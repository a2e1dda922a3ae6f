"""Needs figures on the written review sets in ``tests/data/written_needs*.csv``.

Each set holds short reviews written for the tests, labelled with the needs they mention and
each mention's polarity. Used by the English (default heads) and multilingual needs tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def written_needs_figures(classifier: Any, name: str) -> dict[str, Any]:
    """Classify the set ``name`` once and compute the figures ``reviewgap evaluate`` computes.

    Checks on the way that the texts are unique, all labelled ``ok`` and none is an example
    sentence the needs head learned from (in any language the heads learned from).

    Returns:
        ``micro_f1``, ``positive_recall``, ``negative_recall``, ``aspect_sentiment``, plus
        ``n_positive``/``n_negative`` (labelled mentions), ``n_no_need`` (reviews naming no
        need), ``no_need_given_one`` (of those, how many got a need) and ``languages``.
    """
    from analysis.classify.evaluate import NEEDS_MICRO, needs_figures, read_labelled
    from analysis.classify.training import needs_training_set

    frame = read_labelled(DATA_DIR / name)
    assert frame["text"].is_unique
    examples = needs_training_set(classifier.taxonomy.needs, classifier.heads.example_languages)
    assert not set(frame["text"]) & set(examples[0])
    results = classifier.classify(frame["text"].tolist())
    ok = np.array([r.status == "ok" for r in results])
    assert ok.all(), [r.status for r in results]
    labels, _, mentions = needs_figures(frame, results, classifier.taxonomy.ids, ok)
    by_pol = mentions["recall_by_polarity"]
    none = [r for r, needs in zip(results, frame["needs"], strict=True) if not needs]
    return {"micro_f1": labels[NEEDS_MICRO]["f1"],
            "positive_recall": by_pol["positive"]["recall"],
            "negative_recall": by_pol["negative"]["recall"],
            "aspect_sentiment": mentions["aspect_sentiment_accuracy"],
            "n_positive": by_pol["positive"]["n"], "n_negative": by_pol["negative"]["n"],
            "n_no_need": len(none), "no_need_given_one": sum(bool(r.needs) for r in none),
            "languages": sorted({r.language for r in results})}
