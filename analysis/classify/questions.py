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

The pipeline marks a review (or sentence) a question when the head says so or the rule for its
language does (:data:`QUESTION_RULES`): the English one for English and undetermined text, and
:func:`asks_question_zh` / :func:`asks_question_ja` for Chinese and Japanese. The shipped heads
keep the older training rule, so ``python -m analysis.classify.fit_defaults`` still reproduces
them.

Chinese and Japanese: the multilingual heads learned questions from English reviews only and
found none of the 20 questions in ``tests/data/written_questions_zh_ja.csv`` (40 reviews written
for the tests, which shaped these rules). A Chinese question ends in a question mark or in the
particles 吗 / 呢, or is asked with 请问 / 想问 / 想知道 / 问一下; 难道 and 这也叫 open
rhetorical complaints. A polite Japanese question ends in か (ですか, ますか, でしょうか), with
or without a mark, or puts a question word before the mark, or asks with 教えてください /
知りたい; a bare "…？" without か or a question word ("これで有料？", "できないの？") is
mostly rhetorical in reviews and does not count. On 40 more reviews written before the rules ran
on them (``written_questions_zh_ja_holdout.csv``): F1 0.976 (precision 0.95, recall 1.0; the
miss is the rhetorical "这么简单的功能都做不好？"); the head alone 0.0.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from analysis.classify.language import UNDETERMINED

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
    text = text or ""
    # _ASKED needs a "?": checking for one first skips its search (tried at every position)
    # on the many texts without.
    return bool(("?" in text and _ASKED.search(text)) or _INDIRECT.search(text))


# A sentence ends after 。！？ (full or half width); each is read on its own.
_CJK_SENTENCE_END = re.compile(r"(?<=[。！!？?])")
_ZH_ASKED = re.compile(r"[？?]|[吗嗎呢][？?。.！!]*$|请问|請問|想问|想問|想知道|问一下|問一下")
_ZH_RHETORICAL = re.compile(r"难道|難道|这也叫|這也叫")
_JA_QUESTION_WORDS = "どこ|いつ|何|なに|なん|どう|なぜ|どうして|誰|だれ|どれ|いくら"
_JA_ASKED = re.compile(rf"か[？?。]*$|({_JA_QUESTION_WORDS})[^。！!]*[？?]|"
                       r"教えて(ください|下さい|くださ)|知りたい")


def _cjk_sentences(text: str) -> list[str]:
    return [s.strip() for s in _CJK_SENTENCE_END.split(text or "") if s.strip()]


def asks_question_zh(text: str) -> bool:
    """True when a sentence of ``text`` (Chinese) asks a question (see the module docstring)."""
    return any(_ZH_ASKED.search(s) and not _ZH_RHETORICAL.search(s) for s in _cjk_sentences(text))


def asks_question_ja(text: str) -> bool:
    """True when a sentence of ``text`` (Japanese) asks a question (see the module docstring)."""
    return any(_JA_ASKED.search(s) for s in _cjk_sentences(text))


QUESTION_RULES: dict[str, Callable[[str], bool]] = {
    "en": asks_question, UNDETERMINED: asks_question,
    "zh": asks_question_zh, "ja": asks_question_ja}
"""Language code -> the rule the pipeline reads its reviews and sentences with (undetermined
text is read as English). Languages without one get the head's answer only."""
