"""Sentence vectors pooled from one pass over the review (analysis/classify/span_pool.py and
BaseEncoder.encode_reviews), on a tiny encoder built in a fixture."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.classify.features import N_STAR_COLUMNS, star_columns
from analysis.classify.sentences import split_sentences
from analysis.classify.span_pool import chunk_bounds, sentence_spans, token_owners

pytest.importorskip("transformers")

_WORDS = st.sampled_from(["app", "crash", "great", "slow", "e.g.", "Fix", "pls", "😍", "!!!",
                          "sync,", "but", "5/5", "login.", "why?", "\n", "  "])


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, min_size=1, max_size=80), st.one_of(st.none(), st.text(max_size=20)))
def test_every_sentence_with_words_is_found_in_order(words: list[str], title: str | None) -> None:
    body = " ".join(words)
    full = f"{title.strip()}. {body}" if title and title.strip() else body
    sents = split_sentences(body, title)
    spans = sentence_spans(full, sents)
    assert len(spans) == len(sents)
    last = 0
    for sent, span in zip(sents, spans, strict=True):
        if not any(c.isalnum() or c == "_" for c in sent):
            continue
        assert span is not None, (full, sent)
        assert span[0] >= last
        last = span[1]
        located = full[span[0] : span[1]]
        assert re.findall(r"\w+", located)[: len(re.findall(r"\w+", sent))] == \
            re.findall(r"\w+", sent)


def test_spans_cover_title_body_and_glued_pieces() -> None:
    full = "Meh. Love it 😍 but it crashes.  Fix pls!!! thx"
    sents = split_sentences("Love it 😍 but it crashes.  Fix pls!!! thx", "Meh")
    spans = sentence_spans(full, sents)
    assert [full[a:b] for a, b in spans] == ["Meh.", "Love it 😍", "but it crashes.",
                                             "Fix pls!!!", "thx"]
    assert sentence_spans("abc", ["not there"]) == [None]
    assert sentence_spans("abc", ["😍"]) == [None]


def test_token_owners_and_chunks() -> None:
    offsets = [(0, 3), (4, 6), (6, 7), (8, 12), (13, 15)]
    owner = token_owners(offsets, [(0, 7), None, (8, 15)])
    assert owner.tolist() == [0, 0, 0, 2, 2]
    assert chunk_bounds(owner, 10) == [(0, 5)]
    # Cut at the sentence start (index 3), not in the middle of sentence 0.
    assert chunk_bounds(owner, 4) == [(0, 3), (3, 5)]
    # A sentence longer than the limit is cut inside itself.
    assert chunk_bounds(np.zeros(7, dtype=int), 3) == [(0, 3), (3, 6), (6, 7)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-1, 6), max_size=60), st.integers(1, 12))
def test_chunks_are_contiguous_and_within_the_limit(owner: list[int], limit: int) -> None:
    bounds = chunk_bounds(np.array(sorted(owner), dtype=int), limit)
    assert bounds[0][0] == 0
    assert bounds[-1][1] == len(owner)
    assert all((a < b <= a + limit) or not owner for a, b in bounds)
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(len(bounds) - 1))


def test_star_columns() -> None:
    cols = star_columns([1, 5, None, float("nan"), 0, 7, 3.4])
    assert cols.shape == (7, N_STAR_COLUMNS)
    assert cols.argmax(1).tolist() == [0, 4, 5, 5, 5, 5, 2]
    assert (cols.sum(1) == 1).all()


def test_review_vector_equals_the_plain_embedding(tiny_encoder) -> None:
    texts = ["the app is great. it crashes", "why slow", "please add sync! love it"]
    sents = [split_sentences(t) for t in texts]
    rev, sent = tiny_encoder.encode_reviews(texts, sents)
    plain = tiny_encoder.encode(texts)
    assert np.allclose(rev, plain, atol=1e-5)
    assert sent.shape == (sum(map(len, sents)), tiny_encoder.dim)
    assert np.allclose(np.linalg.norm(sent, axis=1), 1.0, atol=1e-5)
    # Sentences of one review differ from each other and from their review.
    assert not np.allclose(sent[0], sent[1], atol=1e-3)
    assert not np.allclose(sent[0], rev[0], atol=1e-3)


def test_sentence_vector_is_the_mean_of_its_own_tokens(tiny_encoder) -> None:
    text = "the app is great. it crashes"
    _, sent = tiny_encoder.encode_reviews([text], [["the app is great.", "it crashes"]])
    batch = tiny_encoder.tokenizer([text], return_tensors="np")
    hidden = tiny_encoder._hidden(batch["input_ids"], batch["attention_mask"])[0]
    # [CLS] the app is great . it crashes [SEP]: sentence 1 = positions 1-5, 2 = 6-7.
    for k, (a, b) in enumerate([(1, 6), (6, 8)]):
        want = hidden[a:b].mean(0)
        assert np.allclose(sent[k], want / np.linalg.norm(want), atol=1e-5)


def test_long_review_is_chunked_and_every_sentence_pooled(tiny_encoder) -> None:
    # The tiny tokenizer allows 64 positions; this review has ~160 tokens.
    sentences = [f"the app is very {w} ." for w in ("slow", "bad", "good", "great") * 8]
    text = " ".join(sentences)
    rev, sent = tiny_encoder.encode_reviews([text], [sentences])
    assert sent.shape[0] == len(sentences)
    assert tiny_encoder.span_fallbacks == 0
    # The same sentence text gets the same vector only by coincidence of context, but every
    # sentence is a proper unit vector and the review is not the mean of a truncated text.
    assert np.allclose(np.linalg.norm(sent, axis=1), 1.0, atol=1e-5)
    truncated = tiny_encoder.encode([text])
    assert not np.allclose(rev, truncated, atol=1e-3)


def test_batches_pad_on_the_right_whatever_the_tokenizer_says(tiny_encoder) -> None:
    texts = ["the app is great. it crashes", "why slow", "please add sync! love it", "ok"]
    sents = [split_sentences(t) for t in texts]
    want = tiny_encoder.encode_reviews(texts, sents)
    batches = list(tiny_encoder.padded_batches([[5, 6, 7], [8], [9, 10]]))
    idx, ids, mask = batches[0]
    assert idx.tolist() == [1, 2, 0]  # shortest first
    assert mask.tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    assert ids[0, 0] == 8
    assert ids[0, 1] == tiny_encoder.tokenizer.pad_token_id
    side = tiny_encoder.tokenizer.padding_side
    tiny_encoder.tokenizer.padding_side = "left"  # a model that pads left (some decoders do)
    try:
        tiny_encoder.clear_cache()
        got = tiny_encoder.encode_reviews(texts, sents)
    finally:
        tiny_encoder.tokenizer.padding_side = side
    assert np.allclose(got[0], want[0], atol=1e-6)
    assert np.allclose(got[1], want[1], atol=1e-6)


def test_unplaced_sentence_falls_back_to_the_review_and_is_counted(tiny_encoder) -> None:
    before = tiny_encoder.span_fallbacks
    rev, sent = tiny_encoder.encode_reviews(["great app"], [["great app", "not in the text"]])
    assert tiny_encoder.span_fallbacks == before + 1
    assert np.allclose(sent[1], rev[0])


def test_reviews_are_cached(tiny_encoder) -> None:
    texts, sents = ["love it. sync is slow"], [["love it.", "sync is slow"]]
    first = tiny_encoder.encode_reviews(texts, sents)
    runs = tiny_encoder.encoded
    again = tiny_encoder.encode_reviews(texts * 3, sents * 3)
    assert tiny_encoder.encoded == runs
    assert np.allclose(again[0], np.repeat(first[0], 3, axis=0))
    assert np.allclose(again[1], np.tile(first[1], (3, 1)))
    with pytest.raises(ValueError, match="sentence lists"):
        tiny_encoder.encode_reviews(texts, [])


def test_sentences_without_spaces_between_them_get_their_own_spans() -> None:
    """Japanese text: each sentence's span stops where the next sentence's words start (it used
    to grow to the next space, so the first sentence swallowed the whole review)."""
    text = "アプリが起動しません。アップデート後から毎回落ちます！！早く直して（笑）"
    sents = split_sentences(text)
    spans = sentence_spans(text, sents)
    assert [text[a:b] for a, b in spans] == sents  # type: ignore[misc]
    # In spaced text the span still takes the punctuation and emoji glued to the words.
    assert sentence_spans("Nice!!! 😍 (really)", ["Nice!!!", "😍 (really)"]) == [(0, 7), (10, 18)]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_in_bounds_ordered_spans(text: str) -> None:
    """Arbitrary text (CJK, RTL, zero-width joiners, control characters): every sentence gets
    a span inside the text or None, spans never go backwards, and owners index real sentences."""
    sents = split_sentences(text) or [text]
    spans = sentence_spans(text, sents)
    assert len(spans) == len(sents)
    last = 0
    for span in spans:
        if span is None:
            continue
        assert 0 <= span[0] <= span[1] <= len(text)
        assert span[0] >= last
        last = span[1]
    offsets = [(i, i + 1) for i in range(len(text))]
    owner = token_owners(offsets, spans)
    assert owner.max(initial=-1) < len(sents)


def test_texts_embedded_alone_in_the_reviews_batches_get_their_own_vectors(tiny_encoder) -> None:
    """encode_features_and_alone: the reviews' features and sentence vectors are those of
    encode_features, and each text read alone gets the vector encode_sentences gives it (the
    pipeline's clauses ride in the reviews' batches)."""
    from analysis.classify.features import encode_features, encode_features_and_alone

    texts = ["Great app. But sync fails every night", "Login is slow, support never answers",
             "ok"]
    sentences = [split_sentences(t, None) for t in texts]
    alone = ["sync fails every night", "support never answers", "Great app"]
    tiny_encoder.clear_cache()
    want_x, want_sent = encode_features(tiny_encoder, texts, sentences)
    want_alone = tiny_encoder.encode_sentences(alone)
    tiny_encoder.clear_cache()
    x, sent, got_alone = encode_features_and_alone(tiny_encoder, texts, sentences, alone)
    assert got_alone.shape == (len(alone), tiny_encoder.dim)
    assert np.allclose(x, want_x, atol=1e-5)
    assert np.allclose(sent, want_sent, atol=1e-5)
    assert np.allclose(got_alone, want_alone, atol=1e-5)
    # Read alone, "Great app" is not the review's first sentence pooled in context.
    assert not np.allclose(got_alone[2], sent[0], atol=1e-3)
