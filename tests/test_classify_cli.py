"""`reviewgap classify` (file and store mode), `train` and `evaluate` on a tiny offline model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from click.testing import CliRunner

from analysis.classify.hub import resolve_model
from tests.support.tiny_models import build_tiny_encoder, build_tiny_heads

ROWS = [
    ("r1", "The app crashes every time I open it. Please fix", "1"),
    ("r2", "great app, love it", "5"),
    ("r3", "", ""),
    ("r4", "Cette application est vraiment excellente, je la recommande à tout le monde.", "5"),
    ("r5", "Please add a dark mode. Why is sync so slow?", "3"),
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    enc = build_tiny_encoder(folder / "encoder")
    build_tiny_heads(folder / "heads", resolve_model(str(enc), "x").id)
    (folder / "reviewgap.toml").write_text(
        '[project]\nworkspace = "ws"\n\n[classification]\nencoder = "encoder"\n'
        'heads = "heads"\n\n[[products]]\nkey = "acme"\nname = "Acme"\n', "utf-8")
    return folder


def _write(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _cli(*args: str):
    from analysis.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_file_mode_writes_one_labelled_row_per_input(project: Path, tmp_path: Path) -> None:
    src = _write(tmp_path / "in.csv", ["id", "text", "rating"], ROWS)
    out = tmp_path / "out.csv"
    res = _cli("classify", "-c", str(project / "reviewgap.toml"), "--input", str(src),
               "--output", str(out), "--no-progress")
    assert res.exit_code == 0, res.output
    assert "classified 5 rows" in res.output
    assert "1 skipped (language)" in res.output
    with out.open(encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert [r["id"] for r in got] == ["r1", "r2", "r3", "r4", "r5"]
    for col in ("sentiment", "sentiment_score", "problem_report", "feature_request", "praise",
                "needs", "question", "language", "status"):
        assert col in got[0]
    assert [r["status"] for r in got] == ["ok", "ok", "empty_text", "skipped_language", "ok"]
    for r in (got[0], got[1], got[4]):
        assert r["sentiment"] in ("negative", "neutral", "positive")
        assert -1 <= float(r["sentiment_score"]) <= 1
        assert r["problem_report"] in ("0", "1")
        assert all(n for n in r["needs"].split(";")) or r["needs"] == ""
    assert got[3]["language"] == "fr"
    assert got[3]["sentiment"] == ""


def test_file_mode_numbers_rows_without_id_column(project: Path, tmp_path: Path) -> None:
    src = _write(tmp_path / "in.csv", ["text"], [(r[1],) for r in ROWS[:2]])
    out = tmp_path / "out.csv"
    res = _cli("classify", "-c", str(project / "reviewgap.toml"), "--input", str(src),
               "--output", str(out), "--no-progress")
    assert res.exit_code == 0, res.output
    assert [r["id"] for r in csv.DictReader(out.open(encoding="utf-8"))] == ["1", "2"]


@pytest.mark.parametrize(("header", "rows", "needle"), [
    (["body"], [("x",)], "no 'text' column"),
    (["text", "rating"], [("x", "7")], "column 'rating', row 2"),
])
def test_file_mode_errors_name_file_and_column(project: Path, tmp_path: Path, header, rows,
                                               needle) -> None:
    src = _write(tmp_path / "bad.csv", header, rows)
    res = _cli("classify", "-c", str(project / "reviewgap.toml"), "--input", str(src),
               "--output", str(tmp_path / "o.csv"))
    assert res.exit_code == 2
    assert str(src) in res.output
    assert needle in res.output


def test_store_mode_classifies_only_new_reviews(project: Path) -> None:
    from analysis.store import ReviewStore

    store = ReviewStore(project / "ws" / "reviewgap.sqlite")
    store.upsert_reviews([{"source": "import", "review_id": r[0], "product": "acme",
                           "text": r[1], "rating": int(r[2]) if r[2] else None}
                          for r in ROWS])
    store.close()
    cfg = str(project / "reviewgap.toml")
    first = _cli("classify", "-c", cfg, "--no-progress")
    assert first.exit_code == 0, first.output
    assert "classified 5 of 5 pending" in first.output
    assert "1 skipped (language)" in first.output
    assert "note:" in first.output
    second = _cli("classify", "-c", cfg, "--no-progress")
    assert "classified 0 of 0 pending" in second.output


def test_evaluate_writes_latest_json(project: Path, tmp_path: Path) -> None:
    src = _write(tmp_path / "lab.csv", ["text", "rating", "problem_report", "feature_request"],
                 [("crash crash app", "1", "1", "0"), ("please add sync", "3", "0", "1"),
                  ("great app love it", "5", "0", "0"), ("the app is slow", "2", "1", "0")])
    res = _cli("evaluate", "-c", str(project / "reviewgap.toml"), "--input", str(src))
    assert res.exit_code == 0, res.output
    data = json.loads((project / "ws" / "evaluation" / "latest.json").read_text("utf-8"))
    assert {"model_version", "input", "n", "created_at", "labels", "confusion",
            "sentiment_accuracy"} <= set(data)
    assert data["n"] == 4
    assert data["input"] == str(src)
    for label in ("problem_report", "feature_request"):
        m = data["labels"][label]
        assert {"precision", "recall", "f1", "support"} <= set(m)
        (tn, fp), (fn, tp) = data["confusion"][label]
        assert tn + fp + fn + tp == 4
        assert tp + fn == m["support"]
    assert 0 <= data["sentiment_accuracy"] <= 1
    assert "problem_report" in res.output


def test_evaluate_needs_with_polarities(project: Path, tmp_path: Path) -> None:
    """Needs labelled with each mention's polarity: per-need and pooled figures, mentions found
    by polarity and aspect sentiment, in the JSON and on screen. The tiny model's random heads
    make the figures meaningless; their bookkeeping is what is checked."""
    src = _write(tmp_path / "needs.csv", ["text", "needs"],
                 [("the app crashes", "reliability:negative"),
                  ("great price , love it", "pricing:positive"),
                  ("slow sync and bad price", "sync_data:negative;pricing:negative"),
                  ("love it", "")])
    res = _cli("evaluate", "-c", str(project / "reviewgap.toml"), "--input", str(src))
    assert res.exit_code == 0, res.output
    data = json.loads((project / "ws" / "evaluation" / "latest.json").read_text("utf-8"))
    micro = data["labels"]["need:all (micro)"]
    assert micro["support"] == 4
    (tn, fp), (fn, tp) = data["confusion"]["need:all (micro)"]
    assert tn + fp + fn + tp == 4 * 12  # every (review, need) pair of the 12 default needs
    mentions = data["need_mentions"]
    assert mentions["recall_by_polarity"]["negative"]["n"] == 3
    assert mentions["recall_by_polarity"]["positive"]["n"] == 1
    found = sum(v["found"] for v in mentions["recall_by_polarity"].values())
    assert mentions["aspect_n"] == found == tp
    assert "need mentions found, by labelled polarity: negative" in res.output


def test_evaluate_and_train_refuse_unknown_need_ids(project: Path, tmp_path: Path) -> None:
    src = _write(tmp_path / "typo.csv", ["text", "needs", "problem_report"],
                 [("the app crashes", "reliabilty", "1"), ("love it", "", "0")])
    for args in (["evaluate"], ["train", "--out", str(tmp_path / "h")]):
        res = _cli(*args, "-c", str(project / "reviewgap.toml"), "--input", str(src))
        assert res.exit_code == 2, (args, res.output)
        assert "typo.csv: column 'needs', row 2: unknown need id(s) reliabilty" in res.output
    assert not (tmp_path / "h").exists()


def test_train_writes_heads_that_classify_uses(project: Path, tmp_path: Path) -> None:
    rows = []
    for i in range(12):
        rows += [(f"the app crashes {i}", "1", "1"), (f"great app love it {i}", "5", "0"),
                 (f"please add sync {i}", "3", "0")]
    src = _write(tmp_path / "lab.csv", ["text", "rating", "problem_report"], rows)
    out = tmp_path / "my-heads"
    res = _cli("train", "-c", str(project / "reviewgap.toml"), "--input", str(src),
               "--out", str(out))
    assert res.exit_code == 0, res.output
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["trained_from"] == str(src)
    assert "problem_report" in manifest["user_fit"]
    from analysis.classify.heads import HeadSet

    new, old = HeadSet.load(out), HeadSet.load(project / "heads")
    assert new.digest != old.digest
    # Labels absent from the file keep the previous heads.
    j = new.heads["input_types"].labels.index("question")
    assert (new.heads["input_types"].coef[j] == old.heads["input_types"].coef[j]).all()


def test_train_rejects_a_file_without_labels(project: Path, tmp_path: Path) -> None:
    src = _write(tmp_path / "lab.csv", ["text"], [("x",)])
    res = _cli("train", "-c", str(project / "reviewgap.toml"), "--input", str(src))
    assert res.exit_code == 2
    assert "no label column" in res.output
