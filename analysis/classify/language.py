"""Language detection (lingua, offline; its models ship in the wheel).

Stage: classify (routing). In: review texts (+ the language the source stated, if any). Out: an
ISO 639-1 code per text, or ``"und"`` when the text is too short or ambiguous to tell.

The detector is restricted to a set of common review languages: lingua is faster and more
accurate on short texts when it only weighs plausible candidates. Reviews in a language the
encoder does not handle get status ``skipped_language`` (counted, never silently misclassified);
``"und"`` texts ("ok", "👍", "Sync fails") are classified, since they carry too few words for
detection to be trusted either way.

Plain English skips lingua (:func:`plain_english`): a text whose letters are all ASCII and whose
words are at least 30 % English function words, two of them words no other candidate language
spells that way ("the", "doesn't"; not "is", "of", "we": Dutch), is English. lingua costs about
150 us a text on two cores, 0.3 s of the classify stage's 3.9 s on 2,000 reviews; this check
takes three quarters of them (75 % of minibar-en's English reviews) in 0.02 s. Measured against
lingua on 6,000 minibar-en and 6,000 minibar-fr reviews, the 444 real reviews of the fixtures
(English, Dutch, German, Japanese) and the project's written sets in ten languages: it never names
English a text lingua names another language; where they differ (1 % of its verdicts) lingua
had too little confidence to name any ("The app eats up all my mobile data.": ``und``).
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

_ONLY_WORDS = """
the and this that with you your it it's its not but have has very would could should they them
there their what when which just can't don't doesn't didn't won't isn't i'm i've are be been from
because only some any get after now does did every how why where can really much than then were
our she him his these those who doing done about into again once here both each few other such
own same too cannot couldn't wouldn't shouldn't haven't hasn't hadn't wasn't weren't aren't
you're they're we're being
"""
ENGLISH_ONLY = frozenset(_ONLY_WORDS.split())
"""English function words that no other Latin-script candidate language spells the same way."""
_SHARED_WORDS = """
a i in is to for on of my at no me an was will also all or as if up out by go so do he her over
like am more most we had
"""
ENGLISH_SHARED = frozenset(_SHARED_WORDS.split())
"""English function words that other candidates use too ("is", "we", "had": Dutch; "so", "will",
"was": German; "do": Portuguese, Polish; "her": Danish, Norwegian): they count towards the share
only."""
PLAIN_ENGLISH_SHARE = 0.3
PLAIN_ENGLISH_MIN_ONLY = 2
_ASCII_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
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


def plain_english(text: str) -> bool:
    """True when ``text`` is plainly English: no letter outside ASCII, at least three words,
    :data:`PLAIN_ENGLISH_MIN_ONLY` of them in :data:`ENGLISH_ONLY` and
    :data:`PLAIN_ENGLISH_SHARE` of them English function words. False says nothing: lingua
    decides."""
    if not text.isascii() and any(c.isalpha() and not c.isascii() for c in text):
        return False
    words = _ASCII_WORD.findall(text.lower().replace("\u2019", "'"))
    only = sum(w in ENGLISH_ONLY for w in words)
    if len(words) < MIN_WORDS or only < PLAIN_ENGLISH_MIN_ONLY:
        return False
    return only + sum(w in ENGLISH_SHARED for w in words) >= PLAIN_ENGLISH_SHARE * len(words)


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
    todo = []
    for i, text in enumerate(texts):
        if plain_english(text):
            out[i] = "en"
        elif _enough_text(text):
            todo.append(i)
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
