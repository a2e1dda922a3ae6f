"""Language detection (lingua, offline; its models ship in the wheel).

Stage: classify (routing). In: review texts (+ the language the source stated, if any). Out: an
ISO 639-1 code per text, or ``"und"`` when the text is too short or ambiguous to tell.

The detector is restricted to a set of common review languages: lingua is faster and more
accurate on short texts when it only weighs plausible candidates. Reviews in a language the
encoder does not handle get status ``skipped_language`` (counted, never silently misclassified);
``"und"`` texts ("ok", "👍", "Sync fails") are classified, since they carry too few words for
detection to be trusted either way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

DETECTED_LANGUAGES: tuple[str, ...] = (
    "en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "tr", "ru", "uk",
    "ar", "ja", "zh", "ko", "id", "vi", "hi",
)
"""Candidates for detection: the languages app-store and review-site reviews mostly come in."""
UNDETERMINED = "und"
MIN_WORDS = 3
"""Fewer words than this: too little evidence, the text gets ``und`` (or the stated language)."""
MIN_CONFIDENCE = 0.5
"""Top confidence that settles it; lower (>= 0.25) also does when it is twice the runner-up's
(lingua spreads confidence over related languages on short texts: EN 0.30, NL 0.11, SV 0.11)."""

_WORD = re.compile(r"[^\W\d_]{2,}")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@lru_cache(maxsize=1)
def _detector() -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [IsoCode639_1.from_str(c) for c in DETECTED_LANGUAGES]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def _enough_text(text: str) -> bool:
    # CJK scripts have no spaces between words: a few characters already say a lot.
    return len(_WORD.findall(text)) >= MIN_WORDS or len(_CJK.findall(text)) >= 4


def _confident(top: list[float]) -> bool:
    second = top[1] if len(top) > 1 else 0.0
    return top[0] >= MIN_CONFIDENCE or (top[0] >= 0.25 and top[0] >= 2 * second)


def detect_languages(texts: Sequence[str], stated: Sequence[str | None] | None = None) -> list[str]:
    """Detect the language of each text.

    Args:
        texts: review texts.
        stated: the language each source stated (may be None); used when the text alone is
            too short or ambiguous.

    Returns:
        ISO 639-1 codes (lower case) or ``"und"``, one per text.
    """
    stated = list(stated) if stated is not None else [None] * len(texts)
    out = [UNDETERMINED] * len(texts)
    todo = [i for i, t in enumerate(texts) if _enough_text(t)]
    if todo:
        detector = _detector()
        results = detector.compute_language_confidence_values_in_parallel([texts[i] for i in todo])
        for i, values in zip(todo, results, strict=True):
            if values and _confident([v.value for v in values[:2]]):
                out[i] = values[0].language.iso_code_639_1.name.lower()
    for i, code in enumerate(out):
        if code == UNDETERMINED and stated[i]:
            out[i] = str(stated[i]).lower()[:2]
    return out
