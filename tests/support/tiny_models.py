"""Tiny transformers models built offline, for plumbing tests (no download, < 1 s each).

A ``tokenizers`` WordLevel vocabulary wrapped in ``PreTrainedTokenizerFast`` plus a 1-layer BERT
with hidden size 16, saved with ``save_pretrained``: a folder that ``AutoModel``, the
``text-classification`` and the ``zero-shot-classification`` pipelines load like a hub model.
Also random heads that fit the tiny encoder, so the whole classifier runs on it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WORDS = ("app", "crash", "crashes", "great", "love", "slow", "price", "please", "add", "sync",
         "login", "is", "the", "it", "a", "very", "bad", "good", "why", "how")


SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _tokenizer(folder: Path, specials: tuple[str, ...] = SPECIALS):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate([*specials, *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                   model_max_length=64)
    fast.save_pretrained(folder)
    return fast, len(vocab)


def _config(vocab_size: int, id2label: dict[int, str] | None = None,  # type: ignore[no-untyped-def]
            layers: int = 1):
    from transformers import BertConfig

    kwargs = {"id2label": id2label, "label2id": {v: k for k, v in id2label.items()}} \
        if id2label else {}
    return BertConfig(vocab_size=vocab_size, hidden_size=16, num_hidden_layers=layers,
                      num_attention_heads=2, intermediate_size=32, max_position_embeddings=64,
                      **kwargs)


def build_tiny_encoder(folder: Path, layers: int = 1) -> Path:
    """A BERT encoder folder (AutoModel) with ``layers`` layers (fine-tuning tests adapt the
    upper one of two)."""
    import torch
    from transformers import BertModel

    torch.manual_seed(0)
    _, n = _tokenizer(folder)
    BertModel(_config(n, layers=layers)).save_pretrained(folder)
    return folder


def build_tiny_mpnet_encoder(folder: Path, layers: int = 2) -> Path:
    """An MPNet encoder folder (AutoModel): relative-position bias in every layer's attention
    and attention projections named attn.q/k/v/o, unlike BERT. Padding is token 1, as MPNet's
    embeddings assume when they number positions."""
    import torch
    from transformers import MPNetConfig, MPNetModel

    torch.manual_seed(0)
    _, n = _tokenizer(folder, ("[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"))
    model = MPNetModel(MPNetConfig(vocab_size=n, hidden_size=16, num_hidden_layers=layers,
                                   num_attention_heads=2, intermediate_size=32,
                                   max_position_embeddings=66, pad_token_id=1))
    with torch.no_grad():  # a bias as large as a trained model's, so leaving it out shows
        model.encoder.relative_attention_bias.weight.normal_(0.0, 2.0)
    model.save_pretrained(folder)
    return folder


def build_tiny_classifier(folder: Path, labels: tuple[str, ...]) -> Path:
    """A 1-layer BERT sequence classifier with the given labels."""
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    _, n = _tokenizer(folder)
    BertForSequenceClassification(_config(n, dict(enumerate(labels)))).save_pretrained(folder)
    return folder


def build_tiny_heads(folder: Path, encoder_id: str, dim: int = 16, seed: int = 0) -> Path:
    """Random heads of the right shapes for an encoder of width ``dim``."""
    from analysis.classify.features import FEATURES
    from analysis.classify.heads import INPUT_TYPES, SENTIMENT_LABELS, HeadSet, LinearHead
    from analysis.classify.taxonomy import DEFAULT_NEEDS

    rng = np.random.default_rng(seed)

    def head(labels: tuple[str, ...], kind: str, width: int) -> LinearHead:
        return LinearHead(labels, kind, rng.normal(0, 3, (len(labels), width)).astype(np.float32),
                          rng.normal(0, 0.5, len(labels)).astype(np.float32),
                          thresholds=np.full(len(labels), 0.5, np.float32)
                          if kind == "sigmoid" else None)

    heads = {
        "sentiment": head(SENTIMENT_LABELS, "softmax", 2 * dim),
        "input_types": head(INPUT_TYPES, "sigmoid", 2 * dim),
        "needs": head(tuple(n.id for n in DEFAULT_NEEDS), "sigmoid", dim),
    }
    HeadSet(heads, {"encoder": encoder_id, "features": FEATURES, "note": "random test heads"}
            ).save(folder)
    return folder


def build_tiny_project(folder: Path) -> tuple[Path, Path, Path]:
    """A tiny encoder and heads fitted to it under ``folder``: ``(folder, encoder, heads)``,
    what :func:`tiny_config` takes."""
    from analysis.classify.hub import resolve_model

    encoder = build_tiny_encoder(folder / "encoder")
    heads = build_tiny_heads(folder / "heads", resolve_model(str(encoder), "x").id)
    return folder, encoder, heads


def tiny_config(tiny: tuple[Path, Path, Path], **classification: object):  # type: ignore[no-untyped-def]
    """A validated one-product config classifying with the tiny project of
    :func:`build_tiny_project` (workspace ``<folder>/ws``), plus ``classification`` options."""
    from analysis.config import validate_config

    folder, encoder, heads = tiny
    return validate_config(
        {"products": [{"key": "a", "name": "A"}], "project": {"workspace": str(folder / "ws")},
         "classification": {"encoder": str(encoder), "heads": str(heads), **classification}},
        folder / "reviewgap.toml")
