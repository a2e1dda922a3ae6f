"""``[classification] requests = "asked"``: a request must ask in its wording (English).

The rule (:mod:`analysis.classify.requests`) is read on sentences written here, and the option
through the shipped classifier on the written sets and the real hand-labelled reviews, against
the default (``"learned"``), which must not move.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.classify.requests import asks_for_something

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize("text", [
    "Please add a dark mode.",
    "would be great to have a widget on the lock screen",
    "There is no way to export my notes.",
    "No dark mode? Really?",
    "Bring back the old layout!",
    "Any plans to support tablets?",
    "Add folders. That's all I need.",
    "I wish it synced with my watch.",
    "It doesn't have Welsh at all.",
    "Can you make the font bigger?",
    "Missing a search bar.",
])
def test_wording_that_asks_or_wishes(text: str) -> None:
    assert asks_for_something(text)


@pytest.mark.parametrize("text", [
    "Please fix the crash when I save.",
    "Can you fix this bug asap",
    "The app crashes when I open the camera.",
    "Since the update the share button is hidden under the keyboard.",
    "Their lack of communication is shocking.",
    "It should be free for students.",
    "I called and there's no-one there.",
    "Can you imagine paying for this?",
    "Great app, works well.",
])
def test_wording_that_does_not(text: str) -> None:
    assert not asks_for_something(text)


def test_only_languages_with_a_rule_lose_a_request() -> None:
    """A row loses ``feature_request`` only when its language has a rule and the rule finds no
    ask; French (no rule) and rows that ask keep the heads' answer; other columns are left."""
    from analysis.classify.pipeline import _keep_asked_requests

    labels = ("problem_report", "feature_request", "praise")
    yes = np.array([[True, True, False]] * 4)
    texts = ["The button is gone.", "Le bouton a disparu.", "Please add the button back.",
             "The button is gone."]
    _keep_asked_requests(yes, labels, texts, ["en", "fr", "en", None])
    assert yes[:, 1].tolist() == [False, True, True, True]
    assert yes[:, 0].all()


def test_the_option_is_checked() -> None:
    from analysis.config import ConfigError, validate_config

    with pytest.raises(ConfigError, match="requests"):
        validate_config({"products": [{"key": "b", "name": "B"}],
                         "classification": {"requests": "polite"}}, "bad.toml")


@pytest.fixture(scope="module")
def classifiers():  # type: ignore[no-untyped-def]
    """The shipped default classifier with ``requests`` learned (default) and asked."""
    import tempfile

    pytest.importorskip("transformers")
    from analysis.classify.pipeline import build_classifier
    from analysis.config import validate_config

    def build(requests: str | None):  # type: ignore[no-untyped-def]
        section = {} if requests is None else {"requests": requests}
        return build_classifier(validate_config(
            {"products": [{"key": "b", "name": "B"}],
             "project": {"workspace": tempfile.mkdtemp()}, "classification": section},
            "test.toml"))
    return build(None), build("asked")


@pytest.mark.ml
def test_asked_requests_on_written_and_real_reviews(classifiers, raw_fixtures: Path) -> None:  # type: ignore[no-untyped-def]
    """Measured (feature_request precision / recall / F1), default -> asked: faults told with
    the words of features (64 written) 0.67 / 0.74 / 0.70 -> 1.00 / 0.74 / 0.85; 106 written
    reviews of other apps 0.870 -> 0.865; 48 written requests 0.971 -> 0.970; 313 real reviews
    labelled by hand 0.40 / 0.83 / 0.54 -> 0.68 / 0.63 / 0.65 (the default heads of 2026-11-25;
    with those before, 0.60 / 0.79 / 0.68 -> 1.00 / 0.79 / 0.88, 0.922 -> 0.919, 0.971 -> 0.970,
    0.34 / 0.83 / 0.49 -> 0.65 / 0.62 / 0.64). The rule was shaped on these sets. Problem
    reports, praise, needs and their polarity do not move."""
    from analysis.classify.evaluate import evaluate, read_labelled
    from tests.support.real_reviews import input_type_and_needs_figures, labelled_real_reviews

    learned, asked = classifiers
    assert "req-asked1" in asked.model_version
    assert "req-asked1" not in learned.model_version
    bars = {"written_input_types_en_dev.csv": (0.95, 0.82), "written_reviews.csv": (0.93, 0.84),
            "written_needs_requests.csv": (0.97, 0.95)}
    for name, (precision, f1) in bars.items():
        frame = read_labelled(DATA / name)
        was = evaluate(learned, frame)["labels"]["feature_request"]
        now = evaluate(asked, frame)["labels"]["feature_request"]
        assert now["precision"] >= max(precision, was["precision"]), (name, was, now)
        assert now["f1"] >= f1, (name, was, now)
    real = labelled_real_reviews(raw_fixtures)
    was, now = (input_type_and_needs_figures(real, c) for c in (learned, asked))
    assert was["feature_request"]["precision"] < 0.45 < 0.60 <= now["feature_request"]["precision"]
    assert now["feature_request"]["f1"] >= was["feature_request"]["f1"] + 0.10
    for key in ("problem_report", "praise", "needs"):
        assert now[key] == was[key], key
    assert now["mentions"] == was["mentions"]


@pytest.mark.ml
def test_asked_requests_on_reviews_written_apart_from_the_rule(classifiers) -> None:  # type: ignore[no-untyped-def]
    """``written_input_types_en_holdout.csv``: 60 reviews written by a separate helper session
    that saw neither the rule nor the other sets, labelled in the same convention (a request
    asks; a removed feature not asked back is a problem report), committed before anything ran
    on them. feature_request precision / recall / F1: default 0.91 / 0.87 / 0.889, asked 0.95 /
    0.83 / 0.884; problem_report 0.863 and praise 0.786 either way. With the default heads before
    2026-11-25 (default 0.80 / 0.87 / 0.833) asked gained 0.05 F1 here; the heads that learned
    the examples' polarity read these requests as well as the rule does, so asked now only trades
    a request found for precision."""
    from analysis.classify.evaluate import evaluate, read_labelled

    learned, asked = classifiers
    frame = read_labelled(DATA / "written_input_types_en_holdout.csv")
    was, now = (evaluate(c, frame)["labels"] for c in (learned, asked))
    assert now["feature_request"]["precision"] >= 0.90, now["feature_request"]
    assert now["feature_request"]["precision"] > was["feature_request"]["precision"]
    assert now["feature_request"]["f1"] >= was["feature_request"]["f1"] - 0.01
    assert now["feature_request"]["recall"] >= 0.75, now["feature_request"]
    assert now["problem_report"] == was["problem_report"]


@pytest.mark.ml
def test_a_mention_in_an_unworded_request_still_counts_against_its_need(classifiers) -> None:  # type: ignore[no-untyped-def]
    """The option changes the input types shown, not the polarity of need mentions: the
    complaint rule reads the heads' own requests either way."""
    learned, asked = classifiers
    text = "They took away the offline dictionary in the new version."
    assert not asks_for_something(text)
    a, b = learned.classify([text])[0], asked.classify([text])[0]
    assert (a.feature_request, a.input_type) == (True, "feature_request")
    assert b.feature_request is False
    assert b.input_type != "feature_request"
    assert [s.input_type for s in b.sentences] != ["feature_request"]
    assert a.needs == b.needs
    assert "features" in a.needs
    assert [s.need_sentiment for s in a.sentences] == [s.need_sentiment for s in b.sentences]
    assert a.sentences[0].need_sentiment["features"][0] == "negative"
