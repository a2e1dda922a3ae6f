"""Emoji the encoder's vocabulary lacks, spelled out as their names, with offsets kept.

Stage: classify (tokenising). In: review texts and a fast tokenizer. Out: token ids and, per
token, the character span it came from **in the original text**.

Why: the default encoder (all-MiniLM-L6-v2, a BERT WordPiece vocabulary) has no emoji. BERT's
pre-tokenizer splits at spaces and punctuation only, and an emoji is neither, so "💩Horrible💩" or
"love it😍" is one word the vocabulary cannot spell: the whole word, text included, becomes a
single ``[UNK]``. Reviews use emoji a lot (about 5 % of minibar-en, 13 % of a Google Play page
of reviews), often as the only sign of the writer's mood. Each emoji (a sequence, skin tone and
joiners included) is replaced by its CLDR name between spaces ("👍🏽" → " thumbs up "), a run of
the same emoji by one name. Offsets are mapped back, so sentence pooling and quotes still work
on the text as written. Tokenizers that read emoji already (the multilingual encoder's
SentencePiece vocabulary has them) get the text unchanged.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Sequence
from typing import Any

import emoji

# A cheap gate: most reviews have no character in these ranges, and emoji.analyze is slower.
_MAYBE_EMOJI = re.compile("[\u00a9\u00ae\u203c-\u3299\U0001f000-\U0001faff]")
_SKIN_TONE = re.compile("_(?:medium-)?(?:light|medium|dark)_skin_tone|_medium_skin_tone")
PROBE = "👍"
"""An emoji every vocabulary that has emoji at all has; tokenizers that read it are left alone."""

EMOJI_VERSION = "emoji1"
"""Names the spelling in model versions (labels made before it are labelled again)."""


def emoji_name(chars: str) -> str:
    """The CLDR short name of one emoji (sequence), in plain words, skin tone dropped."""
    code = emoji.demojize(chars, delimiters=("", ""))
    return _SKIN_TONE.sub("", code).replace("_", " ").strip()


def spell_emoji(text: str) -> tuple[str, list[int], list[int]] | None:
    """``text`` with its emoji replaced by their names, or None when it has none.

    Returns:
        (new text, start, end): for each character of the new text, the span of the original
        text it stands for (a name's characters all stand for their emoji run).
    """
    if not _MAYBE_EMOJI.search(text):
        return None
    runs: list[tuple[int, int, str]] = []
    for token in emoji.analyze(text, join_emoji=True):
        m = token.value
        name = emoji_name(m.emoji)
        if runs and runs[-1][1] == m.start and runs[-1][2] == name:
            runs[-1] = (runs[-1][0], m.end, name)  # a run of the same emoji: one name
        else:
            runs.append((m.start, m.end, name))
    if not runs:
        return None
    parts: list[str] = []
    start: list[int] = []
    end: list[int] = []
    pos = 0
    for a, b, name in runs:
        parts.append(text[pos:a])
        start += range(pos, a)
        end += range(pos + 1, a + 1)
        spelled = f" {name} "
        parts.append(spelled)
        start += [a] * len(spelled)
        end += [b] * len(spelled)
        pos = b
    parts.append(text[pos:])
    start += range(pos, len(text))
    end += range(pos + 1, len(text) + 1)
    return "".join(parts), start, end


def reads_emoji(tokenizer: Any) -> bool:
    """True when ``tokenizer`` turns an emoji into a known token (no spelling needed)."""
    unk = getattr(tokenizer, "unk_token_id", None)
    ids = tokenizer(PROBE, add_special_tokens=False)["input_ids"]
    return bool(ids) and unk not in ids


def spells_emoji(tokenizer: Any, override: bool | None = None) -> bool:
    """Whether text for ``tokenizer`` gets emoji spelled out: ``override`` when given (True /
    False), else exactly when the tokenizer cannot read emoji (:func:`reads_emoji`)."""
    return override if override is not None else not reads_emoji(tokenizer)


def tokenize_with_offsets(tokenizer: Any, texts: Sequence[str], *, spell: bool
                          ) -> tuple[list[list[int]], list[list[tuple[int, int]]]]:
    """Token ids (no special tokens) and each token's character span in the original text.

    Args:
        tokenizer: a fast tokenizer (character offsets).
        texts: the texts as written.
        spell: replace emoji by their names first (:func:`spell_emoji`); see
            :func:`reads_emoji`.
    """
    spelled = [spell_emoji(t) if spell else None for t in texts]
    encodings = _backend(tokenizer).encode_batch(
        [s[0] if s else t for s, t in zip(spelled, texts, strict=True)], add_special_tokens=False)
    offsets: list[list[tuple[int, int]]] = []
    for s, enc in zip(spelled, encodings, strict=True):
        if s is None:
            offsets.append(enc.offsets)
        else:
            _, start, end = s
            offsets.append([_original_span(start, end, a, b) for a, b in enc.offsets])
    return [enc.ids for enc in encodings], offsets


_BACKENDS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _backend(tokenizer: Any) -> Any:
    """``tokenizer``'s Rust tokenizer, copied once and set the way ``tokenizer(texts,
    add_special_tokens=False)`` runs it: no truncation, no padding, special tokens split as
    the tokenizer says. Called directly because the Python wrapper turns every result into
    dicts of lists: 0.1-0.2 s on top of the 0.07 s the Rust side needs for 2,000 reviews."""
    backend = _BACKENDS.get(tokenizer)
    if backend is None:
        from tokenizers import Tokenizer

        backend = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
        backend.no_truncation()
        backend.no_padding()
        backend.encode_special_tokens = bool(getattr(tokenizer, "split_special_tokens", False))
        _BACKENDS[tokenizer] = backend
    return backend


def _original_span(start: list[int], end: list[int], a: int, b: int) -> tuple[int, int]:
    """Span in the original text of the new text's characters ``[a, b)``."""
    if b > a:
        return start[a], end[b - 1]
    at = start[a] if a < len(start) else (end[-1] if end else 0)
    return at, at  # an empty span stays empty
