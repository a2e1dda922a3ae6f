"""Classifier plumbing on a tiny offline BERT: conformance, language routing, store mode."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("transformers")

from analysis.classify.hub import resolve_model
from analysis.config import validate_config
from analysis.store import ReviewStore
from tests.support.tiny_models import build_tiny_encoder, build_tiny_heads

TEXTS = [
    "The app crashes every time. Please add sync!",
    "great 👍",
    "",
    "Das ist eine sehr schlechte Anwendung, sie stürzt ständig ab und nichts funktioniert.",
    "Cette application est vraiment excellente, je la recommande à tout le monde.",
    "Why is login so slow? It is very bad",
]


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("tiny")
    enc = build_tiny_encoder(folder / "encoder")
    heads = build_tiny_heads(folder / "heads", resolve_model(str(enc), "x").id)
    return validate_config(
        {"products": [{"key": "acme", "name": "Acme"}],
         "project": {"workspace": str(folder / "ws")},
         "classification": {"encoder": str(enc), "heads": str(heads)}},
        folder / "reviewgap.toml")


@pytest.fixture(scope="module")
def tiny_clf(tiny_config):
    from analysis.classify.pipeline import build_classifier

    return build_classifier(tiny_config)


def test_classify_empty_input_gives_empty_list(tiny_clf) -> None:
    assert tiny_clf.classify([]) == []


def test_classify_keeps_length_order_and_ranges(tiny_clf) -> None:
    out = tiny_clf.classify(TEXTS, [1, 5, None, 1, 5, 2])
    assert len(out) == len(TEXTS)
    assert [o.status for o in out] == ["ok", "ok", "empty_text", "skipped_language",
                                       "skipped_language", "ok"]
    assert out[3].language == "de"
    assert out[4].language == "fr"
    for o in out:
        if o.status != "ok":
            assert o.sentiment is None
            assert o.needs == {}
            assert o.sentences == []
            continue
        assert o.sentiment in ("negative", "neutral", "positive")
        assert -1.0 <= o.sentiment_score <= 1.0
        assert o.input_type in ("problem_report", "feature_request", "praise", "question",
                                "other")
        assert o.other == (not (o.problem_report or o.feature_request or o.praise
                                or o.question))
        assert all(0.0 <= s <= 1.0 for s in o.need_scores.values())
        assert all(s >= tiny_clf.need_threshold for s in o.needs.values())
        assert set(o.need_scores) == set(tiny_clf.taxonomy.ids)
        assert [s.index for s in o.sentences] == list(range(len(o.sentences)))
    # Per-review results do not depend on the batch they came in.
    alone = tiny_clf.classify([TEXTS[5]])[0]
    assert alone.sentiment_score == pytest.approx(out[5].sentiment_score, abs=1e-5)
    assert alone.needs.keys() == out[5].needs.keys()


def test_classify_rolls_sentence_needs_up_to_the_review(tiny_clf) -> None:
    (out,) = tiny_clf.classify([TEXTS[0]])
    assert len(out.sentences) == 2
    for need, score in out.need_scores.items():
        best = max(s_needs.get(need, 0.0) for s_needs in (s.needs for s in out.sentences))
        # The review score is the max over sentences; a need shown on a sentence is shown
        # on the review with the same score.
        if best:
            assert score == pytest.approx(best, abs=1e-4)


def test_model_version_is_stable_and_names_parts(tiny_config, tiny_clf) -> None:
    from analysis.classify.pipeline import build_classifier

    again = build_classifier(tiny_config)
    assert again.model_version == tiny_clf.model_version
    assert tiny_clf.model_version.startswith("encoder@")
    assert f"needs-{tiny_clf.taxonomy.digest}" in tiny_clf.model_version
    # Labels from before the question rule are not mixed with labels made with it.
    assert "question" in tiny_clf.heads.heads["input_types"].labels
    assert "/q-rule1/" in tiny_clf.model_version
    # Nor labels read per sentence with labels read per clause.
    assert "/clauses5/" in tiny_clf.model_version  # en, fr, de, nl, es, ja, zh contrast words
    # Nor labels of Japanese or Chinese text read before its sentences were cut without spaces.
    assert "/split2/" in tiny_clf.model_version
    # Nor mention sentiments made before the complaint rule took in requests.
    assert "/complaint2/" in tiny_clf.model_version
    # Nor labels of text whose emoji were spelled out with labels of text where they were not
    # (the tiny vocabulary has no emoji).
    assert tiny_clf.encoder.spells_emoji
    assert tiny_clf.model_version.endswith("/emoji1")


def test_a_sentence_that_turns_is_read_clause_by_clause(tiny_config) -> None:
    """Needs of a sentence with a turn are its clauses' (each embedded on its own), and each
    mention carries the sentiment of the clause that holds the need; a one-clause sentence's
    mentions carry the sentence's sentiment."""
    from analysis.classify.features import sentence_features
    from analysis.classify.pipeline import build_classifier

    clf = build_classifier(tiny_config)
    clf.need_threshold = 0.0  # every need is a mention: the tiny heads' scores are arbitrary
    text = "the app is great but it crashes very bad . why slow"
    (out,) = clf.classify([text])
    turning, plain = out.sentences
    clauses = ["the app is great", "but it crashes very bad ."]
    vecs = clf.encoder.encode_sentences(clauses)
    scores = clf._needs_head.predict_proba(vecs)
    sentiment = clf._sentiment(sentence_features(vecs), clauses)
    ids = clf.taxonomy.ids
    assert set(turning.needs) == set(ids)
    for j, need in enumerate(ids):
        best = int(scores[:, j].argmax())
        assert turning.needs[need] == pytest.approx(float(scores[best, j]), abs=1e-5)
        assert turning.mention_sentiment(need)[0] == sentiment[best][0]
        assert turning.mention_sentiment(need)[1] == pytest.approx(sentiment[best][1], abs=1e-5)
        assert turning.need_clause[need] == clauses[best]  # what a quote highlights
        assert plain.mention_sentiment(need) == (plain.sentiment, plain.sentiment_score)
    assert plain.need_clause == {}  # read whole: no clause
    rows = out.mention_rows("u1", clf.model_version)
    assert len(rows) == 2 * len(ids)
    for row in rows:
        sentence = out.sentences[row["sentence_index"]]
        assert row["sentiment"] == sentence.mention_sentiment(row["need"])[0]
        assert row["clause"] == sentence.need_clause.get(row["need"])
    # The clauses differ in sentiment score, so the two mentions are not just the sentence's.
    assert sentiment[0][1] != pytest.approx(sentiment[1][1], abs=1e-6)

    # aspect_clauses = false: whole sentences, and a model version of their own.
    whole = build_classifier(tiny_config.model_copy(update={
        "classification": tiny_config.classification.model_copy(
            update={"aspect_clauses": False})}))
    whole.need_threshold = 0.0
    assert "/clauses5" not in whole.model_version
    assert whole.model_version == clf.model_version.replace("/clauses5", "")
    (read_whole,) = whole.classify([text])
    sentence = read_whole.sentences[0]
    in_context = whole.encoder.encode_reviews([text], [[sentence.text, "why slow"]])[1][:1]
    sentence_scores = whole._needs_head.predict_proba(in_context)
    for j, need in enumerate(ids):
        assert sentence.needs[need] == pytest.approx(float(sentence_scores[0, j]), abs=1e-5)
        assert sentence.mention_sentiment(need) == (sentence.sentiment, sentence.sentiment_score)
    assert sentence.need_clause == {}


def test_question_rule_marks_english_and_undetermined_reviews_only() -> None:
    import numpy as np

    from analysis.classify.pipeline import _or_question_rule

    texts = ["Nice app, but can I export?", "Nice app, but can I export?",
             "Nice app, but can I export?", "Nice app."]
    langs = ["en", "und", "fr", "en"]
    flat = ["Nice app, but can I export?"] * 3 + ["Nice app."]  # one sentence per review
    yes_rev = np.zeros((4, 2), dtype=bool)
    yes_sen = np.zeros((4, 2), dtype=bool)
    yes_sen[3, 1] = True  # the head's own yes stays
    _or_question_rule(yes_rev, ("praise", "question"), texts, langs)
    _or_question_rule(yes_sen, ("praise", "question"), flat, langs)
    assert yes_rev[:, 1].tolist() == [True, True, False, False]
    assert yes_sen[:, 1].tolist() == [True, True, False, True]
    assert not yes_rev[:, 0].any()


def test_question_rule_reads_chinese_and_japanese_with_their_own_rules() -> None:
    import numpy as np

    from analysis.classify.pipeline import _or_question_rule

    texts = ["可以导出吗？", "エクスポートできますか？", "可以导出吗？", "Can I export?"]
    langs = ["zh", "ja", "ko", "ja"]  # Korean has no rule; English words under ja do not ask
    yes_rev = np.zeros((4, 2), dtype=bool)
    yes_sen = np.zeros((4, 2), dtype=bool)
    _or_question_rule(yes_rev, ("praise", "question"), texts, langs)
    _or_question_rule(yes_sen, ("praise", "question"), texts, langs)
    assert yes_rev[:, 1].tolist() == [True, True, False, False]
    assert yes_sen[:, 1].tolist() == [True, True, False, False]


def _model_versions(tiny_config, *language_sets: tuple[str, ...]) -> dict[tuple[str, ...], str]:  # type: ignore[no-untyped-def]
    """``model_version`` of the tiny classifier for each ``languages`` setting."""
    from analysis.classify.pipeline import build_classifier

    versions = {}
    for langs in language_sets:
        cfg = tiny_config.model_copy(deep=True)
        cfg.classification.languages = list(langs)
        versions[langs] = build_classifier(cfg).model_version
    return versions


def test_question_rule_version_moves_only_for_projects_labelling_chinese_or_japanese(
        tiny_config) -> None:  # type: ignore[no-untyped-def]
    v = _model_versions(tiny_config, ("en",), ("en", "de"), ("en", "zh"), ("ja",))
    assert all("/q-rule1/" in v[k] for k in (("en",), ("en", "de"))), v
    assert all("/q-rule2/" in v[k] for k in (("en", "zh"), ("ja",))), v


def test_clause_version_moves_only_for_projects_labelling_portuguese_italian_or_korean(
        tiny_config) -> None:  # type: ignore[no-untyped-def]
    v = _model_versions(tiny_config, ("en",), ("en", "es"), ("en", "pt"), ("it",), ("ko",))
    assert all("/clauses5/" in v[k] for k in (("en",), ("en", "es"))), v
    assert all("/clauses6/" in v[k] for k in (("en", "pt"), ("it",), ("ko",))), v


def test_languages_option_lets_other_languages_through(tiny_config) -> None:
    from analysis.classify.pipeline import build_classifier

    cfg = tiny_config.model_copy(deep=True)
    cfg.classification.languages = ["en", "de"]
    out = build_classifier(cfg).classify(TEXTS[3:5])
    assert [o.status for o in out] == ["ok", "skipped_language"]


def test_evaluate_passes_titles_and_stated_languages_when_the_frame_has_them(tiny_clf) -> None:
    """A labelled frame with ``title`` / ``language`` columns (the real-review tests build one)
    is classified as a crawl would read it; without them, as before."""
    import pandas as pd

    from analysis.classify.evaluate import evaluate

    frame = pd.DataFrame({"text": ["ok", "ok"], "problem_report": [0, 0]})
    assert evaluate(tiny_clf, frame)["n_classified"] == 2  # too short to tell: classified
    stated = evaluate(tiny_clf, frame.assign(language=["en", "de"]))
    assert stated["n_classified"] == 1  # the source said German: skipped, as in a crawl
    seen: list[object] = []
    real = tiny_clf.classify

    def spy(texts, ratings=None, **kw):  # type: ignore[no-untyped-def]
        seen.append(kw.get("titles"))
        return real(texts, ratings, **kw)

    tiny_clf.classify = spy
    try:
        evaluate(tiny_clf, frame.assign(title=["Great", None]))
    finally:
        tiny_clf.classify = real
    assert seen == [["Great", None]]


def _reviews(n: int, start: int = 0) -> list[dict]:
    return [{"source": "import", "review_id": str(i), "product": "acme",
             "text": TEXTS[i % len(TEXTS)] + f" {i}", "title": "Title" if i % 2 else None,
             "rating": (i % 5) + 1, "published_at": "2026-01-01T00:00:00Z"}
            for i in range(start, start + n)]


def test_classify_pending_labels_only_new_reviews(tiny_clf, tmp_path: Path) -> None:
    from analysis.classify.pipeline import classify_pending

    store = ReviewStore(tmp_path / "s.sqlite")
    store.upsert_reviews(_reviews(12))
    first = classify_pending(store, tiny_clf, batch_size=5, progress=False)
    assert first["classified"] == 12
    assert first["pending"] == 12
    assert first["ok"] + first["skipped_language"] + first["empty_text"] == 12
    assert first["skipped_language"] == 4  # the German and French rows
    again = classify_pending(store, tiny_clf, batch_size=5, progress=False)
    assert again["classified"] == 0
    store.upsert_reviews(_reviews(3, start=12))
    third = classify_pending(store, tiny_clf, batch_size=5, progress=False)
    assert third["classified"] == 3
    frame = store.classifications_frame(tiny_clf.model_version)
    assert len(frame) == 15
    assert frame["uid"].is_unique
    ok = frame[frame["status"] == "ok"]
    assert ok["sentiment_score"].between(-1, 1).all()
    assert set(ok["input_type"]) <= {"problem_report", "feature_request", "praise", "question",
                                     "other"}
    mentions = store.mentions_frame(tiny_clf.model_version)
    needs = mentions[~mentions["need"].str.startswith("theme:")]
    assert len(needs) == first["mentions"] + third["mentions"]
    assert set(needs["need"]) <= set(tiny_clf.taxonomy.ids)
    # Every stored mention's need is also on its review, with a score at the threshold or over.
    by_uid = dict(zip(frame["uid"], frame["needs"], strict=True))
    for uid, need, score in zip(needs["uid"], needs["need"], needs["score"], strict=True):
        assert need in by_uid[uid]
        assert score >= tiny_clf.need_threshold


def test_encoder_cache_stays_bounded_and_correct(tiny_clf) -> None:
    enc = tiny_clf.encoder
    old_size = enc._cache.capacity
    enc._cache.clear()
    enc._cache.capacity = 3
    try:
        first = enc.encode(["great app", "bad app", "slow app"])
        # Hits and misses mixed, more texts than the cache holds: nothing may go missing.
        again = enc.encode(["slow app", "the app", "very bad", "great app", "bad app"])
        assert len(enc._cache) == 3
        assert again[0] == pytest.approx(first[2], abs=1e-6)
        assert again[3] == pytest.approx(first[0], abs=1e-6)
        assert again[4] == pytest.approx(first[1], abs=1e-6)
    finally:
        enc._cache.capacity = old_size



def test_need_threshold_comes_from_the_heads_per_language_unless_configured(
        tiny_config, tmp_path: Path) -> None:
    """Unset ``need_threshold``: the heads' manifest decides (``need_threshold`` and
    ``need_threshold_by_language``; the multilingual heads score French lower). Set: one value
    for every language. Either way the model version names what was used."""
    import json
    import shutil

    from analysis.classify.pipeline import build_classifier, version_need_threshold

    heads = shutil.copytree(tiny_config.classification.heads, tmp_path / "heads")
    manifest = json.loads((heads / "manifest.json").read_text("utf-8"))
    manifest.update(need_threshold=0.7, need_threshold_by_language={"fr": 0.2})
    (heads / "manifest.json").write_text(json.dumps(manifest), "utf-8")

    def build(**extra: object):  # type: ignore[no-untyped-def]
        return build_classifier(tiny_config.model_copy(update={
            "classification": tiny_config.classification.model_copy(update={
                "heads": str(heads), "languages": ["en", "fr"], **extra})}))

    clf = build()
    assert (clf.need_threshold, clf.need_thresholds) == (0.7, {"fr": 0.2})
    assert "/t0.7-fr0.2/" in clf.model_version
    assert version_need_threshold(clf.model_version) == "0.7 (fr: 0.2)"
    texts = [TEXTS[0], TEXTS[4]]
    en, fr = clf.classify(texts, stated_languages=["en", "fr"])
    assert (en.language, fr.language) == ("en", "fr")
    for review, cut in ((en, 0.7), (fr, 0.2)):
        assert review.needs == {k: v for k, v in review.need_scores.items() if v >= cut}
        for s in review.sentences:
            assert all(v >= cut for v in s.needs.values())
    assert fr.needs  # the random heads score some need over 0.2: the French cut was applied

    fixed = build(need_threshold=0.4)
    assert (fixed.need_threshold, fixed.need_thresholds) == (0.4, {})
    assert "/t0.4/" in fixed.model_version
    for review in fixed.classify(texts, stated_languages=["en", "fr"]):
        assert review.needs == {k: v for k, v in review.need_scores.items() if v >= 0.4}
    # Heads whose manifest names no threshold: 0.5, as before.
    assert build_classifier(tiny_config).need_threshold == 0.5
    assert "/t0.5/" in build_classifier(tiny_config).model_version


def test_language_offsets_move_sentiment_and_input_types_but_not_needs(
        tiny_config, tmp_path: Path) -> None:
    """Heads with ``language_offsets`` take a language's offset off its reviews' and sentences'
    vectors before the sentiment and input-type heads; the needs head and other languages read
    the vectors as they are. The offset is part of the heads (digest, save/load)."""
    import attrs
    import numpy as np

    from analysis.classify.features import review_features, sentence_features
    from analysis.classify.heads import HeadSet
    from analysis.classify.language_offsets import take_off
    from analysis.classify.pipeline import build_classifier

    plain = HeadSet.load(Path(tiny_config.classification.heads))
    dim = plain.heads["needs"].coef.shape[1]
    offset = np.random.default_rng(3).normal(0, 0.3, dim).astype(np.float32)
    shifted = attrs.evolve(plain, language_offsets={"fr": offset})
    assert shifted.digest != plain.digest
    folder = shifted.save(tmp_path / "heads")
    loaded = HeadSet.load(folder)
    assert loaded.digest == shifted.digest
    assert np.array_equal(loaded.language_offsets["fr"], offset)
    assert plain.language_offsets is None

    def build(heads: Path):  # type: ignore[no-untyped-def]
        return build_classifier(tiny_config.model_copy(update={
            "classification": tiny_config.classification.model_copy(update={
                "heads": str(heads), "languages": ["en", "fr"]})}))

    with_offset, without = build(folder), build(tiny_config.classification.heads)
    texts = [TEXTS[0], TEXTS[4]]
    a_en, a_fr = with_offset.classify(texts, stated_languages=["en", "fr"])
    b_en, b_fr = without.classify(texts, stated_languages=["en", "fr"])
    assert (a_en.language, a_fr.language) == ("en", "fr")
    # English: untouched. French: needs untouched, sentiment and input types moved, exactly as
    # the heads read the features with the offset taken off.
    assert (a_en.sentiment_score, a_en.input_scores) == (b_en.sentiment_score, b_en.input_scores)
    assert a_fr.need_scores == b_fr.need_scores
    assert a_fr.sentiment_score != b_fr.sentiment_score
    sents = [s.text for s in b_fr.sentences]
    rev, sen = without.encoder.encode_reviews([texts[1]], [sents])
    x = review_features(take_off(rev, ["fr"], {"fr": offset}),
                        take_off(sen, ["fr"] * len(sents), {"fr": offset}), [0, len(sents)])
    probs = loaded.heads["sentiment"].predict_proba(x)[0]
    assert a_fr.sentiment_score == pytest.approx(float(probs[2] - probs[0]), abs=1e-5)
    it = loaded.heads["input_types"]
    want = dict(zip(it.labels, it.predict_proba(x)[0].tolist(), strict=True))
    assert a_fr.input_scores == pytest.approx({k: round(v, 4) for k, v in want.items()},
                                              abs=1e-4)
    s_probs = loaded.heads["sentiment"].predict_proba(sentence_features(
        take_off(sen, ["fr"] * len(sents), {"fr": offset})))
    assert [s.sentiment_score for s in a_fr.sentences] == pytest.approx(
        (s_probs[:, 2] - s_probs[:, 0]).tolist(), abs=1e-5)
    # Sentences labelled on their own (themes) take the offset when their language is given.
    alone = with_offset.sentence_labels(sents, ["fr"] * len(sents))
    assert [sc for _, sc, _ in alone] == pytest.approx(
        (s_probs[:, 2] - s_probs[:, 0]).tolist(), abs=1e-5)
    assert with_offset.sentence_labels(sents) == without.sentence_labels(sents)


def test_take_off_leaves_other_languages_bit_for_bit() -> None:
    import numpy as np

    from analysis.classify.language_offsets import parallel_pairs, take_off

    v = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    off = np.full(8, 0.1, np.float32)
    out = take_off(v, ["en", "fr", None, "fr"], {"fr": off})
    assert np.array_equal(out[[0, 2]], v[[0, 2]])
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    assert np.allclose(out[1], (v[1] - off) / np.linalg.norm(v[1] - off), atol=1e-6)
    english, _ = parallel_pairs("fr")
    for lang in ("de", "es", "fr", "ja", "ko", "nl", "pt", "zh"):  # the same 50 English ones
        same, other = parallel_pairs(lang)
        assert same == english, lang
        assert len(other) == 50, lang
        assert all(isinstance(t, str) and t.strip() for t in other), lang
    with pytest.raises(ValueError, match="there are: de, es, fr, ja, ko, nl, pt, zh"):
        parallel_pairs("it")


def test_a_neutral_mention_in_a_problem_report_is_a_complaint() -> None:
    """A fault told in plain words reads neutral to the sentiment head; in a sentence read as a
    problem report its mention counts as negative (score kept). Positive and negative readings,
    and neutral ones in sentences that neither report a problem nor ask, stay as they are."""
    from analysis.classify.pipeline import _complaint

    for asks in (True, False):
        assert _complaint(("neutral", 0.05), "problem_report", asks) == ("negative", 0.05)
        assert _complaint(("positive", 0.6), "problem_report", asks) == ("positive", 0.6)
        assert _complaint(("negative", -0.7), "problem_report", asks) == ("negative", -0.7)
        for other in ("praise", "question", "other"):
            assert _complaint(("neutral", 0.05), other, asks) == ("neutral", 0.05)
            assert _complaint(("positive", 0.6), other, asks) == ("positive", 0.6)


def test_a_mention_in_a_request_is_a_complaint_unless_its_clause_praises() -> None:
    """A request names what the product lacks, however kindly it is worded ("a dark mode would
    make it perfect" reads positive): its mention is negative, score kept, when read neutral,
    or read positive in a clause that asks on its own. A positive clause that does not ask (a
    turning sentence's praise of another need, or praise that read as a request only beside
    one) keeps its reading."""
    from analysis.classify.pipeline import _complaint

    assert _complaint(("positive", 0.8), "feature_request", True) == ("negative", 0.8)
    assert _complaint(("neutral", 0.1), "feature_request", True) == ("negative", 0.1)
    assert _complaint(("neutral", 0.1), "feature_request", False) == ("negative", 0.1)
    assert _complaint(("positive", 0.8), "feature_request", False) == ("positive", 0.8)
    assert _complaint(("negative", -0.4), "feature_request", False) == ("negative", -0.4)
