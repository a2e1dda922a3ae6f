"""Optional ONNX Runtime int8 encoder (``[classification] onnx = true``).

Stage: classify (embedding, fast path). In: the configured encoder (+ the heads' adapter). Out:
the same kind of embeddings as :class:`~analysis.classify.encoder.TransformerEncoder`, about 1.5x
faster on CPU, not bit-identical (mean cosine ~0.99 to fp32; agreement of the labels is measured
by bench/bench_classify.py).

The export runs once, on first use, into the workspace cache (``<workspace>/cache/onnx/``),
following the recipe in research/ml_stack.md: eager attention, legacy exporter, ``.eval()`` on
the wrapper, then per-channel dynamic int8 quantisation of the plain export.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from analysis.classify.encoder import BaseEncoder
from analysis.classify.hub import ModelLoadError, ModelRef, set_offline_env

log = logging.getLogger(__name__)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def export_path(ref: ModelRef, adapter: dict[str, np.ndarray] | None, cache_dir: Path | None,
                kind: str, suffix: str, recipe: str = "") -> Path:
    """Where a fast path keeps its export of ``ref`` (+ ``adapter``):
    ``<cache_dir>/<kind>/<id>-<hash><suffix>``, the hash over the id, ``recipe`` (a version of
    the export recipe; empty for ONNX, whose names predate it) and the adapter's weights, so
    heads with another adapter never load a stale export."""
    h = hashlib.sha256(ref.id.encode() + recipe.encode())
    for k in sorted(adapter or {}):
        h.update(k.encode())
        h.update(adapter[k].tobytes())
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in ref.id)[:60]
    return ((cache_dir or Path.home() / ".cache" / "reviewgap") / kind
            / f"{safe}-{h.hexdigest()[:12]}{suffix}")


def export_fp32(ref: ModelRef, target: Path, adapter: dict[str, np.ndarray] | None = None) -> Path:
    """Export the encoder (adapter merged) to a full-precision ONNX graph at ``target``.

    In: the encoder's reference and the heads' LoRA adapter (``None``: the plain encoder).
    Out: ``target``, with inputs :data:`INPUTS` (batch and length dynamic) and the output
    ``last_hidden_state``. Shared by the ONNX Runtime and OpenVINO paths, which quantise it.
    """
    set_offline_env()
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(ref.path))
    model = AutoModel.from_pretrained(str(ref.path), attn_implementation="eager").eval()
    if adapter:
        from analysis.classify.adapter import merge_lora

        merge_lora(model, adapter)

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    enc = tok(["an example review sentence", "short"], padding=True, return_tensors="pt")
    if "token_type_ids" not in enc:
        enc["token_type_ids"] = torch.zeros_like(enc["input_ids"])
    target.parent.mkdir(parents=True, exist_ok=True)
    # .eval() on the wrapper: the legacy exporter restores the wrapper's mode afterwards, and a
    # fresh Module is in train mode, which would switch dropout on in the inner model.
    wrapper = _Wrapper(model).eval()
    with torch.inference_mode():
        torch.onnx.export(
            wrapper, tuple(enc[k] for k in INPUTS), str(target), input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={k: {0: "b", 1: "s"} for k in (*INPUTS, "last_hidden_state")},
            opset_version=17, dynamo=False)
    return target


def export_int8(ref: ModelRef, target: Path, adapter: dict[str, np.ndarray] | None = None) -> Path:
    """Export the encoder (adapter merged) to ONNX and quantise it to int8 per channel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = export_fp32(ref, target.with_suffix(".fp32.tmp"), adapter)
    tmp = target.with_suffix(".tmp")
    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    fp32.unlink(missing_ok=True)
    tmp.replace(target)  # atomic: a killed export never leaves a half-written model behind
    return target


class OnnxEncoder(BaseEncoder):
    """ONNX Runtime session over the int8 export."""

    def __init__(self, ref: ModelRef, onnx_path: Path, *, threads: int = 0,
                 batch_size: int = 32) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        set_offline_env()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or os.cpu_count() or 1
        self.session = ort.InferenceSession(str(onnx_path), opts,
                                            providers=["CPUExecutionProvider"])
        super().__init__(ref, AutoTokenizer.from_pretrained(str(ref.path)),
                         batch_size=batch_size)
        self.path = onnx_path
        width = self.session.get_outputs()[0].shape[-1]
        if not isinstance(width, int):  # a symbolic width: ask the model's config
            from transformers import AutoConfig

            width = AutoConfig.from_pretrained(str(ref.path)).hidden_size
        self.dim = int(width)

    @classmethod
    def from_ref(cls, ref: ModelRef, *, threads: int = 0, batch_size: int = 32,
                 cache_dir: Path | None = None,
                 adapter: dict[str, np.ndarray] | None = None) -> OnnxEncoder:
        """Load the cached export, exporting first when it is not there yet."""
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            raise ModelLoadError(
                "classification.onnx: onnxruntime is not installed "
                "(pip install 'reviewgap[onnx]')") from None
        path = export_path(ref, adapter, cache_dir, "onnx", ".int8.onnx")
        if not path.exists():
            log.info("exporting %s to ONNX int8 at %s (once)", ref.id, path)
            export_int8(ref, path, adapter)
        return cls(ref, path, threads=threads, batch_size=batch_size)

    def _hidden(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids.astype(np.int64),
                 "attention_mask": attention_mask.astype(np.int64),
                 "token_type_ids": np.zeros_like(input_ids, dtype=np.int64)}
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return hidden
