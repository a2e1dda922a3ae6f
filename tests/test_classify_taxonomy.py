"""The needs taxonomy and its interplay with the config's [needs] section."""

from __future__ import annotations

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


def test_training_sentences_cover_every_need_and_generic_negatives() -> None:
    texts, labels = training_sentences(DEFAULT_NEEDS)
    assert len(texts) == len(labels)
    for need in DEFAULT_NEEDS:
        assert sum(need.id in lab for lab in labels) == len(need.examples) + 1
    assert any(lab == set() for lab in labels)
