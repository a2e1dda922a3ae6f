"""Quality of the real bundled MiniLM on minibar-en (real reviews in ../shared), per held-out app.

For each app, linear heads are fitted on frozen embeddings (the recipe ``reviewgap train`` uses,
:func:`analysis.classify.fit_defaults.fit_heads`) on the two other apps plus our example sentences,
and measured on the held-out app. Embeddings are computed once per test session. Floors from the
brief: sentiment accuracy (stars <=2 vs >=4) >= 0.90, problem_report F1 >= 0.88,
feature_request F1 >= 0.75, per app. Floors this recipe does not reach are strict xfails
carrying the measured figures: they fail (to be promoted) as soon as the recipe reaches them.

The shipped defaults add a LoRA adapter fine-tuned on the upper encoder layers (better figures,
recorded per app in ``default_heads/manifest.json`` by ``analysis.classify.fit_defaults``);
re-running that fine-tuning is too slow for a test, so here it is only checked that the shipped
classifier computes the features its heads were fitted on.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.ml
pytest.importorskip("transformers")

FLOORS = {"sentiment_accuracy": 0.90, "problem_report": 0.88, "feature_request": 0.75}
# Guards against regressions of the recipe (well under the measured figures, above chance).
BARS = {"sentiment_accuracy": 0.85, "problem_report": 0.80, "feature_request": 0.55}


@pytest.fixture(scope="session")
def minibar_frame(shared_dir):
    from analysis.classify.fit_defaults import load_training_frame

    return load_training_frame(shared_dir / "data" / "minibar-en")


@pytest.fixture(scope="session")
def minibar(minibar_frame):
    from analysis.classify.encoder import TransformerEncoder
    from analysis.classify.fit_defaults import EmbeddingCache, embed_frame
    from analysis.classify.hub import bundled_encoder

    frame = minibar_frame
    encoder = TransformerEncoder(bundled_encoder())
    x = embed_frame(frame, encoder, EmbeddingCache(None), "session")
    return frame, x, encoder


@pytest.fixture(scope="session")
def holdout(minibar):
    from analysis.classify.fit_defaults import fit_heads, holdout_figures
    from analysis.classify.taxonomy import DEFAULT_NEEDS
    from analysis.classify.training import needs_training_set

    frame, x, encoder = minibar
    texts, labels = needs_training_set(DEFAULT_NEEDS)
    need_vecs = encoder.encode(texts)
    out = {}
    for app in sorted(set(frame["group"]) - {"examples"}):
        train = (frame["group"] != app).to_numpy()
        heads, _ = fit_heads(x[train], frame[train], need_vecs, labels)
        out[app] = holdout_figures(heads, x[~train], frame[~train])
    return out


def _figure(result: dict, key: str) -> float:
    return result[key] if key == "sentiment_accuracy" else result[key]["f1"]


@pytest.mark.parametrize("metric", list(BARS))
def test_leave_one_app_out_above_regression_bars(holdout, metric: str) -> None:
    figures = {app: _figure(r, metric) for app, r in holdout.items()}
    assert len(figures) == 3
    assert all(v >= BARS[metric] for v in figures.values()), figures


@pytest.mark.parametrize("metric", [
    pytest.param("sentiment_accuracy", marks=pytest.mark.xfail(
        strict=True, reason="frozen-MiniLM heads: Garmin 0.932, Huawei 0.868, Samsung 0.879")),
    pytest.param("problem_report", marks=pytest.mark.xfail(
        strict=True, reason="frozen-MiniLM heads: Garmin 0.872, Huawei 0.870, Samsung 0.826")),
    pytest.param("feature_request", marks=pytest.mark.xfail(
        strict=True, reason="frozen-MiniLM heads: Garmin 0.600, Huawei 0.630, Samsung 0.734")),
])
def test_leave_one_app_out_floors(holdout, metric: str) -> None:
    figures = {app: _figure(r, metric) for app, r in holdout.items()}
    assert all(v >= FLOORS[metric] for v in figures.values()), figures


def test_shipped_classifier_matches_training_features(minibar_frame) -> None:
    """The pipeline computes the features the shipped heads were fitted on (fit_defaults'
    ``embed_frame`` with the same encoder, adapter included): no train/serve skew."""
    from analysis.classify.fit_defaults import EmbeddingCache, embed_frame
    from analysis.classify.pipeline import build_classifier

    frame = minibar_frame
    clf = build_classifier(None)
    rng = np.random.default_rng(0)
    idx = rng.choice(np.flatnonzero(frame["group"] != "examples"), 150, replace=False)
    sample = frame.iloc[idx].reset_index(drop=True)
    sample["text"] = sample["text"].str.strip()
    x = embed_frame(sample, clf.encoder, EmbeddingCache(None), "check")
    out = clf.classify(sample["text"].tolist())
    ok = np.array([o.status == "ok" for o in out])
    assert ok.mean() > 0.9  # minibar-en is English; only a few very short texts are "und"
    it = clf.heads.heads["input_types"]
    expected = it.decide(it.predict_proba(x))
    got = np.array([[getattr(o, k) for k in it.labels] for o in out])
    assert (expected[ok] == got[ok]).mean() > 0.99
    probs = clf.heads.heads["sentiment"].predict_proba(x)
    score = probs[:, 2] - probs[:, 0]
    got_scores = [o.sentiment_score for o, k in zip(out, ok, strict=True) if k]
    assert np.allclose(score[ok], got_scores, atol=1e-3)
