"""Emoji spelled out for encoders whose vocabulary lacks them (analysis/classify/emoji_text.py).

The default encoder's BERT vocabulary has no emoji, and its pre-tokenizer does not split at
them, so a word glued to an emoji ("💩Horrible💩", "love it😍") became one ``[UNK]`` and the word
was lost. These tests pin the spelling, the offsets back into the text as written (sentence
pooling and quotes use them) and that training and inference tokenise alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.classify.emoji_text import emoji_name, reads_emoji, spell_emoji, tokenize_with_offsets

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def minilm_tokenizer():
    """The bundled encoder's own tokenizer (no model weights are loaded)."""
    from transformers import AutoTokenizer

    from analysis.classify.hub import bundled_encoder

    return AutoTokenizer.from_pretrained(str(bundled_encoder().path))


def test_plain_text_is_left_alone() -> None:
    assert spell_emoji("Great app, 5/5 - works offline (mostly).") is None
    assert spell_emoji("Café crème à 3 €, naïve résumé") is None  # accents and currency are text


def test_names_drop_skin_tones_and_read_as_words() -> None:
    assert emoji_name("👍") == "thumbs up"
    assert emoji_name("👍🏽") == "thumbs up"
    assert emoji_name("👍🏿") == "thumbs up"
    assert emoji_name("😡") == "enraged face"
    assert emoji_name("❤️") == "red heart"


def test_spelled_text_and_offsets_point_back_at_what_was_written() -> None:
    text = "💩Horrible💩 app 👍🏽👍🏽👍🏽 ok😡❤️"
    spelled, start, end = spell_emoji(text)
    assert len(start) == len(end) == len(spelled)
    # A glued word is freed; a run of one emoji is one name; different emoji get one each.
    assert spelled.split() == ["pile", "of", "poo", "Horrible", "pile", "of", "poo", "app",
                               "thumbs", "up", "ok", "enraged", "face", "red", "heart"]
    for j, ch in enumerate(spelled):
        a, b = start[j], end[j]
        assert 0 <= a < b <= len(text)
        if b - a == 1 and text[a] == ch:
            continue  # a character copied as it is
        assert spell_emoji(text[a:b]) is not None  # a name's characters stand for its emoji
    run = spelled.index("thumbs")
    assert text[start[run] : end[run]] == "👍🏽👍🏽👍🏽"


def test_minilm_cannot_read_emoji_and_lost_glued_words_before(minilm_tokenizer) -> None:
    tok = minilm_tokenizer
    assert not reads_emoji(tok)
    assert tok.tokenize("💩Horrible💩") == ["[UNK]"]  # why: the word vanished with its emoji
    ids, offsets = tokenize_with_offsets(tok, ["💩Horrible💩", "love it😍😍 great"], spell=True)
    first = tok.convert_ids_to_tokens(ids[0])
    assert "horrible" in first
    assert "[UNK]" not in first
    text = "love it😍😍 great"
    pieces = [text[a:b] for a, b in offsets[1]]
    tokens = tok.convert_ids_to_tokens(ids[1])
    assert tokens[:2] == ["love", "it"]
    assert tokens[-1] == "great"
    assert pieces[:2] == ["love", "it"]
    assert pieces[-1] == "great"
    # Every token of the name points at the emoji run it spells.
    assert set(pieces[2:-1]) == {"😍😍"}
    assert "smiling" in tokens
    assert "heart" in tokens


def test_without_spelling_offsets_are_the_tokenizers_own(minilm_tokenizer) -> None:
    text = "love it😍 great"
    ids, offsets = tokenize_with_offsets(minilm_tokenizer, [text], spell=False)
    enc = minilm_tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    assert ids[0] == enc["input_ids"]
    assert offsets[0] == [tuple(o) for o in enc["offset_mapping"]]


def test_a_vocabulary_with_emoji_is_left_alone(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "great": 1, "👍": 2}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    assert reads_emoji(fast)


def test_encoder_locates_every_sentence_of_a_review_with_emoji(tmp_path: Path) -> None:
    from analysis.classify.encoder import TransformerEncoder
    from analysis.classify.hub import ModelRef
    from analysis.classify.sentences import split_sentences
    from tests.support.tiny_models import build_tiny_encoder

    enc = TransformerEncoder(ModelRef(build_tiny_encoder(tmp_path / "enc"), "tiny"), threads=1)
    assert enc.spells_emoji  # the tiny word vocabulary has no emoji
    texts = ["love the app😍😍. it crashes 😡 very bad 👎🏻", "great app 👍"]
    sents = [split_sentences(t) for t in texts]
    assert all(len(s) >= 1 for s in sents)
    rev, sent = enc.encode_reviews(texts, sents)
    assert enc.span_fallbacks == 0
    assert np.allclose(np.linalg.norm(sent, axis=1), 1.0, atol=1e-5)
    # The review vector is still the plain embedding of the same (spelled) text.
    assert np.allclose(rev, enc.encode(texts), atol=1e-5)


@pytest.mark.ml
def test_the_shipped_classifier_reads_a_word_glued_to_emoji() -> None:
    from analysis.classify.pipeline import build_classifier

    clf = build_classifier(None)
    assert clf.encoder.spells_emoji
    assert clf.model_version.endswith("/emoji1")
    bad, good = clf.classify(["💩Horrible💩", "Love it😍😍"])
    assert (bad.sentiment, good.sentiment) == ("negative", "positive"), (bad, good)
    assert bad.sentences[0].text == "💩Horrible💩"  # quotes keep the text as written


def test_training_can_read_emoji_as_unknown_like_the_shipped_heads(tmp_path: Path) -> None:
    """``spell_emoji=False`` (``fit_defaults --emoji unknown``) tokenises as before emoji were
    spelled, in the encoder and in fine-tuning's cache alike."""
    from analysis.classify.encoder import TransformerEncoder
    from analysis.classify.finetune import LowerCache
    from analysis.classify.hub import ModelRef
    from tests.support.tiny_models import build_tiny_encoder

    ref = ModelRef(build_tiny_encoder(tmp_path / "enc"), "tiny")
    texts = ["great app👍", "it crashes 😡😡"]
    spelled = TransformerEncoder(ref, threads=1)
    unknown = TransformerEncoder(ref, threads=1, spell_emoji=False)
    assert spelled.spells_emoji
    assert not unknown.spells_emoji
    plain = unknown.tokenizer(texts, add_special_tokens=False)["input_ids"]
    assert tokenize_with_offsets(unknown.tokenizer, texts, spell=False)[0] == plain
    assert not np.allclose(spelled.encode(texts), unknown.encode(texts), atol=1e-3)
    names = tokenize_with_offsets(unknown.tokenizer, texts, spell=True)[0]
    assert [len(x) for x in names] != [len(x) for x in plain]  # the two readings differ here
    for spell, want in ((None, names), (False, plain)):
        cache = LowerCache(ref, texts, first_layer=1, threads=1, spell_emoji=spell)
        assert [len(s) - 2 for s in cache.states] == [len(w) for w in want]  # [CLS] .. [SEP]


@pytest.mark.ml
def test_shipped_heads_record_how_they_read_emoji_and_their_needs_head_refits(
        tmp_path: Path) -> None:
    """The default heads were fitted with emoji as unknown tokens (before emoji_text); the
    manifest says so, its command carries ``--emoji unknown``, and the needs refit reads the
    examples the same way and reproduces the shipped needs head."""
    import shlex
    import shutil

    from analysis.classify import fit_defaults
    from analysis.classify.heads import DEFAULT_HEADS_DIR, HeadSet

    shipped = HeadSet.load(DEFAULT_HEADS_DIR)
    assert shipped.manifest["training"]["emoji"] == "unknown"
    argv = shlex.split(shipped.manifest["command"])[3:]
    assert argv[argv.index("--emoji") + 1] == "unknown"
    for app in ("garmin_connect", "huawei_health", "samsung_health"):
        assert HeadSet.load(DEFAULT_HEADS_DIR / "holdout" / app).manifest["emoji"] == "unknown"
    out = shutil.copytree(DEFAULT_HEADS_DIR, tmp_path / "heads")
    assert fit_defaults.main(["--needs-only", "--out", str(out), "--threads", "1"]) == 0
    again = HeadSet.load(out)
    assert again.heads["needs"].labels == shipped.heads["needs"].labels
    assert np.allclose(again.heads["needs"].coef, shipped.heads["needs"].coef, atol=1e-4)
    assert np.allclose(again.heads["needs"].intercept, shipped.heads["needs"].intercept,
                       atol=1e-4)
    # Not the digest: it hashes the float32 bytes, and the refit's last bits follow the CPU (an
    # AVX-512 Xeon and an AVX2 EPYC give the same head to 1e-6 but different digests).
    for name in ("sentiment", "input_types"):
        assert np.array_equal(again.heads[name].coef, shipped.heads[name].coef)
    assert sorted(again.adapter) == sorted(shipped.adapter)
    for key, arr in shipped.adapter.items():
        assert np.array_equal(again.adapter[key], arr), key
