"""Hugging Face paths: encoder / sentiment_model / needs_model from a folder or a hub id.

Tiny BERT models are built offline in fixtures; nothing is downloaded (a hub id that is not in
the local cache must be a clear error naming the model and the config key).
"""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from analysis.classify.hub import ModelLoadError, resolve_model
from analysis.config import validate_config
from tests.support.tiny_models import (
    build_tiny_classifier,
    build_tiny_encoder,
    build_tiny_heads,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("hub")
    enc = build_tiny_encoder(folder / "encoder")
    heads = build_tiny_heads(folder / "heads", resolve_model(str(enc), "x").id)
    sentiment = build_tiny_classifier(folder / "sentiment", ("NEGATIVE", "NEUTRAL", "POSITIVE"))
    nli = build_tiny_classifier(folder / "nli", ("contradiction", "neutral", "entailment"))
    stars = build_tiny_classifier(folder / "stars", tuple(f"{i} stars" for i in range(1, 6)))
    odd = build_tiny_classifier(folder / "odd", ("spam", "ham"))
    return {"folder": folder, "encoder": enc, "heads": heads, "sentiment": sentiment,
            "nli": nli, "stars": stars, "odd": odd}


def _cfg(tiny, **classification):
    return validate_config(
        {"products": [{"key": "a", "name": "A"}],
         "classification": {"encoder": str(tiny["encoder"]), "heads": str(tiny["heads"]),
                            **classification}},
        tiny["folder"] / "reviewgap.toml")


def test_sentiment_model_and_zero_shot_needs_model_from_folders(tiny) -> None:
    from analysis.classify.pipeline import build_classifier

    clf = build_classifier(_cfg(tiny, sentiment_model=str(tiny["sentiment"]),
                                needs_model=str(tiny["nli"]), need_threshold=0.0))
    assert "sentiment=sentiment@" in clf.model_version
    assert "zeroshot=nli@" in clf.model_version
    out = clf.classify(["the app is very bad", "great app, love it"])
    for o in out:
        assert o.status == "ok"
        assert o.sentiment in ("negative", "neutral", "positive")
        assert -1 <= o.sentiment_score <= 1
        # threshold 0: every need is reported, each with an entailment probability
        assert set(o.needs) == set(clf.taxonomy.ids)
        assert all(0 <= v <= 1 for v in o.needs.values())
    # Unset, the threshold of a zero-shot model is 0.5 whatever the heads' manifest says
    # (its scores are entailment probabilities, not the needs head's).
    unset = build_classifier(_cfg(tiny, needs_model=str(tiny["nli"])))
    assert (unset.need_threshold, unset.need_thresholds) == (0.5, {})


def test_star_labels_map_to_sentiment(tiny) -> None:
    from analysis.classify.hf_models import SentimentModel

    model = SentimentModel(resolve_model(str(tiny["stars"]), "classification.sentiment_model"))
    probs = model.predict_proba(["good app", "bad app"])
    assert probs.shape == (2, 3)
    assert probs.sum(axis=1) == pytest.approx([1.0, 1.0], abs=1e-5)


def test_model_with_unmappable_labels_is_an_error_naming_key(tiny) -> None:
    from analysis.classify.pipeline import build_classifier

    with pytest.raises(ModelLoadError, match=r"classification\.sentiment_model.*spam"):
        build_classifier(_cfg(tiny, sentiment_model=str(tiny["odd"])))
    with pytest.raises(ModelLoadError, match=r"classification\.needs_model.*entailment"):
        build_classifier(_cfg(tiny, needs_model=str(tiny["odd"])))


def test_hub_id_not_in_cache_is_an_error_naming_model_and_key(tiny, monkeypatch) -> None:
    from analysis.classify.pipeline import build_classifier

    monkeypatch.delenv("REVIEWGAP_HUB_DOWNLOAD", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tiny["folder"] / "empty-cache"))
    with pytest.raises(ModelLoadError) as err:
        build_classifier(_cfg(tiny, needs_model="nobody/no-such-nli-model"))
    assert "classification.needs_model" in str(err.value)
    assert "nobody/no-such-nli-model" in str(err.value)
    with pytest.raises(ModelLoadError, match=r"classification\.encoder.*nobody/enc"):
        resolve_model("nobody/enc", "classification.encoder")


def test_hub_id_in_local_cache_resolves_offline(tiny, monkeypatch) -> None:
    # Lay the tiny model out like a hub cache entry: models--org--name/snapshots/<commit>/.
    import shutil

    cache = tiny["folder"] / "hub-cache"
    snap = cache / "models--tiny--sentiment" / "snapshots" / ("c0ffee" + "0" * 34)
    shutil.copytree(tiny["sentiment"], snap, dirs_exist_ok=True)
    (cache / "models--tiny--sentiment" / "refs").mkdir(exist_ok=True)
    (cache / "models--tiny--sentiment" / "refs" / "main").write_text(snap.name)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    ref = resolve_model("tiny/sentiment", "classification.sentiment_model")
    assert ref.path == snap
    assert ref.id == "tiny/sentiment@c0ffee00"


def test_heads_for_another_encoder_are_refused(tiny) -> None:
    from analysis.classify.pipeline import build_classifier

    other = build_tiny_heads(tiny["folder"] / "other-heads", "some-other-encoder")
    with pytest.raises(ModelLoadError, match=r"classification\.heads"):
        build_classifier(_cfg(tiny, heads=str(other)))


def test_custom_needs_get_a_head_fitted_from_examples(tiny) -> None:
    from analysis.classify.pipeline import build_classifier

    cfg = validate_config(
        {"products": [{"key": "a", "name": "A"}],
         "classification": {"encoder": str(tiny["encoder"]), "heads": str(tiny["heads"])},
         "needs": {"disable": ["content"], "custom": [
             {"id": "check_deposit", "label": "Check deposit",
              "description": "depositing cheques", "examples": ["deposit fails", "sync add"]}]}},
        tiny["folder"] / "reviewgap.toml")
    clf = build_classifier(cfg)
    assert clf.taxonomy.ids[-1] == "check_deposit"
    assert "content" not in clf.taxonomy.ids
    (out,) = clf.classify(["please add sync"])
    assert set(out.need_scores) == set(clf.taxonomy.ids)
