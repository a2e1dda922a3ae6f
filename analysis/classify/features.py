"""Feature vectors for the heads, built from review and sentence embeddings.

Stage: classify (features). In: one embedding per review and one per sentence. Out: matrices.

``review+sentmax`` = the whole review's embedding next to the element-wise maximum over its
sentences' embeddings. The maximum keeps a strong single sentence ("it crashes on start")
visible in a long, mostly positive review, where the review embedding averages it away; on
minibar this lifted problem-report F1 by a few points over the review embedding alone (see
default_heads/manifest.json). A sentence on its own is scored as a one-sentence review
(``[s, s]``), so the same heads give aspect-level labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

FEATURES = "review+sentmax"
N_STAR_COLUMNS = 6
"""One-hot stars 1-5 plus a column for "no rating"."""


def review_features(review_vecs: np.ndarray, sentence_vecs: np.ndarray,
                    offsets: Sequence[int]) -> np.ndarray:
    """Stack ``[review, max over its sentences]`` per review.

    Args:
        review_vecs: (n, d) review embeddings.
        sentence_vecs: (m, d) sentence embeddings of all reviews, review after review.
        offsets: n + 1 offsets; review i owns ``sentence_vecs[offsets[i]:offsets[i + 1]]``. A
            review without sentences uses its own embedding.
    """
    n, d = review_vecs.shape
    out = np.empty((n, 2 * d), dtype=np.float32)
    out[:, :d] = review_vecs
    for i in range(n):
        a, b = offsets[i], offsets[i + 1]
        out[i, d:] = sentence_vecs[a:b].max(axis=0) if b > a else review_vecs[i]
    return out


def encode_features(encoder: Any, texts: Sequence[str],
                    sentences: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """``[review, sentmax]`` features of reviews and their sentence vectors, from one encoder
    pass per review (:meth:`~analysis.classify.encoder.BaseEncoder.encode_reviews`): what the
    pipeline and the training scripts both feed the heads."""
    features, sent, _ = encode_features_and_alone(encoder, texts, sentences, ())
    return features, sent


def encode_features_and_alone(encoder: Any, texts: Sequence[str],
                              sentences: Sequence[Sequence[str]], alone: Sequence[str]
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`encode_features`, plus the vectors of ``alone``: texts embedded on their own, as
    :meth:`~analysis.classify.encoder.BaseEncoder.encode_sentences` does, in the same batches
    as the reviews (the pipeline's clauses: one batch plan for both pads less and meets fewer
    batch shapes than two).

    Returns:
        (features, sentence vectors, vectors of ``alone``), rows in input order.
    """
    offsets = np.cumsum([0, *(len(s) for s in sentences)])
    n_sent = int(offsets[-1])
    rev, sent = encoder.encode_reviews([*texts, *alone], [*sentences, *([a] for a in alone)])
    return (review_features(rev[: len(texts)], sent[:n_sent], offsets), sent[:n_sent],
            sent[n_sent:])


def sentence_features(sentence_vecs: np.ndarray) -> np.ndarray:
    """A sentence as a one-sentence review: ``[s, s]``."""
    return np.hstack([sentence_vecs, sentence_vecs]).astype(np.float32)


def star_columns(stars: Sequence[float | None] | np.ndarray) -> np.ndarray:
    """One-hot star ratings: columns 1-5 stars, then "no rating" (None/NaN/out of range).

    Used in fine-tuning only, as an auxiliary input of the input-type heads
    (:func:`analysis.classify.finetune.finetune`); the heads that ship read text only.
    """
    out = np.zeros((len(stars), N_STAR_COLUMNS), dtype=np.float32)
    for i, s in enumerate(stars):
        v = float(s) if s is not None else float("nan")
        k = round(v) if v == v else 0  # v != v: NaN
        out[i, k - 1 if 1 <= k <= 5 else N_STAR_COLUMNS - 1] = 1.0
    return out
