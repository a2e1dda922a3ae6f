"""Sentence vectors pooled from one forward pass over the whole review.

Stage: classify (embedding). In: a review's text, its sentences (from
:func:`analysis.classify.sentences.split_sentences`) and the tokenizer's character offsets. Out:
which tokens belong to which sentence, how a long review is cut into model-sized chunks, and the
pooled review and sentence vectors.

Why: embedding every sentence again on its own costs about 1.8x the tokens of the reviews (and
each short sentence pays the fixed per-sequence cost). Here the encoder runs once per review;
each sentence's vector is the mean of the review's token vectors inside that sentence, so it
also carries the context of the rest of the review ("it" in "it crashes" is the app). The review
vector is the plain mean over every position (special tokens included), which for a review that
fits in one chunk is exactly what sentence-transformers computes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")


def sentence_spans(text: str, sentences: Sequence[str]) -> list[tuple[int, int] | None]:
    """Character span of each sentence in ``text``, searched in reading order.

    The splitter strips, glues and re-joins pieces (``", "`` between run-on parts), so a
    sentence is located by its sequence of word tokens among the text's word tokens (whatever
    lies between them); the span then grows over the punctuation and emoji around it, up to a
    space or another word (Chinese and Japanese sentences follow each other with no space). A
    sentence without word characters, or not found, gets None.
    """
    # Word tokens of the text once; sentences come in order, so the search resumes where the
    # previous one ended (no regex per sentence: compiling one each was most of the cost).
    # Words and matches from two scans in C: reading each match's group and span in Python
    # cost more than both.
    words_only = _WORD.findall(text)
    found = list(_WORD.finditer(text))
    spans: list[tuple[int, int] | None] = []
    pos = 0
    cursor = 0
    for sentence in sentences:
        words = _WORD.findall(sentence)
        k = _find_run(words_only, words, cursor) if words else -1
        if k < 0:
            spans.append(None)
            continue
        start, end = found[k].start(), found[k + len(words) - 1].end()
        cursor = k + len(words)
        while start > pos and _glued(text[start - 1]):
            start -= 1
        # The sentence's own tail after its last word ("😍", " !!!" glued on by the splitter).
        tail = "".join(sentence[sentence.rfind(words[-1]) + len(words[-1]) :].split())
        i = end
        for ch in tail:
            while i < len(text) and text[i].isspace():
                i += 1
            if i >= len(text) or text[i] != ch:
                break
            i += 1
        else:
            end = i
        while end < len(text) and _glued(text[end]):
            end += 1
        spans.append((start, end))
        pos = end
    return spans


def _glued(ch: str) -> bool:
    """Whether ``ch`` belongs to the sentence it touches: not a space, not a word character."""
    return not ch.isspace() and not _WORD.match(ch)


def _find_run(haystack: list[str], needle: list[str], start: int) -> int:
    """First index >= ``start`` where ``needle`` occurs in ``haystack`` as a run, else -1."""
    n = len(needle)
    first = needle[0]
    for k in range(start, len(haystack) - n + 1):
        if haystack[k] == first and haystack[k : k + n] == needle:
            return k
    return -1


def token_owners(offsets: Sequence[tuple[int, int]],
                 spans: Sequence[tuple[int, int] | None]) -> np.ndarray:
    """Sentence index per (content) token, -1 for tokens outside every sentence.

    Args:
        offsets: (start, end) character offsets of the review's tokens, specials excluded.
        spans: the sentences' character spans (:func:`sentence_spans`).
    """
    owner = np.full(len(offsets), -1, dtype=np.int64)
    starts = np.array([s for s, _ in offsets], dtype=np.int64)
    for k, span in enumerate(spans):
        if span is not None:
            owner[(starts >= span[0]) & (starts < span[1])] = k
    return owner


def chunk_bounds(owner: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Cut ``len(owner)`` content tokens into chunks of at most ``limit`` tokens.

    Cuts fall at sentence starts where possible (a sentence stays in one chunk unless it alone
    is longer than ``limit``). A review that fits gives one chunk.
    """
    n = len(owner)
    if n <= limit:
        return [(0, n)]
    starts = [i for i in range(1, n) if owner[i] != owner[i - 1] and owner[i] >= 0]
    out: list[tuple[int, int]] = []
    a = 0
    while a < n:
        b = min(a + limit, n)
        if b < n:
            inside = [s for s in starts if a < s <= b]
            b = inside[-1] if inside else b
        out.append((a, b))
        a = b
    return out


class SpanPooler:
    """Accumulates token vectors of one review's chunks into review and sentence vectors."""

    def __init__(self, n_sentences: int, dim: int) -> None:
        self.sent_sum = np.zeros((n_sentences, dim), dtype=np.float64)
        self.sent_n = np.zeros(n_sentences, dtype=np.int64)
        self.all_sum = np.zeros(dim, dtype=np.float64)
        self.all_n = 0

    def add(self, hidden: np.ndarray, owner: np.ndarray) -> None:
        """Add one chunk: ``hidden`` (positions, dim) with ``owner`` per position (-1 = none)."""
        self.all_sum += hidden.sum(axis=0)
        self.all_n += hidden.shape[0]
        if len(self.sent_n):
            # One small matrix product instead of np.add.at (which is slow): row k selects the
            # positions owned by sentence k.
            onehot = owner[None, :] == np.arange(len(self.sent_n))[:, None]
            self.sent_sum += onehot.astype(hidden.dtype) @ hidden
            self.sent_n += onehot.sum(axis=1)

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(unit review vector, unit sentence vectors, which sentences got any token)."""
        review = _unit(self.all_sum / max(self.all_n, 1))
        got = self.sent_n > 0
        sents = self.sent_sum / np.maximum(self.sent_n, 1)[:, None]
        return review, _unit_rows(sents), got


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)


def _unit_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.clip(norms, 1e-12, None)).astype(np.float32)
