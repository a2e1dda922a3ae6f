"""The shipped classifiers on real reviews that are not minibar-en (recorded source pages in
../shared/fixtures/raw, parsed by reviewgap's page parsers; see tests/support/real_reviews.py).

Their stars hold sentiment (stars <= 2 vs >= 4) and language routing to bars a few points under
what was measured (bench/results/real_reviews.md), and input types must follow the stars
(problem reports among low ratings, praise among high ones). 320 of them (the translator app and
the telecom company) also carry our hand labels (tests/data/real_review_labels.csv), which hold
input types and needs to bars. Nothing was fitted on these reviews. The multilingual encoder on
the Dutch, Japanese and German pages is tested in test_classify_multilingual.py.
"""

from __future__ import annotations

import pytest

from tests.support.real_reviews import (
    figures,
    input_type_and_needs_figures,
    label,
    labelled_real_reviews,
    real_reviews,
)

pytestmark = pytest.mark.ml
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def reviews(raw_fixtures):
    return real_reviews(raw_fixtures)


@pytest.fixture(scope="module")
def default_figures(reviews):
    from analysis.classify.pipeline import build_classifier

    return figures(label(reviews, build_classifier(None))).set_index("set")


def test_the_recordings_hold_the_reviews_expected(reviews) -> None:
    counts = reviews.groupby("set").size().to_dict()
    assert counts == {"google_play_translate": 300, "trustpilot_bt": 20,
                      "trustpilot_eventnet": 18, "recipe_jsonld": 6, "app_store_nl": 50,
                      "app_store_jp": 50}
    assert reviews["rating"].between(1, 5).all()


def test_default_classifier_routes_other_languages_to_skipped(default_figures) -> None:
    f = default_figures
    # The German, Dutch and Japanese pages are skipped (English-only encoder), counted, except
    # the few reviews written in English there (5 of the Dutch bank's, 1 Japanese).
    assert f.loc["trustpilot_eventnet", "skipped_language"] == 18
    assert f.loc["app_store_jp", "skipped_language"] >= 47
    assert f.loc["app_store_nl", "skipped_language"] >= 43
    # English pages are labelled; the Google Play page has a few reviews in other languages.
    assert f.loc["trustpilot_bt", "labelled"] == 20
    assert f.loc["google_play_translate", "labelled"] >= 285


def test_default_sentiment_on_real_reviews_of_other_products(default_figures) -> None:
    f = default_figures
    # Measured 0.889 (270 polar reviews; the negative ones are the harder: recall 0.72, many
    # are neutral-toned bug reports) and 0.947 (19).
    g = f.loc["google_play_translate"]
    assert g["sentiment_accuracy"] >= 0.85, g
    assert g["negative_recall"] >= 0.65, g
    assert g["positive_recall"] >= 0.93, g
    assert f.loc["trustpilot_bt", "sentiment_accuracy"] >= 0.89


def test_default_input_types_follow_the_stars(default_figures) -> None:
    g = default_figures.loc["google_play_translate"]
    # Problem reports come with low ratings (measured 0.46 of 1-2 star reviews, 0.03 of 4-5),
    # praise with high ones (0.90 of 4-5 star reviews).
    assert g["problem_report_1-2"] >= 0.35
    assert g["problem_report_4-5"] <= 0.08
    assert g["praise_4-5"] >= 0.8


def test_default_input_types_and_needs_against_hand_labels(raw_fixtures) -> None:
    """Measured (313 of 320 labelled ``ok``; 7 in other languages): problem_report F1 0.740
    (P 0.83, R 0.67), feature_request 0.488 (P 0.35, R 0.83), praise 0.897, needs pooled F1
    0.596 (P 0.59, R 0.60), criticised mentions found 105 of 167, praised 8 of 21, aspect
    sentiment 0.823 (n = 113; 0.646 before the complaint rule, 0.681 before it took in requests;
    these reviews' misread requests were read while that change was shaped, and it was decided
    on ``written_needs_requests.csv``). With the default heads refitted on 2026-11-25 (the
    examples' written polarity learned too): problem_report 0.800 (P 0.85, R 0.75),
    feature_request 0.541 (P 0.40, R 0.83), praise 0.902, needs 0.626 (P 0.60, R 0.66),
    criticised found 116 of 167, praised 8 of 21, aspect sentiment 0.839 (n = 124). These reviews
    weighed in that choice (the rule for it was fixed before the fit ran: these four figures not
    lower, the written sets' needs F1 and aspect sentiment higher, written_reviews.csv problem
    reports at least 0.94). The weak side: faults told with
    the words of features ("the Send button is hidden under the navigation bar since the
    update", our wording) are read as requests rather than problem reports."""
    from analysis.classify.pipeline import build_classifier

    frame = labelled_real_reviews(raw_fixtures)
    assert len(frame) == 320
    f = input_type_and_needs_figures(frame, build_classifier(None))
    assert f["ok"] >= 310
    assert f["problem_report"]["f1"] >= 0.70, f["problem_report"]
    assert f["problem_report"]["precision"] >= 0.78, f["problem_report"]
    assert f["feature_request"]["recall"] >= 0.75, f["feature_request"]
    assert f["praise"]["f1"] >= 0.86, f["praise"]
    assert f["needs"]["f1"] >= 0.55, f["needs"]
    assert f["mentions"]["recall_by_polarity"]["negative"]["recall"] >= 0.58, f["mentions"]
    assert f["mentions"]["aspect_sentiment_accuracy"] >= 0.78, f["mentions"]
