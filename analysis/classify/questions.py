"""Plain questions, found by their wording (English).

Stage: classify (input types). In: a review or one of its sentences. Out: whether it plainly
asks something.

Why a rule next to the learned ``question`` head: that head learned from a weaker rule
(:func:`analysis.classify.training.weak_question`: a question word opening the text or a
sentence, up to a "?"), which gave it only 205 positives in 6,000 minibar reviews, and it
misses questions asked after a first clause ("Nice app, but where can I find my receipts?",
"Hello team, can you ...?"). Measured on 40 reviews written for the test before this rule was run
on them (``tests/data/written_questions_holdout.csv``, 20 questions): the head alone F1 0.71
(precision 1.0, recall 0.55); the head or this rule 0.97 (precision 1.0, recall 0.95). The rule
was shaped on another 60 written reviews (``tests/data/written_questions.csv``).

On real reviews it cannot tell a question asked for an answer from a rhetorical one: on the 6,000
minibar reviews it marks 53 that the training rule did not; reading the first version's 61 such
matches, about 22 asked for information, 22 were rhetorical complaints ("why would you remove
that??"), 5 were requests phrased as questions, and the rest mixed or statements (the latter led
to leaving out negative contractions and a bare "tell me how"). The head, trained on the older
rule, has the same blind spot.

The pipeline marks a review (or sentence) a question when the head says so or this rule does,
for English and undetermined text only (the word lists are English). The shipped heads keep the
older training rule, so ``python -m analysis.classify.fit_defaults`` still reproduces them.
"""

from __future__ import annotations

import re

_OPENERS = ("how|what|why|where|when|which|who|is|are|can|could|does|do|did|will|would|should|"
            "anyone|any|has|have")
_ASKED = re.compile(
    # A question word opening the text, a sentence, a clause (after , ; :) or following a
    # conjunction or "please", then no sentence end before the "?".
    # A negative contraction ("Can't Garmin fix that?") opens complaints far more often than
    # questions, so "can't", "doesn't", ... do not count as openers.
    rf"(^|[.!?,;:]\s*|\b(?:but|and|so|please|quick question)\s+)({_OPENERS})\b(?!['’])"
    r"[^.!?]*\?",
    re.IGNORECASE)
_INDIRECT = re.compile(
    # Asked without a question mark: "I'd like to know whether ...", "wondering how ...",
    # "please tell me how ..." (not "it tells me how many", a statement).
    r"\b(wondering|want to know|like to know|(?:please|pls|plz|plx|you|and)\s+tell me)\s+"
    r"(how|if|whether|why|what|where|when)\b", re.IGNORECASE)


def asks_question(text: str) -> bool:
    """True when ``text`` plainly asks a question (see the module docstring)."""
    return bool(_ASKED.search(text or "") or _INDIRECT.search(text or ""))
