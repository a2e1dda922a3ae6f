"""Heads as arrays (save/load, sklearn equivalence), weak labels, labelled-file checks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from analysis.classify.evaluate import LabelledFileError, binary_metrics, read_labelled
from analysis.classify.heads import HeadSet, head_from_sklearn
from analysis.classify.training import (
    fit_binary,
    stars_to_sentiment,
    weak_praise,
    weak_question,
)


def test_weak_labels() -> None:
    assert weak_question("Nice app. How do I export my data?") == 1
    assert weak_question("I hate it?! Really") == 0  # "?" without an interrogative word
    assert weak_question("It crashes. Fix it") == 0
    assert weak_praise(5, 0, 0) == 1.0
    assert weak_praise(2, 0, 0) == 0.0
    assert math.isnan(weak_praise(5, 1, 0))
    assert stars_to_sentiment([1, 2, 3, 4, 5, float("nan")]).tolist() == [0, 0, 1, 2, 2, -1]


def test_sklearn_heads_convert_exactly_and_round_trip(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)).astype(np.float32)
    y3 = rng.integers(0, 3, 200)
    yb = (x[:, 0] + rng.normal(0, 0.5, 200) > 0).astype(int)
    multi = LogisticRegression(max_iter=500).fit(x, y3)
    binary = LogisticRegression(max_iter=500).fit(x, yb)
    soft = head_from_sklearn(multi, ("negative", "neutral", "positive"), "softmax")
    sig = head_from_sklearn([binary], ("problem_report",), "sigmoid", {"problem_report": 0.4})
    assert np.allclose(soft.predict_proba(x), multi.predict_proba(x), atol=1e-5)
    assert np.allclose(sig.predict_proba(x)[:, 0], binary.predict_proba(x)[:, 1], atol=1e-5)
    assert (sig.decide(sig.predict_proba(x))[:, 0] == (binary.predict_proba(x)[:, 1] >= 0.4)).all()
    binary_soft = head_from_sklearn(binary, ("no", "yes"), "softmax")
    assert np.allclose(binary_soft.predict_proba(x), binary.predict_proba(x), atol=1e-5)
    hs = HeadSet({"sentiment": soft, "input_types": sig}, {"encoder": "e"})
    hs.save(tmp_path / "h")
    back = HeadSet.load(tmp_path / "h")
    assert back.digest == hs.digest
    assert back.encoder == "e"
    assert np.allclose(back.heads["sentiment"].predict_proba(x), soft.predict_proba(x))
    assert not list((tmp_path / "h").glob("*.pkl"))


def test_fit_binary_chooses_threshold_by_cv() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] > 0.8).astype(int)  # rare positives: the best threshold is not always 0.5
    _model, thr, info = fit_binary(x, y)
    assert 0.2 <= thr <= 0.8
    assert info["cv_f1"] > 0.8
    assert info["C"] in (0.3, 1.0, 3.0, 10.0)


def test_binary_metrics_confusion() -> None:
    m = binary_metrics(np.array([1, 1, 0, 0, 1]), np.array([1, 0, 0, 1, 1]))
    assert m["confusion"] == [[1, 1], [1, 2]]
    assert m["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["support"] == 3


def test_read_labelled_checks_columns_and_values(tmp_path: Path) -> None:
    good = tmp_path / "g.csv"
    good.write_text("text,rating,problem_report,needs\na,1,1,pricing;support\nb,,0,\n", "utf-8")
    frame = read_labelled(good)
    assert frame["problem_report"].tolist() == [1, 0]
    assert frame["needs"].tolist() == [{"pricing", "support"}, set()]
    bad = tmp_path / "b.csv"
    bad.write_text("text,problem_report\na,maybe\n", "utf-8")
    with pytest.raises(LabelledFileError, match=r"b\.csv: column 'problem_report', row 2"):
        read_labelled(bad)
    none = tmp_path / "n.csv"
    none.write_text("body\nx\n", "utf-8")
    with pytest.raises(LabelledFileError, match="no 'text' column"):
        read_labelled(none)


def test_needs_may_carry_the_polarity_of_each_mention(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("text,needs\na,pricing:negative; support:Positive\nb,sync_data\nc,\n", "utf-8")
    frame = read_labelled(path)
    assert frame["needs"].tolist() == [{"pricing", "support"}, {"sync_data"}, set()]
    assert frame["need_polarity"].tolist() == [
        {"pricing": "negative", "support": "positive"}, {}, {}]
    path.write_text("text,needs\na,pricing\nb,pricing:angry\n", "utf-8")
    with pytest.raises(LabelledFileError,
                       match=r"p\.csv: column 'needs', row 3: polarity of 'pricing'.*'angry'"):
        read_labelled(path)


def test_unknown_need_ids_are_named_with_their_row() -> None:
    import pandas as pd

    from analysis.classify.evaluate import check_need_ids

    frame = pd.DataFrame({"text": ["a", "b"], "needs": [{"pricing"}, {"pricng", "support"}]})
    with pytest.raises(LabelledFileError, match=r"in\.csv: column 'needs', row 3: .*pricng"):
        check_need_ids(frame, ["pricing", "support"], "in.csv")
    check_need_ids(frame.iloc[:1], ["pricing", "support"], "in.csv")  # known ids: no error


def test_fit_defaults_need_threshold_takes_values_per_language() -> None:
    import argparse

    from analysis.classify.fit_defaults import need_threshold_arg

    assert need_threshold_arg("0.6") == (0.6, {})
    assert need_threshold_arg("0.6,fr=0.5,de=0.55") == (0.6, {"fr": 0.5, "de": 0.55})
    for bad in ("", "fr=0.5", "0.6,fr", "0.6,fr=x"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"0\.6,fr=0\.5"):
            need_threshold_arg(bad)
