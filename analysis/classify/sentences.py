"""Split review text into sentences (regex, no model).

Stage: classify (pre-processing). In: one review's title and text. Out: a list of sentences.

Reviews are informal: missing punctuation, emoji used as full stops, line breaks, "!!!" runs,
abbreviations. The splitter cuts at sentence punctuation or an emoji followed by space, at line
breaks, and cuts over-long run-ons at conjunctions; fragments with no letters are glued to the
previous sentence.
"""

from __future__ import annotations

import re
from itertools import pairwise

# Emoji and pictographs (the main blocks; enough to treat them as sentence ends).
_EMOJI = "\U0001f300-\U0001faff\u2600-\u27bf\U0001f000-\U0001f2ff\ufe0f\u200d"
# Chinese and Japanese put no space after a sentence's end (。！？): cut right after it, unless
# more end punctuation follows ("！！" stays one end) or a closing bracket does ("「最高！」と
# 思った" is one sentence quoting another).
_CJK_END = "。！？"
_CJK_CLOSE = "」』）"
SPLIT_VERSION = "split2"
"""Part of ``model_version``: labels of Chinese and Japanese text made when its sentences were not
cut at 。！？ without a following space (``split1``, not named) are labelled again."""
_END = re.compile(
    rf"(?<=[.!?…{_CJK_END}])[\"')\]]*\s+"
    rf"|(?<=[{_CJK_END}])(?=[^\s{_CJK_END}{_CJK_CLOSE}!?…])"
    rf"|(?<=[{_EMOJI}])\s+(?=\S)|\s*\n+\s*"
)
# A period after these does not end a sentence ("e.g. the", "vs. Garmin").
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|vs|etc|mr|mrs|dr|approx|no|min|max)\.)$", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_RUN_ON = re.compile(r",\s+|\s+(?=(?:but|however|although|though|and then)\b)", re.IGNORECASE)
MAX_WORDS = 60
"""Longer unpunctuated stretches are cut at commas/conjunctions (one aspect per piece)."""
# Words where a sentence turns, per language (``;`` in every language). Other languages are
# read whole; undetermined text (short, mixed) is read with the English words.
_CONTRAST_WORDS = {
    # "nothing but canned replies", "all but useless": "but" means "only" / "almost" there.
    "en": "(?<!nothing )(?<!anything )(?<!all )but|though|although|however|whereas|except",
    "fr": "mais|cependant|pourtant|toutefois|néanmoins|bien que|quoique|même si|alors que|"
          "tandis que|sauf|par contre|en revanche",
    # Not "doch" or "nur" (also "yet" as emphasis, "only"), not "während" (also "during").
    "de": "aber|jedoch|allerdings|obwohl|obgleich|trotzdem|dennoch|außer|hingegen|wobei",
    # Not "toch" or "alleen" (also emphasis, "only"), not "terwijl" (also "while").
    "nl": "maar|echter|hoewel|ofschoon|behalve|desondanks|daarentegen",
    # Not "sino" (after a negation: "no X sino Y" does not turn), not "mientras" (also "while").
    "es": "pero|aunque|sin embargo|no obstante|si bien|excepto|salvo|en cambio",
    # Not "senão" (after a negation, like "sino"), not "enquanto" (also "while"); "só que"
    # ("except that") is the commonest turn in Brazilian reviews after "mas".
    "pt": "mas|porém|contudo|entretanto|todavia|no entanto|embora|apesar de|só que|exceto|"
          "mesmo que|por outro lado",
    # Not "comunque" ("anyway" as often as "however"), "invece" ("invece di": "instead of") or
    # "mentre" (also "while"); "peccato che" ("too bad that") turns like "except that".
    "it": "ma|però|tuttavia|anche se|sebbene|benché|nonostante|eccetto|tranne|peccato che",
}
_CONTRAST = {lang: re.compile(rf";|\b(?:{words})\b", re.IGNORECASE)
             for lang, words in _CONTRAST_WORDS.items()}
# Japanese has no spaces and turns with particles that close the first clause ("きれいだけど、
# 落ちる"): the cut goes after the particle (group "after"), or before a connective that opens
# the second clause after a comma ("…、しかし…"). "が" and "のに" turn only before a comma (else
# "が" marks a subject and "のに" can mean "for"); "でも" ("even") and "ただ" ("just", "free")
# are left out, and at a sentence's start they follow a 。, where the sentence is already cut.
_CONTRAST["ja"] = re.compile(
    r"[;；]|(?P<after>(?:けれども|けれど|けど|ものの)、?|(?:が|のに)、)"
    r"|(?<=、)(?:しかし|だが|ところが|一方で?|とはいえ)")
# Chinese turns with a connective that opens the second clause after a comma ("界面很漂亮，
# 但是经常闪退"); "就是" and "只是" there mean "it's just that", the commonest turn in reviews
# ("很好用，就是广告太多"), and "可惜" "unfortunately". Not "却" (it follows the second clause's
# subject: "功能却很少") and not "而" (mostly "and").
_CONTRAST["zh"] = re.compile(r"[;；]|(?<=[，,])\s*(?:但是|但|可是|不过|然而|只是|就是|可惜)")
# Korean turns with a verb ending that closes the first clause, "-지만" ("but") or "-는데" /
# "-은데" / "-ㄴ데" ("…, and/but"), all written inside the word ("예쁜데 자주 멈춰요"): the cut
# goes after the ending (group "after"), only before a space, so "데요" closing a sentence and
# "데" as a word of its own ("찾는 데 10분") stay. The connectives "하지만", "그런데", "그러나",
# "근데" after a space open the second clause instead.
_CONTRAST["ko"] = re.compile(
    r"[;；]|(?<!\S)(?:하지만|그런데|그러나|근데)(?=\s)|(?<=[가-힣])(?P<after>(?:지만|데),?)(?=\s)")
_NO_CONTRAST = re.compile(";")
CLAUSE_LANGUAGES = tuple(_CONTRAST)
"""Languages whose sentences are cut at their own contrast words (others only at ``;``)."""
_WORDS = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
MIN_CLAUSE_WORDS = 2
"""Each side of a clause cut needs this many words (the conjunction not counted): "great app
though" and "nothing but bugs" stay whole."""
MIN_CLAUSE_CHARS = {"ja": 4, "zh": 2}
"""Languages written without spaces, whose clause sides are measured in letters or digits, and
how many each side of a cut needs: Japanese 4 ("いいけど、重い" stays whole: one side is a single
adjective), Chinese 2 (a Chinese clause is short: "很好用，就是广告太多" turns after three)."""
UNSPACED_LANGUAGES = tuple(MIN_CLAUSE_CHARS)


def split_sentences(text: str, title: str | None = None) -> list[str]:
    """Split a review into sentences.

    Args:
        text: the review body.
        title: the review title; when present it becomes the first sentence.

    Returns:
        Non-empty sentences in reading order (an empty list for blank text).

    >>> split_sentences("Love it 😍 but it crashes. Fix pls!!! thx")
    ['Love it 😍', 'but it crashes.', 'Fix pls!!!', 'thx']
    >>> split_sentences("Works well, e.g. sync is fast.\\nFive stars")
    ['Works well, e.g. sync is fast.', 'Five stars']
    >>> split_sentences("起動しません。毎回落ちます！！直してください")
    ['起動しません。', '毎回落ちます！！', '直してください']
    """
    pieces: list[str] = []
    if title and title.strip():
        pieces.append(title.strip())
    pos = 0
    body = text or ""
    buf = ""
    for match in _END.finditer(body):
        chunk = buf + body[pos : match.start()]
        pos = match.end()
        if _ABBREV.search(chunk) and "\n" not in match.group(0):
            buf = chunk + " "  # not a sentence end: keep accumulating
            continue
        buf = ""
        pieces.append(chunk)
    pieces.append(buf + body[pos:])
    out: list[str] = []
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        if out and not _LETTER.search(piece):
            out[-1] = f"{out[-1]} {piece}"  # "!!!", "😍😍", "5/5": not a sentence of its own
            continue
        out.extend(_cut_run_on(piece))
    return out


def _cut_run_on(sentence: str) -> list[str]:
    """Cut a sentence longer than MAX_WORDS at commas/conjunctions into pieces under the limit."""
    if len(sentence.split()) <= MAX_WORDS:
        return [sentence]
    parts = [p for p in _RUN_ON.split(sentence) if p and p.strip()]
    out: list[str] = []
    cur = ""
    for part in parts:
        cand = f"{cur}, {part}" if cur else part
        if cur and len(cand.split()) > MAX_WORDS:
            out.append(cur)
            cand = part
        cur = cand
    if cur:
        out.append(cur)
    # A piece with no comma or conjunction at all is still cut, by words, so no piece is huge.
    final: list[str] = []
    for piece in out:
        words = piece.split()
        final.extend(" ".join(words[i : i + MAX_WORDS]) for i in range(0, len(words), MAX_WORDS))
    return final


def split_clauses(sentence: str, language: str | None = "en") -> list[str]:
    """Cut a sentence where it turns ("nice design, but it crashes"; "fast and cheap; support
    never answers"; "rapide, mais elle plante"), so that each part can carry its own need and
    sentiment.

    Args:
        sentence: one sentence from :func:`split_sentences`.
        language: the review's language code; :data:`CLAUSE_LANGUAGES` are cut at their own
            contrast words, others only at ``;``, ``None`` or ``und`` (undetermined) as English.

    Returns:
        Substrings of ``sentence`` in order (the conjunction starts the following part; a ``;``
        ends the preceding one), or ``[sentence]`` when it has no such turn.

    >>> split_clauses("Nice design, but it crashes sometimes.")
    ['Nice design,', 'but it crashes sometimes.']
    >>> split_clauses("Great app though")
    ['Great app though']
    """
    cuts: list[int] = []
    start = 0
    lang = "en" if language in (None, "und") else language
    for m in _CONTRAST.get(lang, _NO_CONTRAST).finditer(sentence):
        # ";" and Japanese particles close the first part; contrast words open the second.
        cut = m.end() if m.group() in (";", "；") or m.groupdict().get("after") else m.start()
        if (_big_enough(sentence[start:m.start()], lang)
                and _big_enough(sentence[m.end() :], lang)):
            cuts.append(cut)
            start = cut
    if not cuts:
        return [sentence]
    bounds = [0, *cuts, len(sentence)]
    parts = [sentence[a:b].strip() for a, b in pairwise(bounds)]
    return [p for p in parts if p]


def _big_enough(part: str, language: str) -> bool:
    """Whether ``part`` (one side of a possible clause cut) is long enough to be a clause: words
    (:data:`MIN_CLAUSE_WORDS`) or, in :data:`UNSPACED_LANGUAGES`, characters
    (:data:`MIN_CLAUSE_CHARS`)."""
    words = _WORDS.findall(part)
    if language in UNSPACED_LANGUAGES:
        return sum(map(len, words)) >= MIN_CLAUSE_CHARS[language]
    return len(words) >= MIN_CLAUSE_WORDS
