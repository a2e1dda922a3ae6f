"""Classification stage: sentiment, input type and needs for each review and sentence.

Stage: classify. In: review texts from the store (or a CSV). Out: ``classifications``,
``mentions`` and ``themes`` rows keyed by the classifier's ``model_version``.

Importing this package is cheap: torch/transformers load only when a classifier is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.classify.pipeline import ReviewClassifier, ReviewLabels, build_classifier

__all__ = ["ReviewClassifier", "ReviewLabels", "build_classifier", "classify_pending"]


def __getattr__(name: str) -> Any:
    # Lazy: `reviewgap check` and the config validation import taxonomy only.
    if name in __all__:
        from analysis.classify import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
