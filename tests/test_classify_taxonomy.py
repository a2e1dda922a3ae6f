"""The needs taxonomy and its interplay with the config's [needs] section."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.classify.taxonomy import DEFAULT_NEEDS, build_taxonomy, training_sentences
from analysis.config import ConfigError, NeedDef, NeedsSection, validate_config

EXPECTED_IDS = ("reliability", "performance", "usability", "compatibility", "pricing",
                "privacy_security", "support", "sync_data", "account_login", "features",
                "content", "updates")


def test_default_needs_have_stable_ids_descriptions_and_examples() -> None:
    assert tuple(n.id for n in DEFAULT_NEEDS) == EXPECTED_IDS
    for need in DEFAULT_NEEDS:
        assert need.label
        assert need.description
        assert len(need.examples) >= 10
        assert len(set(need.examples)) == len(need.examples)


def test_build_taxonomy_applies_disable_rename_custom() -> None:
    section = NeedsSection(
        disable=["updates"], rename={"pricing": "Cost"},
        custom=[NeedDef(id="check_deposit", label="Mobile check deposit",
                        description="Depositing cheques by photo",
                        examples=["The check deposit never works", "Deposit is instant"])])
    tax = build_taxonomy(section)
    assert "updates" not in tax.ids
    assert tax.ids[-1] == "check_deposit"
    assert tax.label("pricing") == "Cost"
    assert tax.label("theme:3") == "theme:3"
    assert len(tax) == len(DEFAULT_NEEDS)


def test_taxonomy_digest_ignores_labels_but_not_examples() -> None:
    base = build_taxonomy()
    renamed = build_taxonomy(NeedsSection(rename={"pricing": "Cost"}))
    disabled = build_taxonomy(NeedsSection(disable=["pricing"]))
    assert base.digest == build_taxonomy(None).digest
    assert renamed.digest == base.digest  # a label is display only
    assert disabled.digest != base.digest


def test_build_taxonomy_rejects_unknown_ids_and_empty_custom_needs() -> None:
    with pytest.raises(ValueError, match=r"needs\.disable"):
        build_taxonomy(NeedsSection(disable=["nope"]))
    with pytest.raises(ValueError, match="x_need"):
        build_taxonomy(NeedsSection(custom=[NeedDef(id="x_need", label="X")]))


def test_config_validation_uses_default_need_ids() -> None:
    with pytest.raises(ConfigError, match=r"needs\.disable"):
        validate_config({"products": [{"key": "a", "name": "A"}],
                         "needs": {"disable": ["reliabilty"]}}, "r.toml")
    cfg = validate_config({"products": [{"key": "a", "name": "A"}],
                           "needs": {"disable": ["content"]}}, "r.toml")
    assert "content" not in build_taxonomy(cfg.needs).ids


@pytest.mark.parametrize("lang", ["fr", "nl"])
def test_needs_training_set_adds_the_examples_of_the_needs_in_use(lang: str) -> None:
    """French and Dutch example sentences: every default need (10+ each) and generic ones."""
    import csv

    from analysis.classify.training import EXAMPLES_DIR, needs_training_set

    with (EXAMPLES_DIR / f"needs_{lang}.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ids = {n.id for n in DEFAULT_NEEDS}
    assert {r["need"] for r in rows} == ids | {""}  # every default need, plus generic sentences
    assert all(sum(r["need"] == i for r in rows) >= 10 for i in ids)
    assert len({r["text"] for r in rows}) == len(rows)
    en_texts, en_labels = needs_training_set(DEFAULT_NEEDS)
    texts, labels = needs_training_set(DEFAULT_NEEDS, ("en", lang))
    assert (texts[: len(en_texts)], labels[: len(en_labels)]) == (en_texts, en_labels)
    assert texts[len(en_texts):] == [r["text"] for r in rows]
    assert labels[len(en_texts):] == [{r["need"]} if r["need"] else set() for r in rows]
    # A disabled default need loses its examples in that language too; generic sentences stay.
    cfg = validate_config({"products": [{"key": "a", "name": "A"}],
                           "needs": {"disable": ["content"]}}, "r.toml")
    texts, labels = needs_training_set(build_taxonomy(cfg.needs).needs, ("en", lang))
    assert not any("content" in lab for lab in labels)
    assert sum(lab == set() for lab in labels) == (
        sum(lab == set() for lab in en_labels) + sum(not r["need"] for r in rows))
    with pytest.raises(ValueError, match=r"'de'.*en, fr, nl"):
        needs_training_set(DEFAULT_NEEDS, ("en", "de"))


def test_training_sentences_cover_every_need_and_generic_negatives() -> None:
    texts, labels = training_sentences(DEFAULT_NEEDS)
    assert len(texts) == len(labels)
    for need in DEFAULT_NEEDS:
        assert sum(need.id in lab for lab in labels) == len(need.examples) + 1
    assert any(lab == set() for lab in labels)


def test_every_example_sentence_has_its_polarity_written() -> None:
    """``examples/needs_en_polarity.csv`` holds the English training sentences (examples,
    descriptions, generic sentences) in their order, so a sentence added to the taxonomy
    without one fails here; every language's file gives each row one of the polarities."""
    import csv

    from analysis.classify.training import (
        ENGLISH_POLARITY,
        EXAMPLE_LANGUAGES,
        POLARITIES,
        example_polarity,
        needs_training_set,
    )

    with ENGLISH_POLARITY.open(encoding="utf-8", newline="") as fh:
        english = [r["text"] for r in csv.DictReader(fh)]
    assert english == training_sentences(DEFAULT_NEEDS)[0]
    written = example_polarity(EXAMPLE_LANGUAGES)
    texts, _ = needs_training_set(DEFAULT_NEEDS, EXAMPLE_LANGUAGES)
    assert set(written) == set(texts)
    assert set(written.values()) == set(POLARITIES)


def test_a_polarity_that_is_not_one_of_the_five_names_its_file_and_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis.classify import training

    (tmp_path / "needs_fr.csv").write_text(
        "need,text,polarity\nreliability,Ça plante.,negative\npricing,Trop cher.,angry\n",
        encoding="utf-8")
    monkeypatch.setattr(training, "EXAMPLES_DIR", tmp_path)
    with pytest.raises(ValueError, match=r"needs_fr\.csv: 'Trop cher\.' has polarity 'angry'"):
        training.example_polarity(("fr",))
    # One text given two polarities (in two files) is refused too, naming both.
    (tmp_path / "needs_fr.csv").write_text("need,text,polarity\npricing,OK,neutral\n",
                                           encoding="utf-8")
    (tmp_path / "needs_nl.csv").write_text("need,text,polarity\npricing,OK,positive\n",
                                           encoding="utf-8")
    assert training.example_polarity(("fr",)) == {"OK": "neutral"}
    with pytest.raises(ValueError, match=r"needs_nl\.csv: 'OK' is 'positive' here and 'neutral'"):
        training.example_polarity(("fr", "nl"))
