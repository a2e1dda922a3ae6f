"""Theme discovery treats tracked products' keys, names and aliases as stop words."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.classify.themes import class_tfidf_words, listing_brand, store_product_names
from analysis.metrics.themes import display_themes
from analysis.product_names import mask_products, name_pattern, product_tokens
from analysis.store import ReviewStore

BATTERY = ["Jotterly battery drains fast with jotterly", "using Jotterly the battery drain is bad",
           "huge battery drain since Jotterly's update", "Jotterly battery dies by noon"]
LOGIN = ["login fails with my password", "password reset login loop", "cannot login at all"]


def test_product_names_are_stop_words_for_theme_words() -> None:
    plain = class_tfidf_words([BATTERY, LOGIN])
    assert "jotterly" in plain[0]  # planted: without the names it is the top word
    names = product_tokens({"jot": ["Jotterly", "Jotterly Notes"]})
    words = class_tfidf_words([BATTERY, LOGIN], name_tokens=names)
    assert not [w for w in words[0] + words[1] if "jotterly" in w]
    assert words[0][0] in ("battery", "drain", "battery drain")
    assert "login" in words[1]
    # A cluster made of names only has no words left, not an error.
    assert class_tfidf_words([["Jotterly jotterly"], LOGIN], name_tokens=names)[0] == []


def test_mask_products_replaces_names_as_written() -> None:
    names = name_pattern({"jot": ["Jotterly Notes", "JotPro"], "quill": ["Quill-Byte"],
                          "garmin_connect": ["Garmin Connect"]})
    assert mask_products("Jotterly Notes crashes, unlike Quill-Byte.", names) == \
        "the app crashes, unlike the app."
    # A multi-word name's first word is the brand; its other words stay ordinary words.
    assert mask_products("Garmin won't connect, my notes are gone", names) == \
        "the app won't connect, my notes are gone"
    assert mask_products("garmin connect and JOTPRO keep crashing", names) == \
        "the app and the app keep crashing"
    # Runs of names become one placeholder; possessives belong to the name; spacing is kept.
    assert mask_products("Jotterly  JotPro's sync  fails!", names) == "the app sync  fails!"
    # Whole words only.
    assert mask_products("jotpros and Quill-based pens", names) == "jotpros and Quill-based pens"
    assert mask_products("", names) == ""
    assert mask_products("any text", name_pattern({})) == "any text"


def test_store_names_are_keys_and_listing_brands(tmp_path) -> None:
    store = ReviewStore(tmp_path / "s.sqlite")
    store.upsert_reviews([{"source": "import", "review_id": "1", "product": "jotterly",
                           "text": "fine"}])
    store.add_app_meta({"target": "apple_app_store:quill:us", "source": "apple_app_store",
                        "product": "quill", "name": "Quillbyte: Notes, Sync"}, run_id="r1")
    assert store.product_names() == {"jotterly": [], "quill": ["Quillbyte: Notes, Sync"]}
    # The tagline's ordinary words ("notes", "sync") stay usable as theme words.
    assert store_product_names(store) == {"jotterly": [], "quill": ["Quillbyte"]}
    assert listing_brand("Garmin Connect\u2122 \u2013 fitness") == "Garmin Connect\u2122"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("transformers")
    from tests.support.tiny_models import build_tiny_project

    return build_tiny_project(tmp_path_factory.mktemp("tiny-theme-names"))


def test_discovered_themes_leave_out_product_names(tiny, tmp_path) -> None:
    from analysis.classify.pipeline import build_classifier, classify_pending
    from analysis.classify.themes import discover_themes
    from analysis.config import validate_config

    folder, enc, heads = tiny
    cfg = validate_config(
        {"products": [{"key": "jotterly", "name": "Jotterly", "aliases": ["Jotter Pro"]}],
         "project": {"workspace": str(folder / "ws")},
         "classification": {"encoder": str(enc), "heads": str(heads), "need_threshold": 1.0}},
        folder / "reviewgap.toml")
    clf = build_classifier(cfg)  # need_threshold 1.0: no need matches, every sentence unmatched
    words = ["app", "crash", "great", "slow", "price", "sync", "login", "bad", "good", "add"]
    rng = np.random.default_rng(0)
    store = ReviewStore(tmp_path / "s.sqlite")
    # The name (and an alias token) in every sentence, twice: the most frequent word by far.
    store.upsert_reviews([
        {"source": "import", "review_id": str(i), "product": "jotterly",
         "text": f"jotterly {' '.join(rng.choice(words, 6))} jotterly. "
                 f"pro {' '.join(rng.choice(words, 5))} jotter jotterly."}
        for i in range(60)])
    classify_pending(store, clf, progress=False, themes=False)

    def theme_words() -> list[list[str]]:
        themes = store.themes_frame(clf.model_version)
        assert len(themes) >= 1
        return [json.loads(w) for w in themes["words_json"]]

    discover_themes(store, clf, product_names={})  # control: no names, the name leaks
    assert any("jotterly" in w for ws in theme_words() for w in ws)

    discover_themes(store, clf)  # default: the store's product keys
    for ws in theme_words():
        assert ws, "normal words still label the theme"
        assert not [w for w in ws if "jotterly" in w]
        assert set(" ".join(ws).split()) <= set(words) | {"jotter", "pro"}

    names = {p.key: [p.name, *p.aliases] for p in cfg.products}
    embedded: list[str] = []
    real_vectors = clf.sentence_vectors

    def spy(texts: list[str]) -> np.ndarray:
        if not embedded:  # the first call embeds the candidates (the next ones, the taxonomy's
            embedded.extend(texts)  # example sentences, for the generic-sentence cut)
        return real_vectors(texts)

    clf.sentence_vectors = spy  # type: ignore[method-assign]
    themes = discover_themes(store, clf, product_names=names)  # the config's names and aliases
    clf.sentence_vectors = real_vectors  # type: ignore[method-assign]
    # Clustered on masked sentences; the themes quote them as written.
    assert embedded
    assert not [t for t in embedded if "jotter" in t.lower()]
    # "jotter jotterly" (alias brand word, then the name) is one run; "pro" alone is a word.
    assert {t.split()[0] for t in embedded} == {"the", "pro"}
    assert all(t.endswith(" the app.") and "the app the app" not in t for t in embedded)
    assert all("jotterly" in ex for t in themes for ex in t["examples"])
    for t in themes:
        assert t["words"]
        assert set(" ".join(t["words"]).split()) <= set(words)
        assert "jotter" not in t["label"]
        assert "pro" not in t["label"].split()
    # The report's filter finds nothing left to take out of themes stored this way.
    shown = display_themes(store.themes_frame(clf.model_version), names)
    assert not shown["names_only"].any()
    assert (shown["named_products"] == "").all()
    assert list(shown["label"]) == [t["label"] for t in themes]
