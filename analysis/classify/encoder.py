"""Sentence encoders: texts -> L2-normalised mean-pooled embeddings.

Stage: classify (embedding). In: texts. Out: float32 arrays (n, dim), rows of unit length.

The default is the bundled all-MiniLM-L6-v2 run with plain transformers (offline). Speed comes
from measured, exact tricks (research/ml_stack.md): sorting by token length before batching
(1.6-1.8x), ``inference_mode``, a thread count set once, and a per-run cache so a text seen twice
(duplicate reviews, "Great app!") is encoded once. :class:`OnnxEncoder` is the optional int8 path.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from analysis.classify.batch_plan import Batch, fixed_rows
from analysis.classify.emoji_text import spells_emoji, tokenize_with_offsets
from analysis.classify.hub import ModelLoadError, ModelRef, set_offline_env
from analysis.classify.span_pool import SpanPooler, chunk_bounds, sentence_spans, token_owners

MAX_TOKENS = 256
"""Longer texts are truncated (sentences almost never reach it; all-MiniLM was trained at 256)."""


class VectorLru:
    """Least-recently-used store of vectors, bounded by the number of vector rows it holds
    (a 1-D value is one row; a review's ``[review, sentence, ...]`` block is several)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._rows = 0

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._rows = 0

    def fetch(self, keys: Sequence[Hashable],
              compute: Callable[[list[Any]], Sequence[np.ndarray]]) -> list[np.ndarray]:
        """Values of ``keys`` in order; ``compute(misses)`` gives the values of the keys not
        stored (each once, in first-seen order), which are then stored."""
        missing = [k for k in dict.fromkeys(keys) if k not in self._items]
        fresh = dict(zip(missing, compute(missing), strict=True)) if missing else {}
        # Read the result before trimming: trimming may evict keys of this call.
        out = [fresh[k] if k in fresh else self._items[k] for k in keys]
        for k in keys:
            if k in self._items:
                self._items.move_to_end(k)  # least recently used goes first
        for k, v in fresh.items():
            self._items[k] = v
            self._rows += _rows(v)
        while self._rows > self.capacity and self._items:
            self._rows -= _rows(self._items.popitem(last=False)[1])
        return out


def _rows(v: np.ndarray) -> int:
    return int(v.shape[0]) if v.ndim > 1 else 1


def max_tokens(tokenizer: Any) -> int:
    """Positions per sequence for ``tokenizer``'s model: MAX_TOKENS, or its own smaller
    ``model_max_length`` (inference and fine-tuning both cut chunks to this)."""
    limit = getattr(tokenizer, "model_max_length", None) or MAX_TOKENS
    return int(min(MAX_TOKENS, limit))


def special_affixes(tokenizer: Any) -> tuple[list[int], list[int]]:
    """Special token ids ``tokenizer`` puts before and after a text ([CLS] / [SEP], or e5's
    ``<s> query:`` / ``</s>``), found by tokenising one word with and without them.

    Raises:
        ValueError: the bare tokens do not appear inside the full tokenisation.
    """
    bare = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a")["input_ids"]
    for i in range(len(full) - len(bare) + 1):
        if full[i : i + len(bare)] == bare:
            return list(full[:i]), list(full[i + len(bare) :])
    raise ValueError("cannot place the special tokens around a text")


class BaseEncoder:
    """Tokenise, sort by length, batch, embed, cache. Subclasses implement :meth:`_hidden`."""

    def __init__(
        self, ref: ModelRef, tokenizer: Any, *, batch_size: int = 32, cache_size: int = 50_000,
        spell_emoji: bool | None = None,
    ) -> None:
        self.ref = ref
        self.tokenizer = tokenizer
        self._spell_emoji = spell_emoji
        """None: spell emoji out when the vocabulary lacks them; True/False: always/never."""
        self.batch_size = batch_size
        self._cache = VectorLru(cache_size)
        """text -> vector (:meth:`encode`)."""
        self._reviews = VectorLru(cache_size)
        """(text, sentences) -> ``[review, sentence, ...]`` rows (:meth:`encode_reviews`)."""
        self.dim = 0
        self.encoded = 0
        """Texts actually run through the model (cache misses), for benchmarks and logs."""
        self.span_fallbacks = 0
        """Sentences that could not be located in their review (given the review's vector)."""

    @property
    def id(self) -> str:
        return self.ref.id

    def clear_cache(self) -> None:
        """Forget every cached vector (benchmarks time cold runs)."""
        self._cache.clear()
        self._reviews.clear()

    @property
    def max_tokens(self) -> int:
        """Positions per sequence: MAX_TOKENS, or less when the tokenizer says so."""
        return max_tokens(self.tokenizer)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; the result has one unit-length row per input, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack(self._cache.fetch(list(texts), self._encode_uncached))

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        prefix, suffix = self._affixes
        ids = [[*prefix, *x[:self._room], *suffix]
               for x in tokenize_with_offsets(self.tokenizer, texts, spell=self.spells_emoji)[0]]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for idx, hidden, mask in self._run_sorted(ids):
            out[idx] = mean_pool(hidden, mask)
        self.encoded += len(texts)
        return out

    def encode_reviews(self, texts: Sequence[str],
                       sentences: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass per review; sentence vectors pooled from the review's tokens.

        Args:
            texts: full review texts (title joined in front, as the pipeline builds them).
            sentences: each review's sentences, in reading order (substrings of the text up to
                whitespace and joins, see :func:`analysis.classify.span_pool.sentence_spans`).

        Returns:
            (review vectors (n, dim), sentence vectors of all reviews, review after review),
            both unit length. A sentence that cannot be located in its text (or has no word
            characters) gets its review's vector; ``span_fallbacks`` counts them.
        """
        if len(texts) != len(sentences):
            raise ValueError(f"{len(sentences)} sentence lists for {len(texts)} texts")
        keys = [(t, tuple(s)) for t, s in zip(texts, sentences, strict=True)]
        got = self._reviews.fetch(keys, self._encode_reviews_uncached)
        dim = self.dim
        rev = np.stack([g[0] for g in got]) if got else np.zeros((0, dim), np.float32)
        sent = (np.concatenate([g[1:] for g in got]) if got
                else np.zeros((0, dim), np.float32))
        return rev, sent

    def encode_sentences(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of stand-alone sentences, pooled like a sentence inside a review (the heads
        and the needs examples see sentences this way)."""
        return self.encode_reviews(list(texts), [[t] for t in texts])[1]

    def _encode_reviews_uncached(self, keys: list[tuple[str, tuple[str, ...]]]
                                 ) -> list[np.ndarray]:
        """Rows ``[review, sentence 1, ...]`` per key (see :meth:`encode_reviews`)."""
        prefix, suffix = self._affixes
        tok_ids, tok_offs = tokenize_with_offsets(self.tokenizer, [k[0] for k in keys],
                                                  spell=self.spells_emoji)
        limit = self._room
        chunk_ids: list[list[int]] = []
        chunk_owner: list[np.ndarray] = []
        chunk_review: list[int] = []
        for r, ((text, sents), ids, offs) in enumerate(
                zip(keys, tok_ids, tok_offs, strict=True)):
            owner = token_owners(offs, sentence_spans(text, sents))
            for a, b in chunk_bounds(owner, limit):
                wrapped = [*prefix, *ids[a:b], *suffix]
                pos_owner = np.full(len(wrapped), -1, dtype=np.int64)
                pos_owner[len(prefix) : len(prefix) + b - a] = owner[a:b]
                chunk_ids.append(wrapped)
                chunk_owner.append(pos_owner)
                chunk_review.append(r)
        poolers = [SpanPooler(len(k[1]), self.dim) for k in keys]
        for idx, hidden, mask in self._run_sorted(chunk_ids):
            for row, (c, n) in enumerate(zip(idx.tolist(), mask.sum(axis=1).tolist(),
                                             strict=True)):
                poolers[chunk_review[c]].add(hidden[row, :n], chunk_owner[c])
        out = []
        for p in poolers:
            review, sents, ok = p.result()
            self.span_fallbacks += int((~ok).sum())
            sents[~ok] = review
            out.append(np.vstack([review[None, :], sents]))
        self.encoded += len(keys)
        return out

    @cached_property
    def _affixes(self) -> tuple[list[int], list[int]]:
        """:func:`special_affixes` of this tokenizer (checked once: sentence pooling needs a
        fast tokenizer for character offsets)."""
        if not getattr(self.tokenizer, "is_fast", False):
            raise ModelLoadError(
                f"classification.encoder: {self.ref.id!r} has no fast tokenizer (tokenizer.json), "
                "which sentence pooling needs for character offsets")
        try:
            return special_affixes(self.tokenizer)
        except ValueError as exc:
            raise ModelLoadError(f"classification.encoder: {self.ref.id!r}: {exc}") from None

    @cached_property
    def _room(self) -> int:
        """Tokens of text that fit in one pass beside the special tokens."""
        prefix, suffix = self._affixes
        return self.max_tokens - len(prefix) - len(suffix)

    @cached_property
    def spells_emoji(self) -> bool:
        """Emoji are spelled out (:mod:`analysis.classify.emoji_text`): by default when the
        vocabulary lacks them."""
        return spells_emoji(self.tokenizer, self._spell_emoji)

    def padded_batches(self, ids: list[list[int]]
                       ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Length-sorted batches of token id lists: (indices into ``ids``, input ids, mask).

        Cut by :meth:`batch_plan`. Always padded on the right, whatever side the tokenizer is
        set to pad: the pooling reads the first ``mask.sum()`` positions of each row. A
        batch may have more rows than indices (padding rows, one visible pad token each).
        """
        lengths = np.array([len(x) for x in ids])
        order = np.argsort(lengths, kind="stable")
        pad_id = self.tokenizer.pad_token_id or 0
        for batch in self.batch_plan(lengths[order].tolist()):
            idx = order[batch.start : batch.end]
            input_ids = np.full((batch.rows, batch.width), pad_id, dtype=np.int64)
            mask = np.zeros_like(input_ids)
            mask[len(idx):, 0] = 1  # no row without a visible token
            for row, i in enumerate(idx):
                input_ids[row, : lengths[i]] = ids[i]
                mask[row, : lengths[i]] = 1
            yield idx, input_ids, mask

    def batch_plan(self, lengths: list[int]) -> list[Batch]:
        """How token counts sorted ascending are cut into batches: ``batch_size`` a batch
        (:func:`~analysis.classify.batch_plan.fixed_rows`)."""
        return fixed_rows(lengths, self.batch_size)

    def _run_sorted(self, ids: list[list[int]]
                    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield (indices, hidden states, attention mask) per length-sorted padded batch, one
        row per index (a batch's padding rows are dropped)."""
        return self._run_batches(self.padded_batches(ids))

    def _run_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]
                     ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """:meth:`_run_sorted` on batches of :meth:`padded_batches` (made beforehand, for
        the benchmark's model-alone figure), one at a time."""
        for idx, input_ids, mask in batches:
            hidden = self._hidden(input_ids, mask)
            if not self.dim:
                self.dim = int(hidden.shape[-1])
            yield idx, hidden[: len(idx)], mask[: len(idx)]

    def _hidden(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """Token vectors (batch, positions, dim) of a padded batch."""
        raise NotImplementedError


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Masked mean over tokens, then L2 normalisation (what sentence-transformers does)."""
    m = mask[..., None].astype(hidden.dtype)
    summed = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    return (summed / np.clip(norms, 1e-12, None)).astype(np.float32)


class TransformerEncoder(BaseEncoder):
    """A transformers ``AutoModel`` encoder on CPU (fp32)."""

    def __init__(self, ref: ModelRef, *, threads: int = 0, batch_size: int = 32,
                 adapter: dict[str, np.ndarray] | None = None,
                 key: str = "classification.encoder", spell_emoji: bool | None = None) -> None:
        set_offline_env()
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars would bury our own output
        torch.set_num_threads(threads or os.cpu_count() or 1)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(ref.path))
            self.model = AutoModel.from_pretrained(str(ref.path)).eval()
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"{key}: cannot load encoder {ref.id!r} from {ref.path}: {exc}") from None
        if adapter:
            from analysis.classify.adapter import merge_lora

            try:
                merge_lora(self.model, adapter)
            except ValueError as exc:
                raise ModelLoadError(
                    f"classification.heads: the heads' adapter does not fit encoder {ref.id!r}: "
                    f"{exc}") from None
        super().__init__(ref, tokenizer, batch_size=batch_size, spell_emoji=spell_emoji)
        self.dim = int(self.model.config.hidden_size)
        self._torch = torch

    def _hidden(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.from_numpy(input_ids),
                attention_mask=torch.from_numpy(attention_mask),
            ).last_hidden_state
        return out.numpy()


RUNTIME_TAGS = {"onnx": "+onnx-int8", "openvino": "+ov-int8-1"}
"""Fast path -> what it adds to the encoder's part of ``model_version``: its labels are kept
apart from fp32's (and from each other's), and the report says which copy made them."""
RUNTIME_NAMES = {RUNTIME_TAGS["onnx"]: "ONNX Runtime", RUNTIME_TAGS["openvino"]: "OpenVINO"}
"""A ``model_version`` tag -> the engine named in the report's methodology appendix."""


def check_runtime(runtime: str) -> str:
    """``runtime`` itself when it is ``torch`` or a key of :data:`RUNTIME_TAGS`; else ValueError
    (a misspelt runtime must not fall back to fp32 unnoticed)."""
    if runtime != "torch" and runtime not in RUNTIME_TAGS:
        raise ValueError(f"runtime must be 'torch' or one of {sorted(RUNTIME_TAGS)}, "
                         f"not {runtime!r}")
    return runtime


def load_encoder(ref: ModelRef, *, threads: int = 0, batch_size: int = 32,
                 runtime: str = "torch", cache_dir: Path | None = None,
                 adapter: dict[str, np.ndarray] | None = None) -> BaseEncoder:
    """Build the configured encoder for ``runtime``
    (:attr:`analysis.config.ClassificationSection.runtime`): ``torch`` (fp32), ``onnx`` (the
    ONNX Runtime int8 export) or ``openvino`` (the OpenVINO int8 export), both cached in
    ``cache_dir``."""
    if check_runtime(runtime) == "openvino":
        from analysis.classify.openvino_encoder import OpenVinoEncoder

        return OpenVinoEncoder.from_ref(ref, threads=threads, batch_size=batch_size,
                                        cache_dir=cache_dir, adapter=adapter)
    if runtime == "onnx":
        from analysis.classify.onnx_encoder import OnnxEncoder

        return OnnxEncoder.from_ref(ref, threads=threads, batch_size=batch_size,
                                    cache_dir=cache_dir, adapter=adapter)
    return TransformerEncoder(ref, threads=threads, batch_size=batch_size, adapter=adapter)
