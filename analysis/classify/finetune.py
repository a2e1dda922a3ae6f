"""Multi-task fine-tuning of a LoRA adapter on the top encoder layers plus linear heads.

Stage: classify (training; run by :mod:`analysis.classify.fit_defaults`). In: review texts,
binary targets (NaN = unknown) and 3-class sentiment targets (-1 = unknown). Out: adapter arrays
and :class:`~analysis.classify.heads.LinearHead` objects acting on the adapted encoder's review
embedding.

Only the top ``len(layers) - first_layer`` layers are adapted. The frozen lower layers are run
once per text and their outputs cached (:class:`LowerCache`), so each training step runs only the
adapted layers: about 2-3x cheaper on CPU than adapting every layer, and the cache is shared by
the leave-one-app-out folds. The heads see the L2-normalised mean-pooled embedding times a fixed
scale (a cosine classifier), so they work unchanged on the embeddings the pipeline computes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np

from analysis.classify.adapter import attach_lora, lora_arrays
from analysis.classify.emoji_text import spells_emoji, tokenize_with_offsets
from analysis.classify.encoder import max_tokens, special_affixes
from analysis.classify.features import N_STAR_COLUMNS
from analysis.classify.heads import SENTIMENT_LABELS, LinearHead
from analysis.classify.hub import ModelRef, set_offline_env
from analysis.classify.span_pool import sentence_spans, token_owners

log = logging.getLogger(__name__)

SCALE = 20.0
"""Logit scale on unit-length embeddings (cosine-classifier style)."""
FIRST_LAYER = 2
"""all-MiniLM-L6-v2 has 6 layers: adapt the top four (2-5), cache the output of layers 0-1."""


def run_layers(model: Any, layers: Sequence[Any], hidden: Any, mask: Any) -> Any:
    """``hidden`` (batch x tokens x width) through encoder ``layers`` of ``model`` in turn, as
    the model's own encoder runs them; returns the last hidden states.

    ``mask`` is the attention mask in the model's form (:meth:`LowerCache._mask`). MPNet-style
    encoders add a relative-position bias to every layer's attention scores, computed once from
    the sequence length by the encoder; BERT-style ones take none. Layers return a tensor or,
    in some architectures, a tuple whose first item is it.
    """
    position_bias = getattr(model.encoder, "compute_position_bias", None)
    extra = {} if position_bias is None else {"position_bias": position_bias(hidden)}
    for layer in layers:
        out = layer(hidden, attention_mask=mask, **extra)
        hidden = out[0] if isinstance(out, tuple) else out
    return hidden


class LowerCache:
    """Outputs of the frozen lower layers for a list of texts (computed once), with the
    sentence each token belongs to (for the sentence max-pool the heads read).

    Args:
        ref: the encoder (transformers folder).
        texts: review texts; ``sentences``: each text's sentences (default: the whole text).
        first_layer: layers below it are frozen and cached; the adapter trains the rest.
        max_length: positions per text (default: the inference limit,
            :func:`~analysis.classify.encoder.max_tokens`). Longer texts keep their first
            tokens (inference reads them in chunks); ``n_cut`` counts them.
        threads, batch_size: torch threads and texts per forward pass.
        spell_emoji: as :class:`~analysis.classify.encoder.BaseEncoder` (None: when the
            vocabulary lacks emoji, as at inference).

    Raises:
        ValueError: the model's layers are not in ``encoder.layer`` (not a BERT- or
            MPNet-style encoder), so there is nothing this adapter can train.
    """

    def __init__(self, ref: ModelRef, texts: Sequence[str],
                 sentences: Sequence[Sequence[str]] | None = None, *,
                 first_layer: int = FIRST_LAYER, max_length: int | None = None, threads: int = 0,
                 batch_size: int = 32, spell_emoji: bool | None = None) -> None:
        set_offline_env()
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(threads or os.cpu_count() or 1)
        self.torch = torch
        self.ref, self.first_layer = ref, first_layer
        tok = AutoTokenizer.from_pretrained(str(ref.path))
        self.model = AutoModel.from_pretrained(str(ref.path), attn_implementation="eager").eval()
        if not hasattr(getattr(self.model, "encoder", None), "layer"):
            raise ValueError(f"fine-tuning {ref.id}: it is a {type(self.model).__name__}, and the "
                             "adapter is trained on BERT- or MPNet-style encoders only (layers "
                             "in encoder.layer); fit heads on its frozen vectors instead "
                             "(--no-fine-tune)")
        sentences = sentences if sentences is not None else [[t] for t in texts]
        # Tokenised as at inference (emoji the vocabulary lacks spelled out, offsets kept).
        tok_ids, tok_offs = tokenize_with_offsets(tok, list(texts),
                                                  spell=spells_emoji(tok, spell_emoji))
        # The same special tokens the inference encoder wraps each chunk in.
        prefix, suffix = special_affixes(tok)
        # Positions as at inference (the model's own limit when it is under MAX_TOKENS).
        keep = (max_length or max_tokens(tok)) - len(prefix) - len(suffix)
        ids: list[list[int]] = []
        self.owners: list[Any] = []
        self.n_sents = [len(x) for x in sentences]
        # Inference reads a long review in chunks; training keeps only its first ``keep`` tokens
        # (simpler batching). Say how many texts that cuts (minibar-en: 2 of 6,000).
        self.n_cut = sum(len(c) > keep for c in tok_ids)
        if self.n_cut:
            log.info("fine-tuning reads the first %d tokens of %d text(s) longer than that",
                     keep, self.n_cut)
        for text, sents, content, offs in zip(texts, sentences, tok_ids, tok_offs, strict=True):
            owner = token_owners(offs[:keep], sentence_spans(text, sents))
            ids.append([*prefix, *content[:keep], *suffix])
            self.owners.append(torch.from_numpy(np.concatenate(
                [np.full(len(prefix), -1), owner, np.full(len(suffix), -1)])))
        self.states: list[Any] = [None] * len(ids)
        order = np.argsort([len(x) for x in ids])
        with torch.inference_mode():
            for start in range(0, len(ids), batch_size):
                idx = order[start : start + batch_size]
                batch = tok.pad({"input_ids": [ids[i] for i in idx]}, return_tensors="pt")
                h = self.model.embeddings(input_ids=batch["input_ids"],
                                          token_type_ids=torch.zeros_like(batch["input_ids"]))
                mask4 = self._mask(batch["attention_mask"], h)
                h = run_layers(self.model, self.model.encoder.layer[:first_layer], h, mask4)
                for j, i in enumerate(idx):
                    self.states[i] = h[j, : len(ids[i])].clone()

    def _mask(self, mask: Any, hidden: Any) -> Any:
        """The 2-D padding ``mask`` (batch x tokens) in the form the model's attention
        implementation wants, for ``hidden`` (batch x tokens x width); ``None`` when no token
        is padding.

        ``transformers.masking_utils`` is the public helper every encoder model calls itself;
        the models' own ``_create_attention_masks`` is private and changed its arguments in
        transformers 5.24 (``past_key_values`` became ``cache``)."""
        from transformers.masking_utils import create_bidirectional_mask

        return create_bidirectional_mask(config=self.model.config, inputs_embeds=hidden,
                                         attention_mask=mask)

    def upper(self, model: Any, idx: Sequence[int]) -> Any:
        """``[review, max over sentences]`` (each part unit length) from ``model``'s upper layers
        for texts ``idx``: the features :func:`analysis.classify.features.review_features`
        builds from :meth:`~analysis.classify.encoder.BaseEncoder.encode_reviews`."""
        torch = self.torch
        f = torch.nn.functional
        seqs = [self.states[i] for i in idx]
        n = max(s.shape[0] for s in seqs)
        h = torch.zeros(len(seqs), n, seqs[0].shape[1])
        mask = torch.zeros(len(seqs), n, dtype=torch.long)
        for j, s in enumerate(seqs):
            h[j, : s.shape[0]] = s
            mask[j, : s.shape[0]] = 1
        h = run_layers(model, model.encoder.layer[self.first_layer :], h, self._mask(mask, h))
        m = mask.unsqueeze(-1).float()
        review = f.normalize((h * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=1)
        maxes = []
        for j, i in enumerate(idx):
            owner = self.owners[i]
            onehot = (owner[None, :] == torch.arange(self.n_sents[i])[:, None]).float()
            found = onehot.sum(1) > 0
            pooled = f.normalize((onehot @ h[j, : owner.shape[0]])[found], dim=1)
            if not bool(found.all()):  # as at inference: an unplaced sentence counts as the review
                pooled = torch.cat([pooled, review[j : j + 1]])
            maxes.append(pooled.max(0).values)
        return torch.cat([review, torch.stack(maxes)], dim=1)

    def embed(self, model: Any, idx: Sequence[int], batch_size: int = 64) -> np.ndarray:
        """Features of texts ``idx`` through ``model``'s upper layers (eval mode)."""
        torch = self.torch
        model.eval()
        order = sorted(idx, key=lambda i: self.states[i].shape[0])
        out = {}
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                for i, v in zip(chunk, self.upper(model, chunk).numpy(), strict=True):
                    out[i] = v
        return np.stack([out[i] for i in idx]).astype(np.float32)


@attrs.frozen
class ExampleTask:
    """Example sentences learned alongside the reviews, one batch of them per training step
    (``fit_defaults --needs-task``)."""

    rows: Sequence[int]
    """Their rows in the :class:`LowerCache`."""
    needs: np.ndarray
    """0/1 targets, sentences x needs, learned by a needs head that is then dropped. The
    adapter learns from reviews in one language; the examples, in several, keep the needs apart
    in every language (the needs head is refitted on the adapted vectors)."""
    sentiment: np.ndarray | None = None
    """0/1/2 per sentence (-1 unknown), learned by the review sentiment head itself
    (``--example-sentiment``). Stars teach the polarity of whole reviews; these teach it for a
    single sentence or clause, which is what a mention's sentiment is read from."""
    sentiment_weight: float = 1.0
    """How much the examples' sentiment loss counts against the reviews' (1: the same)."""


def finetune(
    cache: LowerCache,
    train_idx: Sequence[int],
    binary: dict[str, np.ndarray],
    sentiment: np.ndarray,
    stars: np.ndarray | None = None,
    *,
    epochs: int = 2,
    rank: int = 8,
    lr: float = 1e-3,
    batch_size: int = 32,
    seed: int = 0,
    star_dropout: float = 0.3,
    needs: ExampleTask | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, LinearHead], Any]:
    """Fine-tune an adapter on the upper layers and the heads jointly.

    Args:
        cache: lower-layer outputs of all texts.
        train_idx: which cached texts to train on.
        binary: label -> targets aligned with ``train_idx`` (0/1, NaN unknown).
        sentiment: targets aligned with ``train_idx`` (0/1/2, -1 unknown).
        stars: star ratings aligned with ``train_idx`` (1-5, NaN unknown) or None. When given,
            the binary (input-type) logits also read the star columns
            (:func:`analysis.classify.features.star_columns`); sentiment never does (it is
            what the stars would leak). ``star_dropout`` of the known ratings are hidden in
            each batch, so the heads still work on text without a rating.
        epochs, rank, lr, batch_size, seed: training settings (recorded by the caller).
        needs: example sentences learned alongside, one batch of them per step: their need
            targets always, their sentiment when given (see :class:`ExampleTask`).
        progress: called with a status line every 50 steps.

    Returns:
        (adapter arrays, {"sentiment": head, "input_types": head}, the adapted torch model).
        The heads read ``[review, sentmax]`` features, plus the star columns when ``stars``.
    """
    import copy

    from analysis.classify.features import star_columns

    torch = cache.torch
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = copy.deepcopy(cache.model)
    params = attach_lora(model, rank=rank, first_layer=cache.first_layer)
    labels = tuple(binary)
    width = 2 * model.config.hidden_size
    head = torch.nn.Linear(width, len(labels) + len(SENTIMENT_LABELS))
    star_head = torch.nn.Linear(N_STAR_COLUMNS, len(labels), bias=False)
    torch.nn.init.zeros_(star_head.weight)
    use_stars = stars is not None
    # The needs head reads the review half of the features (the mean-pooled sentence itself).
    need_head = (torch.nn.Linear(model.config.hidden_size, needs.needs.shape[1])
                 if needs is not None else None)
    ex_sent = (torch.tensor(needs.sentiment, dtype=torch.long)
               if needs is not None and needs.sentiment is not None else None)
    opt = torch.optim.AdamW([*params, *head.parameters(),
                             *(star_head.parameters() if use_stars else []),
                             *(need_head.parameters() if need_head is not None else [])],
                            lr=lr, weight_decay=0.01)
    y_bin = torch.tensor(np.stack([binary[k] for k in labels], axis=1), dtype=torch.float32)
    y_sent = torch.tensor(sentiment, dtype=torch.long)
    star_vals = np.asarray(stars, dtype=float) if use_stars else None
    train_idx = np.asarray(train_idx)
    n = len(train_idx)
    per_epoch = (n + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * per_epoch,
                                                pct_start=0.1)
    lengths = np.array([cache.states[i].shape[0] for i in train_idx])
    step, t0 = 0, time.time()
    for layer in model.encoder.layer[cache.first_layer :]:
        layer.train()  # dropout on in the adapted layers while training
    for _epoch in range(epochs):
        # Shuffled buckets of similar length: little padding, still random batches.
        order = rng.permutation(n)
        batches = []
        for c in range(0, n, batch_size * 20):
            chunk = order[c : c + batch_size * 20]
            chunk = chunk[np.argsort(lengths[chunk])]
            batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
        for b in rng.permutation(len(batches)):
            pos = batches[b]
            z = head(cache.upper(model, train_idx[pos].tolist()) * SCALE)
            zb = z[:, : len(labels)]
            if star_vals is not None:
                shown = star_vals[pos].copy()
                shown[rng.random(len(pos)) < star_dropout] = np.nan
                zb = zb + star_head(torch.from_numpy(star_columns(shown)))
            yb, ys = y_bin[pos], y_sent[pos]
            known = ~torch.isnan(yb)
            loss = z.sum() * 0
            if known.any():
                loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(
                    zb[known], yb[known])
            if (ys >= 0).any():
                loss = loss + torch.nn.functional.cross_entropy(
                    z[:, len(labels) :][ys >= 0], ys[ys >= 0])
            if needs is not None and need_head is not None:
                pick = rng.choice(len(needs.rows), size=batch_size, replace=False)
                feats = cache.upper(model, [needs.rows[i] for i in pick])
                zn = need_head(feats[:, : need_head.in_features] * SCALE)
                loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(
                    zn, torch.from_numpy(needs.needs[pick].astype(np.float32)))
                if ex_sent is not None:
                    # A one-sentence text's [review, sentmax] is what a sentence is read
                    # through at inference ([s, s]), so the review head learns it as is.
                    ye = ex_sent[pick]
                    if (ye >= 0).any():
                        ze = head(feats * SCALE)[:, len(labels) :]
                        loss = loss + needs.sentiment_weight * torch.nn.functional.cross_entropy(
                            ze[ye >= 0], ye[ye >= 0])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if progress and step % 50 == 0:
                progress(f"step {step}/{epochs * per_epoch} loss {loss.item():.3f} "
                         f"{time.time() - t0:.0f}s")
    model.eval()
    w = head.weight.detach().numpy().astype(np.float32) * SCALE
    bias = head.bias.detach().numpy().astype(np.float32)
    w_bin, w_sent = w[: len(labels)], w[len(labels) :]
    if use_stars:
        w_bin = np.hstack([w_bin, star_head.weight.detach().numpy().astype(np.float32)])
        w_sent = np.hstack([w_sent, np.zeros((len(SENTIMENT_LABELS), N_STAR_COLUMNS),
                                             dtype=np.float32)])
    heads = {
        "input_types": LinearHead(labels, "sigmoid", w_bin, bias[: len(labels)],
                                  thresholds=np.full(len(labels), 0.5, dtype=np.float32)),
        "sentiment": LinearHead(SENTIMENT_LABELS, "softmax", w_sent, bias[len(labels) :]),
    }
    return lora_arrays(model), heads, model
