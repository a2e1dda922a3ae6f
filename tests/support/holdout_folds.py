"""Re-measuring shipped leave-one-app-out fold models on minibar-en.

``fit_defaults`` keeps each fold's adapter and heads (fitted without that app) in
``<heads>/holdout/<app>``, with the figures it measured at fitting. The default heads
(``tests/test_classify_quality.py``) and the multilingual ones
(``tests/test_classify_multilingual.py``) are re-measured the same way, through the inference
code path: the encoder with the fold's adapter, one pass per review, heads on
``[review, sentmax]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

APPS = ["Garmin Connect", "Huawei Health", "Samsung Health"]


def figure(result: dict[str, Any], key: str) -> float:
    """``sentiment_accuracy``, or the F1 of an input type, from holdout figures."""
    return result[key] if key == "sentiment_accuracy" else result[key]["f1"]


def remeasure_folds(heads_dir: Path, ref: Any, frame: pd.DataFrame
                    ) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Each app of ``frame`` (``load_training_frame``) through its fold model in
    ``heads_dir/holdout`` on the encoder ``ref``: app -> (measured figures, figures recorded at
    fitting)."""
    from analysis.classify.encoder import TransformerEncoder
    from analysis.classify.fit_defaults import EmbeddingCache, embed_frame, holdout_figures, slug
    from analysis.classify.heads import HeadSet

    out = {}
    for app in APPS:
        fold = HeadSet.load(heads_dir / "holdout" / slug(app))
        assert fold.manifest["held_out"] == app
        rows = frame[frame["group"] == app].reset_index(drop=True)
        encoder = TransformerEncoder(ref, adapter=fold.adapter)
        x = embed_frame(rows, encoder, EmbeddingCache(None), f"fold-{ref.id}-{app}")
        out[app] = (holdout_figures(fold.heads, x, rows), fold.manifest["holdout"][app])
    return out
