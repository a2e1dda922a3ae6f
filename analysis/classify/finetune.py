"""Multi-task fine-tuning of a LoRA adapter plus linear heads on labelled reviews.

Stage: classify (training; run by :mod:`analysis.classify.fit_defaults` and ``reviewgap train
--fine-tune``). In: review texts, binary targets (NaN = unknown) and 3-class sentiment targets
(-1 = unknown). Out: adapter arrays and :class:`~analysis.classify.heads.LinearHead` objects that
act on the adapted encoder's review embedding.

The heads see the L2-normalised mean-pooled embedding times a fixed scale (a cosine classifier),
so the same head works unchanged on the embeddings the pipeline computes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import numpy as np

from analysis.classify.adapter import attach_lora, lora_arrays
from analysis.classify.heads import SENTIMENT_LABELS, LinearHead
from analysis.classify.hub import ModelRef, set_offline_env

log = logging.getLogger(__name__)
SCALE = 20.0
"""Logit scale on unit-length embeddings (cosine-classifier style)."""


def finetune(
    ref: ModelRef,
    texts: Sequence[str],
    binary: dict[str, np.ndarray],
    sentiment: np.ndarray,
    *,
    epochs: int = 2,
    rank: int = 8,
    lr: float = 5e-4,
    batch_size: int = 16,
    max_length: int = 128,
    seed: int = 0,
    threads: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, LinearHead]]:
    """Fine-tune a LoRA adapter and the heads jointly.

    Args:
        ref: the base encoder.
        texts: training texts.
        binary: label -> (n,) array of 0/1, NaN where the label is unknown for that text.
        sentiment: (n,) ints 0/1/2 (negative/neutral/positive), -1 where unknown.
        epochs, rank, lr, batch_size, max_length, seed: training settings (recorded in the
            manifest by the caller).
        threads: torch threads (0 = all cores).
        progress: called with a status line every 50 steps.

    Returns:
        (adapter arrays, {"sentiment": head, "input_types": head}) where ``input_types`` has one
        sigmoid row per key of ``binary``.
    """
    set_offline_env()
    import os

    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    tok = AutoTokenizer.from_pretrained(str(ref.path))
    model = AutoModel.from_pretrained(str(ref.path))
    model.train()  # dropout on while training the adapter
    params = attach_lora(model, rank=rank)
    labels = tuple(binary)
    head = torch.nn.Linear(model.config.hidden_size, len(labels) + len(SENTIMENT_LABELS))
    opt = torch.optim.AdamW([*params, *head.parameters()], lr=lr, weight_decay=0.01)
    y_bin = torch.tensor(np.stack([binary[k] for k in labels], axis=1), dtype=torch.float32)
    y_sent = torch.tensor(sentiment, dtype=torch.long)
    enc = tok(list(texts), truncation=True, max_length=max_length)["input_ids"]
    n = len(texts)
    steps_total = epochs * ((n + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps_total,
                                                pct_start=0.1)
    step, t0 = 0, time.time()
    for _epoch in range(epochs):
        # Batches of similar length (shuffled buckets): far less padding, same randomness.
        order = rng.permutation(n)
        chunks = [order[i : i + batch_size * 20] for i in range(0, n, batch_size * 20)]
        batches = []
        for chunk in chunks:
            chunk = chunk[np.argsort([len(enc[i]) for i in chunk])]
            batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
        for b in rng.permutation(len(batches)):
            idx = batches[b]
            batch = tok.pad({"input_ids": [enc[i] for i in idx]}, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            z = head(torch.nn.functional.normalize(pooled, dim=1) * SCALE)
            yb, ys = y_bin[idx], y_sent[idx]
            known = ~torch.isnan(yb)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                z[:, : len(labels)][known], yb[known]) if known.any() else z.sum() * 0
            if (ys >= 0).any():
                loss = loss + torch.nn.functional.cross_entropy(
                    z[:, len(labels) :][ys >= 0], ys[ys >= 0])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if progress and step % 50 == 0:
                progress(f"step {step}/{steps_total} loss {loss.item():.3f} "
                         f"{time.time() - t0:.0f}s")
    model.eval()
    w = head.weight.detach().numpy().astype(np.float32) * SCALE
    bias = head.bias.detach().numpy().astype(np.float32)
    heads = {
        "input_types": LinearHead(labels, "sigmoid", w[: len(labels)], bias[: len(labels)],
                                  thresholds=np.full(len(labels), 0.5, dtype=np.float32)),
        "sentiment": LinearHead(SENTIMENT_LABELS, "softmax", w[len(labels) :],
                                bias[len(labels) :]),
    }
    return lora_arrays(model), heads
