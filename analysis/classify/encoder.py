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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis.classify.hub import ModelLoadError, ModelRef, set_offline_env

MAX_TOKENS = 256
"""Longer texts are truncated (sentences almost never reach it; all-MiniLM was trained at 256)."""


class BaseEncoder:
    """Tokenise, sort by length, batch, embed, cache. Subclasses implement :meth:`_embed`."""

    def __init__(
        self, ref: ModelRef, tokenizer: Any, *, batch_size: int = 32, cache_size: int = 50_000
    ) -> None:
        self.ref = ref
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self.dim = 0
        self.encoded = 0
        """Texts actually run through the model (cache misses), for benchmarks and logs."""

    @property
    def id(self) -> str:
        return self.ref.id

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts; the result has one unit-length row per input, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = dict(zip(missing, self._encode_uncached(missing), strict=True)) if missing else {}
        # Read the result before the cache is trimmed: trimming may evict texts of this call.
        out = np.stack([fresh[t] if t in fresh else self._cache[t] for t in texts])
        for text in texts:
            if text in self._cache:
                self._cache.move_to_end(text)  # least recently used goes first
        self._cache.update(fresh)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        ids = self.tokenizer(texts, truncation=True, max_length=MAX_TOKENS)["input_ids"]
        order = np.argsort([len(x) for x in ids], kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = self.tokenizer.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="np")
            vecs = self._embed(batch["input_ids"], batch["attention_mask"])
            if out is None:
                out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
                self.dim = vecs.shape[1]
            out[idx] = vecs
        self.encoded += len(texts)
        assert out is not None
        return out

    def _embed(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
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
                 key: str = "classification.encoder") -> None:
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
        super().__init__(ref, tokenizer, batch_size=batch_size)
        self.dim = int(self.model.config.hidden_size)
        self._torch = torch

    def _embed(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.from_numpy(input_ids),
                attention_mask=torch.from_numpy(attention_mask),
            ).last_hidden_state
        return mean_pool(out.numpy(), attention_mask)


def load_encoder(ref: ModelRef, *, threads: int = 0, batch_size: int = 32, onnx: bool = False,
                 cache_dir: Path | None = None,
                 adapter: dict[str, np.ndarray] | None = None) -> BaseEncoder:
    """Build the configured encoder (fp32 torch, or the ONNX int8 export when ``onnx``)."""
    if onnx:
        from analysis.classify.onnx_encoder import OnnxEncoder

        return OnnxEncoder.from_ref(ref, threads=threads, batch_size=batch_size,
                                    cache_dir=cache_dir, adapter=adapter)
    return TransformerEncoder(ref, threads=threads, batch_size=batch_size, adapter=adapter)
