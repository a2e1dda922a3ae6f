"""Language offsets: move another language's vectors to where English ones lie.

Stage: classify (features, multilingual encoders). In: an encoder and sentence pairs written for
this project (``examples/parallel_en_<lang>.csv``: the same sentence in English and in the other
language). Out: per language, the mean difference of the pairs' vectors; and vectors with that
difference taken off.

Why: the multilingual heads' sentiment and input-type rows learned from English reviews only. A
multilingual encoder puts a sentence and its translation close together but not on top of each
other: the whole language sits a little apart (known as the language component of multilingual
embeddings; removing each language's mean is the usual cure). The heads then score French
reviews lower than the English reviews they learned from: on a French dev set written for the
tests, problem reports were found 14 of 26 times without the offset, 17 of 26 with it. The
needs head is not corrected: it learned from French example sentences of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.classify.training import EXAMPLES_DIR


def parallel_pairs(language: str) -> tuple[list[str], list[str]]:
    """(English sentences, the same sentences in ``language``) from ``parallel_en_<lang>.csv``.

    Raises:
        ValueError: no pairs file for ``language`` (names the languages there are).
    """
    path = EXAMPLES_DIR / f"parallel_en_{language}.csv"
    if not path.is_file():
        have = sorted(p.stem.removeprefix("parallel_en_")
                      for p in EXAMPLES_DIR.glob("parallel_en_*.csv"))
        raise ValueError(f"no parallel sentences for language {language!r} "
                         f"(there are: {', '.join(have) or 'none'})")
    frame = pd.read_csv(path)
    return frame["en"].tolist(), frame[language].tolist()


def fit_offsets(encoder: Any, languages: Sequence[str]) -> dict[str, np.ndarray]:
    """Per language, mean(vector of the sentence in that language - vector of its English
    original), from :func:`parallel_pairs`, with ``encoder.encode_sentences``."""
    out = {}
    for lang in languages:
        english, other = parallel_pairs(lang)
        diff = encoder.encode_sentences(other) - encoder.encode_sentences(english)
        out[lang] = diff.mean(axis=0).astype(np.float32)
    return out


def take_off(vectors: np.ndarray, languages: Sequence[str | None],
             offsets: dict[str, np.ndarray] | None) -> np.ndarray:
    """``vectors`` with each row's language offset subtracted and the row made unit length
    again; rows of languages without an offset (all, when ``offsets`` is None) are returned as
    they are (same floats)."""
    out = vectors.copy()
    for lang, offset in (offsets or {}).items():
        rows = np.flatnonzero([x == lang for x in languages])
        if rows.size:
            moved = vectors[rows] - offset
            out[rows] = moved / np.linalg.norm(moved, axis=1, keepdims=True)
    return out
