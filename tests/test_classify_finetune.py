"""Fine-tuning the adapter and heads (analysis/classify/finetune.py), on a tiny 2-layer encoder
built in a fixture: what training computes is what inference computes, and the heads learn.

``fit_defaults`` runs this code for about 40 minutes on the real model (by hand, not in tests);
here it runs in seconds, so a change that made training features differ from the features the
pipeline hands the shipped heads (train/serve skew) fails a test instead of a refit.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from analysis.classify.sentences import split_sentences

pytest.importorskip("transformers")

# Toy reviews from the tiny vocabulary: complaints (problem reports, negative) and praise.
COMPLAINTS = ["the app crashes", "it is slow", "very bad app", "the login crashes",
              "sync is very slow", "it crashes . the price is bad", "bad sync", "slow login",
              "bad app😡😡"]
# The emoji (spelled out: the tiny vocabulary has none) check that training tokenises as
# inference does.
PRAISE = ["love the app", "great app", "it is very good", "love it . great sync",
          "the price is good", "good app", "great login", "very good sync", "love it 👍🏽"]


@pytest.fixture(scope="module")
def tiny_ref(tmp_path_factory: pytest.TempPathFactory):
    from analysis.classify.hub import ModelRef
    from tests.support.tiny_models import build_tiny_encoder

    folder = build_tiny_encoder(tmp_path_factory.mktemp("tiny2") / "enc", layers=2)
    return ModelRef(Path(folder), "tiny-2-layers")


def _fine_tune(ref):  # type: ignore[no-untyped-def]
    """The toy reviews (upper of two layers adapted) with an adapter and heads fine-tuned on
    them; returns (texts, sentences, cache, adapter, heads, model, targets, sentiment)."""
    from analysis.classify.finetune import finetune

    texts = COMPLAINTS + PRAISE
    cache, y, sentiment, _ = _reviews_and_examples(ref, [])
    adapter, heads, model = finetune(cache, range(len(texts)), {"problem_report": y},
                                     sentiment, epochs=40, lr=2e-2, batch_size=8)
    return texts, [split_sentences(t) for t in texts], cache, adapter, heads, model, y, sentiment


def _both_ways(ref, trained):  # type: ignore[no-untyped-def]
    """The features of the fine-tuned texts as training computes them (cached lower layers +
    adapted upper ones) and as the pipeline's encoder does with the saved adapter merged in."""
    from analysis.classify.encoder import TransformerEncoder
    from analysis.classify.features import encode_features

    texts, sentences, cache, adapter, _, model, _, _ = trained
    got = cache.embed(model, list(range(len(texts))))
    encoder = TransformerEncoder(ref, threads=1, batch_size=4, adapter=adapter)
    want, _ = encode_features(encoder, texts, sentences)
    assert got.shape == want.shape == (len(texts), 2 * encoder.dim)
    return got, want


@pytest.fixture(scope="module")
def trained(tiny_ref):
    return _fine_tune(tiny_ref)


def test_training_features_equal_the_inference_features(tiny_ref, trained) -> None:
    """The features the heads were trained on (cached lower layers + adapted upper layer) are the
    features the pipeline's encoder computes with the saved adapter merged in."""
    from analysis.classify.encoder import TransformerEncoder
    from analysis.classify.features import encode_features

    texts, sentences, _, adapter, _, _, _, _ = trained
    assert adapter
    assert all(k.startswith("encoder.layer.1.") for k in adapter), sorted(adapter)  # upper only
    got, want = _both_ways(tiny_ref, trained)
    assert np.allclose(got, want, atol=1e-4), np.abs(got - want).max()
    # And the adapter changed the model: without it the features differ.
    plain, _ = encode_features(TransformerEncoder(tiny_ref, threads=1, batch_size=4),
                               texts, sentences)
    assert not np.allclose(plain, want, atol=1e-3)


def test_heads_learn_the_training_labels(trained) -> None:
    texts, _, cache, _, heads, model, y, sentiment = trained
    x = cache.embed(model, list(range(len(texts))))
    it = heads["input_types"]
    assert it.labels == ("problem_report",)
    assert (it.decide(it.predict_proba(x))[:, 0] == y.astype(bool)).all()
    assert (heads["sentiment"].predict_proba(x).argmax(1) == sentiment).all()


def test_texts_longer_than_the_model_are_counted_when_cut(tiny_ref, caplog) -> None:
    from analysis.classify.finetune import LowerCache

    long = " ".join(["the app is very slow"] * 20)  # 100 tokens; the tiny model takes 64
    with caplog.at_level(logging.INFO, logger="analysis.classify.finetune"):
        cache = LowerCache(tiny_ref, [long, "great app"], first_layer=1, threads=1)
    assert cache.n_cut == 1
    assert cache.states[0].shape[0] == 64
    assert "1 text(s) longer" in caplog.text


def test_adapter_for_another_encoder_is_refused_by_name(trained, tmp_path: Path) -> None:
    """Heads fitted with an adapter for one encoder, pointed at another: a clear error naming
    the setting, not silently unadapted vectors."""
    from analysis.classify.encoder import TransformerEncoder
    from analysis.classify.hub import ModelLoadError, ModelRef
    from tests.support.tiny_models import build_tiny_encoder

    adapter = trained[3]
    one_layer = ModelRef(build_tiny_encoder(tmp_path / "enc1"), "tiny-1-layer")
    with pytest.raises(ModelLoadError, match=r"classification\.heads.*'tiny-1-layer'"):
        TransformerEncoder(one_layer, threads=1, adapter=adapter)


def test_mpnet_training_features_equal_the_inference_features(tmp_path: Path) -> None:
    """An MPNet encoder (``fit_defaults --encoder`` with all-mpnet-base-v2, say) fine-tunes too:
    its layers need the encoder's relative-position bias, which the cached lower layers and
    the adapted upper ones get as the model's own forward pass gives it, and its attention
    projections (attn.q/k/v/o) are adapted. Without the bias, training features would not be
    the features inference computes."""
    from analysis.classify.hub import ModelRef
    from tests.support.tiny_models import build_tiny_mpnet_encoder

    ref = ModelRef(build_tiny_mpnet_encoder(tmp_path / "mpnet", layers=2), "tiny-mpnet")
    trained = _fine_tune(ref)
    adapter, heads, y = trained[3], trained[4], trained[6]
    adapted = {k.rsplit(".", 1)[0] for k in adapter}
    assert {"encoder.layer.1.attention.attn.q", "encoder.layer.1.attention.attn.o",
            "encoder.layer.1.output.dense"} <= adapted, sorted(adapted)
    assert all(k.startswith("encoder.layer.1.") for k in adapted), sorted(adapted)
    got, want = _both_ways(ref, trained)
    assert np.allclose(got, want, atol=1e-4), np.abs(got - want).max()
    it = heads["input_types"]
    assert (it.decide(it.predict_proba(got))[:, 0] == y.astype(bool)).all()


def test_encoders_the_adapter_cannot_train_are_refused(tiny_ref, tmp_path: Path) -> None:
    """An architecture without BERT- or MPNet-style layers, or no layer left to adapt: a clear
    error, not heads trained alone under the name of fine-tuning."""
    import torch
    from transformers import AutoModel, DistilBertConfig, DistilBertModel

    from analysis.classify.adapter import attach_lora
    from analysis.classify.finetune import LowerCache
    from analysis.classify.hub import ModelRef
    from tests.support.tiny_models import _tokenizer

    folder = tmp_path / "distil"
    _, n = _tokenizer(folder)
    torch.manual_seed(0)
    DistilBertModel(DistilBertConfig(vocab_size=n, dim=16, n_layers=1, n_heads=2, hidden_dim=32,
                                     max_position_embeddings=64)).save_pretrained(folder)
    with pytest.raises(ValueError, match=r"tiny-distil.*DistilBertModel.*--no-fine-tune"):
        LowerCache(ModelRef(folder, "tiny-distil"), ["great app"], threads=1)
    model = AutoModel.from_pretrained(str(tiny_ref.path))
    with pytest.raises(ValueError, match="no layer of this BertModel to adapt from layer 2"):
        attach_lora(model, first_layer=2)  # the tiny encoder has layers 0 and 1
    assert len(attach_lora(model, first_layer=1)) == 2 * 6  # A and B of six Linear layers


# Need example sentences from the tiny vocabulary, three needs (sync, pricing, account login).
NEED_EXAMPLES = {"sync": ["sync is slow", "bad sync", "great sync", "the sync crashes"],
                 "pricing": ["the price is bad", "the price is good", "good price",
                             "very bad price"],
                 "account_login": ["slow login", "great login", "the login crashes",
                                   "bad login"]}


def _need_separation(vectors: np.ndarray, owner: np.ndarray) -> float:
    """Mean cosine of sentences of the same need minus that of sentences of different needs."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sim = unit @ unit.T
    same = owner[:, None] == owner[None, :]
    off = ~np.eye(len(owner), dtype=bool)
    return float(sim[same & off].mean() - sim[~same].mean())


def _reviews_and_examples(tiny_ref, examples: list[str]):  # type: ignore[no-untyped-def]
    """A lower-layer cache of the toy reviews followed by ``examples``; returns (cache, review
    problem_report targets, review sentiment targets, the examples' rows in the cache)."""
    from analysis.classify.finetune import LowerCache

    reviews = COMPLAINTS + PRAISE
    texts = reviews + examples
    cache = LowerCache(tiny_ref, texts, [split_sentences(t) for t in texts], first_layer=1,
                       threads=1, batch_size=4)
    y = np.array([1.0] * len(COMPLAINTS) + [0.0] * len(PRAISE))
    sentiment = np.array([0] * len(COMPLAINTS) + [2] * len(PRAISE))
    return cache, y, sentiment, list(range(len(reviews), len(texts)))


def test_need_examples_learned_alongside_keep_needs_apart(tiny_ref) -> None:
    """``needs=`` (fit_defaults ``--needs-task``): the need example sentences are learned
    alongside the reviews, one batch per step, so the adapted vectors keep (here: pull) the needs
    apart instead of drifting towards the review labels only. The needs head used in training is
    dropped; the adapter is what changes."""
    from analysis.classify.finetune import ExampleTask, finetune

    needs = list(NEED_EXAMPLES)
    examples = [t for need in needs for t in NEED_EXAMPLES[need]]
    owner = np.repeat(np.arange(len(needs)), [len(NEED_EXAMPLES[n]) for n in needs])
    cache, y, sentiment, example_rows = _reviews_and_examples(tiny_ref, examples)
    reviews = COMPLAINTS + PRAISE
    targets = np.eye(len(needs), dtype=np.float32)[owner]
    runs = {}
    for name, extra in (("reviews only", None), ("with needs", ExampleTask(example_rows, targets))):
        adapter, heads, model = finetune(cache, range(len(reviews)), {"problem_report": y},
                                         sentiment, epochs=40, lr=2e-2, batch_size=8,
                                         needs=extra)
        x = cache.embed(model, example_rows)[:, : model.config.hidden_size]
        runs[name] = (adapter, _need_separation(x, owner))
        # The review heads still learn their labels either way.
        xr = cache.embed(model, list(range(len(reviews))))
        it = heads["input_types"]
        assert (it.decide(it.predict_proba(xr))[:, 0] == y.astype(bool)).all(), name
    plain, joint = runs["reviews only"], runs["with needs"]
    assert any(not np.allclose(plain[0][k], joint[0][k]) for k in plain[0])
    assert joint[1] > plain[1] + 0.05, (plain[1], joint[1])


def test_need_examples_task_rows_follow_the_reviews() -> None:
    """``fit_defaults --needs-task`` caches the need example sentences after the reviews; the
    task names their rows there and one target per default need (generic sentences: none)."""
    from analysis.classify.fit_defaults import need_examples_task
    from analysis.classify.taxonomy import DEFAULT_NEEDS
    from analysis.classify.training import needs_training_set

    texts, task = need_examples_task(100, ("en", "fr"))
    want_texts, want_labels = needs_training_set(DEFAULT_NEEDS, ("en", "fr"))
    assert texts == want_texts
    assert task.rows == list(range(100, 100 + len(texts)))
    assert task.needs.shape == (len(texts), len(DEFAULT_NEEDS))
    ids = [n.id for n in DEFAULT_NEEDS]
    assert [{ids[j] for j in np.flatnonzero(t)} for t in task.needs] == want_labels
    assert task.sentiment is None  # only with --example-sentiment


def test_need_examples_task_sentiment_is_the_written_polarity() -> None:
    """``--example-sentiment``: each example's written polarity becomes its sentiment target
    (negative 0, neutral 1, positive 2); a request or a mixed sentence has none (-1)."""
    from analysis.classify.fit_defaults import need_examples_task
    from analysis.classify.training import example_polarity

    languages = ("en", "fr", "nl", "ja", "es", "pt", "it", "ko")
    texts, task = need_examples_task(0, languages, sentiment_weight=0.5)
    written = example_polarity(languages)
    assert task.sentiment is not None
    assert len(task.sentiment) == len(texts)
    assert task.sentiment_weight == 0.5
    want = {"negative": 0, "neutral": 1, "positive": 2, "request": -1, "mixed": -1}
    assert [int(v) for v in task.sentiment] == [want[written[t]] for t in texts]
    assert written["The app crashes every time I open it."] == "negative"
    assert written["It has never crashed on me."] == "positive"
    # Every class is there, in every language.
    assert set(task.sentiment.tolist()) == {-1, 0, 1, 2}


# Sentences that name a need and say nothing of it: the reviews (complaints and praise) never
# teach "neutral".
NEUTRAL_EXAMPLES = {"sync": ["the sync", "a sync"], "pricing": ["the price", "a price"],
                    "account_login": ["the login", "a login"]}


def test_example_sentiment_teaches_the_sentiment_of_single_sentences(tiny_ref) -> None:
    """``ExampleTask.sentiment`` (fit_defaults ``--example-sentiment``): the review sentiment
    head also learns the examples' written polarity, and a sentence read alone at inference
    (the encoder with the adapter, ``[s, s]``) gets it; without it, sentences that only name a
    need are never read neutral, since no review taught that."""
    from analysis.classify.encoder import TransformerEncoder
    from analysis.classify.features import sentence_features
    from analysis.classify.finetune import ExampleTask, finetune

    needs = list(NEED_EXAMPLES)
    praise_or_blame = {"great sync": 2, "bad sync": 0, "the price is good": 2,
                       "very bad price": 0, "great login": 2, "bad login": 0}
    examples = [t for need in needs for t in (*NEED_EXAMPLES[need], *NEUTRAL_EXAMPLES[need])]
    owner = np.repeat(np.arange(len(needs)), [len(NEED_EXAMPLES[n]) + len(NEUTRAL_EXAMPLES[n])
                                              for n in needs])
    neutral = {t for ts in NEUTRAL_EXAMPLES.values() for t in ts}
    polarity = np.array([1 if t in neutral else praise_or_blame.get(t, -1) for t in examples])
    reviews = COMPLAINTS + PRAISE
    cache, y, sentiment, rows = _reviews_and_examples(tiny_ref, examples)
    targets = np.eye(len(needs), dtype=np.float32)[owner]
    read = {}
    for name, pol in (("needs only", None), ("with sentiment", polarity)):
        adapter, heads, _ = finetune(cache, range(len(reviews)), {"problem_report": y},
                                     sentiment, epochs=40, lr=2e-2, batch_size=8,
                                     needs=ExampleTask(rows, targets, pol))
        encoder = TransformerEncoder(tiny_ref, threads=1, batch_size=4, adapter=adapter)
        x = sentence_features(encoder.encode_sentences(examples))
        read[name] = heads["sentiment"].predict_proba(x).argmax(1)
    known = polarity >= 0
    is_neutral = polarity == 1
    assert not (read["needs only"][is_neutral] == 1).any(), read["needs only"]
    assert (read["with sentiment"][known] == polarity[known]).all(), read["with sentiment"]
