"""The shipped classifier on reviews of other apps: ``tests/data/written_reviews.csv``.

minibar-en (what the heads learned from) is three fitness apps. These 106 short reviews were
written for this test, never trained on, about banking, music, notes, shopping, maps and other
apps, in the forms quick mobile reviews take: terse requests ("Widget please"), requests asked as
questions, missing functionality stated flatly, conditional praise, "please fix" bug reports
(problem reports, not feature requests), praise of an update (not a request), and plain
statements. Labels are the project's definitions; ``sentiment`` is neutral where the text takes
no side (left out of the polarity figure).

Measured with the shipped default heads (2026-11-23): problem_report F1 0.971, feature_request
F1 0.922, praise accuracy 0.849, polarity accuracy 0.937 (63 polar rows). With the heads refitted
on 2026-11-25 (the examples' written polarity learned too): 0.941, 0.870, 0.830, 0.905, lower
here and higher on the real reviews labelled by hand (problem_report 0.74 -> 0.80,
feature_request 0.49 -> 0.54). The bars below sit a few points under those figures: they catch a
refit that learns the fitness apps' vocabulary at the expense of reviews in general.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.support.written_needs import written_needs_figures

pytestmark = pytest.mark.ml
pytest.importorskip("transformers")

DATA = Path(__file__).resolve().parent / "data" / "written_reviews.csv"
BARS = {"problem_report_f1": 0.90, "feature_request_f1": 0.85, "praise_accuracy": 0.78,
        "polarity_accuracy": 0.85}


@pytest.fixture(scope="module")
def classifier():  # type: ignore[no-untyped-def]
    """The shipped default classifier, loaded once for this module."""
    from analysis.classify.pipeline import build_classifier

    return build_classifier(None)


def not_trained_on(texts: pd.Series) -> bool:
    """None of ``texts`` is one of the heads' example sentences (held out from training)."""
    return not trained_on(texts).any()


def trained_on(texts: pd.Series) -> pd.Series:
    """Which of ``texts`` are one of the heads' example sentences."""
    from analysis.classify.fit_defaults import EXAMPLES

    return texts.isin(pd.read_csv(EXAMPLES)["text"])


@pytest.fixture(scope="module")
def figures(classifier) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from sklearn.metrics import f1_score

    rows = pd.read_csv(DATA)
    out = classifier.classify(rows["text"].tolist())
    assert [o.status for o in out] == ["ok"] * len(rows)

    def got(label: str) -> np.ndarray:
        return np.array([getattr(o, label) for o in out], dtype=bool)

    polar = rows["sentiment"].isin(["positive", "negative"]).to_numpy()
    sentiment = np.array([o.sentiment for o in out])
    return {
        "problem_report_f1": f1_score(rows["problem_report"].astype(bool), got("problem_report")),
        "feature_request_f1": f1_score(rows["feature_request"].astype(bool),
                                       got("feature_request")),
        "praise_accuracy": float(np.mean(rows["praise"].astype(bool) == got("praise"))),
        "polarity_accuracy": float(np.mean(sentiment[polar]
                                           == rows["sentiment"].to_numpy()[polar])),
    }


def test_written_reviews_cover_every_form_and_label() -> None:
    rows = pd.read_csv(DATA)
    assert len(rows) == 106
    assert rows["text"].is_unique
    assert set(rows.columns) == {"text", "problem_report", "feature_request", "praise",
                                 "sentiment"}
    for label in ("problem_report", "feature_request", "praise"):
        assert 10 < rows[label].sum() < len(rows) - 10, label
    assert set(rows["sentiment"]) == {"positive", "neutral", "negative"}
    assert not_trained_on(rows["text"])


@pytest.mark.parametrize("metric", list(BARS))
def test_shipped_heads_label_reviews_of_other_apps(figures: dict[str, float],
                                                  metric: str) -> None:
    assert figures[metric] >= BARS[metric], figures


def test_faults_told_with_the_words_of_features(classifier) -> None:  # type: ignore[no-untyped-def]
    """``written_input_types_en_dev.csv``: 64 reviews written for the project after hand-labelling
    real reviews showed requests over-read on them: faults told with the words of features ("the
    Save button sits under the keyboard"), service complaints, removed features with and without
    asking for them back, requests, praise. Labelled by the hand-label rules
    (:data:`tests.support.real_reviews.LABELS`: a removed feature is a problem report, and a
    request only when the reviewer asks for it back).

    Measured with the shipped heads (2026-11-24) on the 63 that are not one of the heads' example
    sentences: problem_report precision 1.0, recall 0.56, F1 0.714; feature_request precision
    0.58, recall 0.78, F1 0.667 (10 of the 32 reviews that ask
    for nothing but report a fault read as requests; with the heads of 2026-11-25 the same
    problem_report figures, feature_request 0.65 / 0.72 / 0.684, 7 faults read as requests). A
    rule keeping a request only where the
    text asks or wishes ("please", "add", "would", "wish", "missing", ...) was measured and not
    shipped: requests here (all 64) 0.682 -> 0.848 and on the real reviews 0.488 -> 0.582, but
    minibar hold-out requests fell 0.731 / 0.721 / 0.790 -> 0.660 / 0.650 / 0.695 and the written
    reviews above 0.922 -> 0.879 (minibar's annotators call a wish for change a request however
    it is worded). The bars hold today's figures, so a change that reads these better shows."""
    from sklearn.metrics import precision_score, recall_score

    rows = pd.read_csv(DATA.with_name("written_input_types_en_dev.csv"))
    assert len(rows) == 64
    assert rows["text"].is_unique
    # One row turned out to be one of the heads' example sentences: it is left out.
    trained = trained_on(rows["text"])
    assert rows["text"][trained].tolist() == ["Please add a dark mode."]
    rows = rows[~trained].reset_index(drop=True)
    out = classifier.classify(rows["text"].tolist())
    pr = np.array([o.problem_report for o in out], dtype=bool)
    fr = np.array([o.feature_request for o in out], dtype=bool)
    assert precision_score(rows["problem_report"], pr) >= 0.9
    assert recall_score(rows["problem_report"], pr) >= 0.45
    assert recall_score(rows["feature_request"], fr) >= 0.7
    faults_only = ((rows["problem_report"] == 1) & (rows["feature_request"] == 0)).to_numpy()
    assert faults_only.sum() == 32
    assert fr[faults_only].sum() <= 12, rows["text"][faults_only & fr].tolist()


QUESTION_SETS = {
    # file: (bar, measured F1 with the shipped heads + the question rule, 2026-11-24)
    "written_questions.csv": (0.88, 0.938),
    "written_questions_holdout.csv": (0.88, 0.974),
}


@pytest.mark.parametrize("name", list(QUESTION_SETS))
def test_questions_in_reviews_of_other_apps_are_found(
        classifier, name: str) -> None:  # type: ignore[no-untyped-def]
    """Reviews written for this test, never trained on, half of them questions: with and
    without a question mark, asked after praise or a complaint; the others include rhetorical
    questions and statements about asking support.

    ``written_questions.csv`` (60) shaped the rule in :mod:`analysis.classify.questions`;
    ``written_questions_holdout.csv`` (40) was written before the rule was run on it. On the
    hold-out set the learned head alone scores F1 0.71 (recall 0.55), so this bar also fails if
    the pipeline stops applying the rule.
    """
    from sklearn.metrics import f1_score

    rows = pd.read_csv(DATA.with_name(name))
    assert rows["text"].is_unique
    assert rows["question"].sum() == len(rows) // 2
    assert not_trained_on(rows["text"])
    out = classifier.classify(rows["text"].tolist())
    got = np.array([o.question for o in out], dtype=bool)
    assert f1_score(rows["question"].astype(bool), got) >= QUESTION_SETS[name][0]


def test_question_rule_reads_english_wording() -> None:
    from analysis.classify.questions import asks_question

    assert asks_question("Nice app, but where can I find my receipts?")
    assert asks_question("Great. Quick question, can I share a list?")
    assert asks_question("I would like to know if there is a family plan.")
    assert not asks_question("Seriously? Three crashes in ten minutes.")
    assert not asks_question("What a waste of money!")
    assert not asks_question("The question tab is empty.")
    assert not asks_question("Pourquoi l'application plante ?")
    assert asks_question("Please tell me how to reset it")
    assert not asks_question("They never tell me how long it takes.")  # a statement
    assert not asks_question("Can't they fix that?")  # a complaint, not a question
    assert not asks_question("")


def test_question_rules_read_chinese_and_japanese_wording() -> None:
    from analysis.classify.questions import QUESTION_RULES, asks_question_ja, asks_question_zh

    assert asks_question_zh("这个功能在哪里打开？")
    assert asks_question_zh("可以用微信支付吗")  # the particle, no mark
    assert asks_question_zh("很好用。请问怎么联系客服")
    assert not asks_question_zh("为什么总是这样，真让人无语。")  # a question word in a statement
    assert not asks_question_zh("难道就不能修一下吗？")  # rhetorical
    assert not asks_question_zh("怎么说呢，还可以。")  # 呢 before a comma
    assert not asks_question_zh("")
    assert asks_question_ja("ログアウトはどこからできますか？")
    assert asks_question_ja("家族で共有できますか")  # か, no mark
    assert asks_question_ja("退会方法を教えてください。")
    assert asks_question_ja("便利です。履歴はどこ？")  # a question word before the mark
    assert not asks_question_ja("なぜか毎回落ちる。")  # なぜか: "somehow"
    assert not asks_question_ja("これで完成版？")  # no か, no question word: rhetorical
    assert not asks_question_ja("本当に使えないの？")
    assert not asks_question_ja("")
    assert set(QUESTION_RULES) == {"en", "und", "zh", "ja"}
    assert not QUESTION_RULES["en"]("这个功能在哪里打开？")


# Needs on reviews of other apps, measured with the shipped needs head (2026-11-24, 311 example
# sentences) and clause reading: file -> bars (the measured figures in the comment above each).
# ``written_needs_dev.csv`` (81) guided the examples added to the taxonomy and the clause
# reading; ``written_needs_holdout.csv`` (110) was written before any needs head was run on it.
# The head fitted on the earlier 177 examples (about one praise sentence per need), reading
# whole sentences, scored on the hold-out set: F1 0.684, praised mentions found 21/43,
# criticised 43/59, aspect sentiment 0.797 (n=64). ``written_needs_mixed.csv`` (30): one
# sentence praising one need and blaming another; read whole, F1 0.710, praised 15/30,
# criticised 23/30, aspect sentiment 0.368 (n=38): both mentions got one sentiment.
# The comments give the figures of the default heads before 2026-11-25. The heads refitted that
# day (the examples' written polarity learned too, ``--needs-task --example-sentiment 0.1``)
# measure F1 (praised, criticised found), aspect sentiment: dev 0.818 (30/36, 34/40), 0.906;
# hold-out 0.806 (31/43, 51/59), 0.866; mixed 0.875 (27/30, 29/30), 0.911; hold-out 2 0.840
# (20/24, 34/39), 0.870; hold-out 3 0.776 (20/25, 32/44), 0.865; hold-out 4 0.793 (15/19, 33/41),
# 0.938; requests 0.779 (12/19, 39/50), 0.882.
NEEDS_SETS = {
    # F1 0.802, praised 28/36, criticised 36/40, aspect sentiment 0.922 (n=64; 0.906 before
    # requests joined the complaint rule)
    "written_needs_dev.csv": {"micro_f1": 0.75, "positive_recall": 0.65,
                              "negative_recall": 0.82, "aspect_sentiment": 0.84},
    # F1 0.779, praised 32/43, criticised 48/59, aspect sentiment 0.838 (n=80; 0.800 before the
    # complaint rule: a neutral mention in a problem-report sentence is negative; 0.812 before
    # it took in requests)
    "written_needs_holdout.csv": {"micro_f1": 0.72, "positive_recall": 0.62,
                                  "negative_recall": 0.72, "aspect_sentiment": 0.76},
    # F1 0.846, praised 26/30, criticised 29/30, aspect sentiment 0.800 (n=55; 0.745 before the
    # complaint rule, 0.782 before it took in requests)
    "written_needs_mixed.csv": {"micro_f1": 0.78, "positive_recall": 0.75,
                                "negative_recall": 0.85, "aspect_sentiment": 0.70},
    # 60 more, written later (2026-11-24) and committed before any classifier ran on them:
    # F1 0.824, praised 20/24, criticised 35/39, aspect sentiment 0.836 (n=55)
    "written_needs_holdout2.csv": {"micro_f1": 0.77, "positive_recall": 0.75,
                                   "negative_recall": 0.82, "aspect_sentiment": 0.77},
    # 63 more in the plainer wording of real reviews (a bare "doesn't work", the quality of a
    # translator's, map's or search engine's output, controls out of reach, telecom outages and
    # billing), committed before any classifier ran on them (2026-11-24): F1 0.770, praised 18/25,
    # criticised 34/44, aspect sentiment 0.846 (n=52), no-need reviews given one 0 of 7. Plain
    # faults ("the voice typing is not working since two days") and usability told as a control
    # out of reach are what it misses (reliability recall 6/11, usability F1 0.40).
    "written_needs_holdout3.csv": {"micro_f1": 0.72, "positive_recall": 0.64,
                                   "negative_recall": 0.70, "aspect_sentiment": 0.77},
    # 60 more, written by a separate helper session that saw neither the code, the examples nor
    # the other sets (plain wording, translator, dictation, banking, telecom, courier, ...),
    # committed before anything ran on them: F1 0.791, praised 15/19, criticised 36/41 (plain
    # faults 11 of 11 as reliability; content recall 5 of 11), aspect sentiment 0.922 (n=51),
    # no-need reviews given one 1 of 10.
    "written_needs_holdout4.csv": {"micro_f1": 0.74, "positive_recall": 0.70,
                                   "negative_recall": 0.80, "aspect_sentiment": 0.85},
}
SET_SIZE = {"n_positive": 20, "n_negative": 30, "n_no_need": 10}
"""What each set holds at least: praised and criticised mentions, reviews naming no need."""
SMALLER = {"written_needs_mixed.csv": {"n_no_need": 0},
           "written_needs_holdout3.csv": {"n_no_need": 7},
           "written_needs_holdout4.csv": {"n_positive": 19}}
"""Sets that hold less of something than :data:`SET_SIZE`."""


@pytest.fixture(scope="module")
def needs_figures(classifier):  # type: ignore[no-untyped-def]
    """``name -> written_needs_figures(classifier, name)``, each set classified once for the
    module (the per-set test and the test over all sets read the same figures)."""
    return functools.cache(functools.partial(written_needs_figures, classifier))


@pytest.mark.parametrize("name", list(NEEDS_SETS))
def test_needs_and_their_polarity_in_reviews_of_other_apps(
        needs_figures, name: str) -> None:  # type: ignore[no-untyped-def]
    """Short reviews written for this test (banking, music, notes, shopping, smart home, ...),
    each labelled with the needs it mentions and each mention's polarity; some name no need, and
    in the mixed set each review praises one need and blames another in one sentence.
    Praise of a need must be found as well as complaints: the report's negative shares and
    white space rest on both."""
    figures = needs_figures(name)  # classified once, as `evaluate` would
    assert not_trained_on(pd.read_csv(DATA.with_name(name))["text"])
    for key, least in {**SET_SIZE, **SMALLER.get(name, {})}.items():
        assert figures[key] >= least, (key, figures)
    assert all(figures[k] >= bar for k, bar in NEEDS_SETS[name].items()), figures
    # Reviews that name no need get none: at most two slips in a set, and see the test below.
    assert figures["no_need_given_one"] <= 2, figures


def test_reviews_that_name_no_need_get_none(needs_figures) -> None:  # type: ignore[no-untyped-def]
    """Over all the English needs sets, 49 reviews name no need ("Does what it says.",
    "Five stars."). Given a need: 2 of 49 with the default heads of 2026-11-25 (hold-out 2 of
    12), 2 of 49 with those before (dev 1 of 10, hold-out 4 1 of 10). A need given to them
    would put praise or blame that names nothing into the report's need shares."""
    figures = [needs_figures(name) for name in NEEDS_SETS]
    slips, total = (sum(f[k] for f in figures) for k in ("no_need_given_one", "n_no_need"))
    assert total >= 49, total
    assert slips <= 2, [(n, f["no_need_given_one"]) for n, f in zip(NEEDS_SETS, figures,
                                                                    strict=True)]


def test_a_request_counts_against_the_need_it_names(classifier) -> None:  # type: ignore[no-untyped-def]
    """``written_needs_requests.csv`` (48, written and committed before this rule ran on them):
    24 requests worded kindly ("great podcast player, would be even better with a sleep timer")
    or as complaints ("no dark mode in 2026?"), 8 reviews praising a feature that exists, 6
    faults told plainly, 10 sentences that praise one need and ask for something. A request
    names ``features`` (and what it asks for) as negative: the product lacks it. Measured
    (default heads): aspect sentiment 0.86 (n=50; 0.46 when requests were read by their
    wording), needs F1 0.752, praised 11/19, criticised 39/50; feature_request F1 0.971,
    problem_report 0.857, praise P 0.93 R 0.57 (praise next to a request is the weak side). With
    the heads of 2026-11-25: aspect sentiment 0.88, needs F1 0.779 (12/19, 39/50),
    feature_request 0.971, problem_report 0.769, praise P 1.0 R 0.52."""
    from analysis.classify.evaluate import evaluate, read_labelled

    figures = written_needs_figures(classifier, "written_needs_requests.csv")
    assert not_trained_on(pd.read_csv(DATA.with_name("written_needs_requests.csv"))["text"])
    assert figures["n_negative"] >= 40, figures
    assert figures["n_positive"] >= 15, figures
    assert figures["aspect_sentiment"] >= 0.80, figures
    assert figures["micro_f1"] >= 0.70, figures
    assert figures["negative_recall"] >= 0.72, figures
    labels = evaluate(classifier, read_labelled(DATA.with_name("written_needs_requests.csv")))[
        "labels"]
    assert labels["feature_request"]["f1"] >= 0.90, labels["feature_request"]
    assert labels["problem_report"]["precision"] >= 0.85, labels["problem_report"]


@pytest.mark.parametrize(("text", "praised"), [
    ("Having reminders is brilliant. Please add a widget.", "Having reminders is brilliant."),
    ("Dark mode alone makes it worth it. I wish it had tags though.",
     "Dark mode alone makes it worth it."),
    ("Packed with useful tools like PDF markup. A web version would be nice.",
     "Packed with useful tools like PDF markup."),
])
def test_praise_beside_a_request_is_not_a_complaint(classifier, text: str, praised: str) -> None:  # type: ignore[no-untyped-def]
    """Read in its review's context, praise next to a request reads as a request too; read
    again on its own it does not, so its mention stays positive while the request's is
    negative. (Without that second reading, the demo's praise mentions read right fell from
    539 to 470 of 659 and its report showed a features gap nobody planted.)"""
    (out,) = classifier.classify([text])
    first, second = out.sentences
    assert first.text == praised
    assert first.input_type == "feature_request"  # in the request's company: the case at hand
    assert [t for _, _, t in classifier.sentence_labels([praised])] != ["feature_request"]
    assert {first.mention_sentiment(n)[0] for n in first.needs} == {"positive"}, first
    assert second.needs, second
    assert {second.mention_sentiment(n)[0] for n in second.needs} == {"negative"}, second
