"""Theme discovery (clustering + c-TF-IDF labels) and the ONNX int8 encoder path (tiny model)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("transformers")

from analysis.classify.themes import class_tfidf_words, cluster_sentences
from analysis.store import ReviewStore
from tests.support.tiny_models import build_tiny_project, tiny_config


def test_class_tfidf_picks_words_that_set_a_cluster_apart() -> None:
    words = class_tfidf_words([
        ["the battery drains fast", "battery drain overnight is bad", "huge battery drain"],
        ["login fails with my password", "password reset login loop", "cannot login"],
    ])
    assert words[0][0] in ("battery", "battery drain", "drain")
    assert words[1][0] in ("login", "password")
    assert "battery" not in words[1]


def test_cluster_sentences_drops_small_and_incoherent_groups() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:2]
    a = centres[0] + rng.normal(0, 0.05, (20, 8))
    b = centres[1] + rng.normal(0, 0.05, (20, 8))
    noise = rng.normal(0, 1, (3, 8))
    vecs = np.vstack([a, b, noise])
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    labels, sim = cluster_sentences(vecs, min_size=5, max_themes=3)
    assert len(set(labels[:20])) == 1
    assert len(set(labels[20:40])) == 1
    assert labels[0] != labels[20]
    assert labels[0] >= 0
    assert sim.shape == (43,)
    few, _ = cluster_sentences(vecs[:6], min_size=5)
    assert (few == -1).all()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    return build_tiny_project(tmp_path_factory.mktemp("tiny-themes"))


def test_discover_themes_writes_themes_and_replaces_their_mentions(tiny, tmp_path) -> None:
    from analysis.classify.pipeline import build_classifier, classify_pending
    from analysis.classify.themes import discover_themes

    clf = build_classifier(tiny_config(tiny, need_threshold=1.0))  # no need matches: all unmatched
    words = ["app", "crash", "great", "slow", "price", "sync", "login", "bad", "good", "add"]
    rng = np.random.default_rng(0)
    store = ReviewStore(tmp_path / "s.sqlite")
    store.upsert_reviews([
        {"source": "import", "review_id": str(i), "product": "a",
         "text": " ".join(rng.choice(words, 7)) + ". " + " ".join(rng.choice(words, 6)) + "."}
        for i in range(60)])
    counts = classify_pending(store, clf, progress=False)
    assert counts["classified"] == 60
    assert counts["themes"] >= 1
    themes = store.themes_frame(clf.model_version)
    mentions = store.mentions_frame(clf.model_version)
    theme_rows = mentions[mentions["need"].str.startswith("theme:")]
    assert set(theme_rows["need"]) == set(themes["theme_id"])
    for _, t in themes.iterrows():
        assert t["size"] == (theme_rows["need"] == t["theme_id"]).sum() >= 5
        assert t["label"]
        assert t["words_json"] != "[]"
    again = discover_themes(store, clf)
    mentions2 = store.mentions_frame(clf.model_version)
    assert len(mentions2) == sum(t["size"] for t in again)  # replaced, not appended


def test_onnx_encoder_exports_once_and_agrees_with_fp32(tiny) -> None:
    pytest.importorskip("onnxruntime")
    from analysis.classify.pipeline import build_classifier

    folder = tiny[0]
    fp32 = build_classifier(tiny_config(tiny))
    onnx = build_classifier(tiny_config(tiny, onnx=True))
    exported = list((folder / "ws" / "cache" / "onnx").glob("*.int8.onnx"))
    assert len(exported) == 1
    assert onnx.model_version != fp32.model_version
    assert "+onnx-int8" in onnx.model_version
    texts = ["the app is very bad", "great app love it", "please add sync", "why is login slow"]
    a, b = fp32.encoder.encode(texts), onnx.encoder.encode(texts)
    cos = (a * b).sum(axis=1)
    assert cos.min() > 0.9, cos
    out = onnx.classify(texts)
    assert [o.status for o in out] == ["ok"] * 4
    build_classifier(tiny_config(tiny, onnx=True))  # second use: loads the export, no new file
    assert list((folder / "ws" / "cache" / "onnx").glob("*.int8.onnx")) == exported
