"""Low-rank adapters (LoRA) for the encoder: fine-tuning that ships as a small npz file.

Stage: classify (training and model loading). In: a transformers encoder. Out: adapter arrays
(``<module path>.lora_a`` / ``.lora_b``) that are merged into the weights at load time, so
inference costs exactly what the plain encoder costs.

Why: linear heads on the frozen all-MiniLM embeddings stay below the accuracy floors on review
data (feature requests especially; figures in default_heads/manifest.json). A rank-8 adapter on
the attention and feed-forward projections of the top four layers is ~0.22 M parameters (a 0.8 MB
npz) instead of a 90 MB fine-tuned copy of the encoder.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

TARGETS: tuple[str, ...] = ("query", "key", "value", "attention.output.dense",
                            "intermediate.dense", "output.dense",
                            # MPNet names its attention projections attn.q/k/v/o.
                            "attn.q", "attn.k", "attn.v", "attn.o")


def _lora_linear_cls() -> Any:
    import torch

    class LoRALinear(torch.nn.Module):
        """``base(x) + (x @ A.T @ B.T) * scale`` with ``base`` frozen."""

        def __init__(self, base: torch.nn.Linear, rank: int, alpha: float) -> None:
            super().__init__()
            self.base = base
            self.scale = alpha / rank
            self.lora_a = torch.nn.Parameter(torch.randn(rank, base.in_features) * 0.01)
            self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    return LoRALinear


def _targets(model: Any, first_layer: int = 0) -> Iterable[tuple[str, Any]]:
    import torch

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and "encoder.layer." in name and \
                name.endswith(TARGETS) and \
                int(name.split("encoder.layer.")[1].split(".")[0]) >= first_layer:
            yield name, module


def attach_lora(model: Any, rank: int = 8, alpha: float = 16.0, first_layer: int = 0) -> list[Any]:
    """Freeze ``model`` and wrap its target Linear layers with trainable adapters.

    Args:
        model: a transformers BERT- or MPNet-style encoder.
        rank, alpha: LoRA rank and scaling.
        first_layer: adapt only layers from this index on (lower layers stay frozen, so their
            outputs can be computed once and cached during training).

    Returns:
        The trainable parameters (for the optimiser).

    Raises:
        ValueError: no Linear layer of ``model`` from ``first_layer`` on has a name in
            :data:`TARGETS` (another architecture, or no layer left to adapt).
    """
    cls = _lora_linear_cls()
    for p in model.parameters():
        p.requires_grad_(False)
    params: list[Any] = []
    targets = list(_targets(model, first_layer))
    if not targets:
        # Training the heads alone while calling it fine-tuning would be a silent fallback.
        raise ValueError(f"no layer of this {type(model).__name__} to adapt from layer "
                         f"{first_layer} on: LoRA knows the Linear layers named {TARGETS} "
                         "inside encoder.layer.N")
    for name, module in targets:
        parent_name, _, child = name.rpartition(".")
        wrapped = cls(module, rank, alpha)
        setattr(model.get_submodule(parent_name), child, wrapped)
        params += [wrapped.lora_a, wrapped.lora_b]
    return params


def lora_arrays(model: Any) -> dict[str, np.ndarray]:
    """The adapter as plain arrays, with the scale folded into B (for the npz file)."""
    out: dict[str, np.ndarray] = {}
    for name, module in model.named_modules():
        if hasattr(module, "lora_a"):
            out[f"{name}.lora_a"] = module.lora_a.detach().numpy().astype(np.float32)
            out[f"{name}.lora_b"] = (module.lora_b.detach().numpy() * module.scale).astype(
                np.float32)
    return out


def merge_lora(model: Any, arrays: dict[str, np.ndarray]) -> int:
    """Add ``B @ A`` to each target weight of a plain (unwrapped) model; returns layers merged.

    Raises:
        ValueError: an adapter names a layer the model does not have (wrong encoder).
    """
    import torch

    names = sorted({k.rsplit(".", 1)[0] for k in arrays})
    with torch.no_grad():
        for name in names:
            try:
                linear = model.get_submodule(name)
            except AttributeError:
                raise ValueError(f"adapter layer {name!r} is not in this encoder") from None
            delta = arrays[f"{name}.lora_b"] @ arrays[f"{name}.lora_a"]
            if tuple(delta.shape) != tuple(linear.weight.shape):
                raise ValueError(f"adapter layer {name!r} does not fit this encoder's shapes")
            linear.weight += torch.from_numpy(delta)
    return len(names)
