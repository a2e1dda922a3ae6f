"""``reviewgap import``: bad rows are skipped with line numbers, good rows land once."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from analysis.cli import cli
from analysis.store import ReviewStore

CONFIG = """
[project]
workspace = "ws"
[[products]]
key = "acme"
name = "Acme"
"""


def setup(tmp_path: Path) -> Path:
    path = tmp_path / "reviewgap.toml"
    path.write_text(CONFIG, "utf-8")
    return path


def test_csv_import_skips_bad_rows_and_is_idempotent(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    data = tmp_path / "tickets.csv"
    data.write_text(
        "id,body,stars,created\n"
        "1,Sync lost my notes,1,2026-03-01\n"          # line 2: good
        "2,,3,2026-03-02\n"                             # line 3: empty text
        "3,Great support,7,2026-03-03\n"                # line 4: rating out of range
        "4,Crashes on start,2,not a date\n"            # line 5: bad date
        '5,"Multi\nline text",4,2026-03-05T10:00:00+02:00\n'  # lines 6-7: good
        "6,No rating or date,,\n",                      # line 8: good (only text required)
        "utf-8",
    )
    args = ["import", str(data), "--product", "acme", "--config", str(cfg),
            "--text-column", "body", "--rating-column", "stars", "--date-column", "created"]
    runner = CliRunner()
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "3 new, 0 updated, 0 unchanged, 3 skipped" in first.output
    assert "tickets.csv:3: skipped: empty 'body'" in first.output
    assert "tickets.csv:4: skipped: rating '7'" in first.output
    assert "tickets.csv:5: skipped: date 'not a date' does not parse" in first.output
    second = runner.invoke(cli, args)
    assert "0 new, 0 updated, 3 unchanged, 3 skipped" in second.output
    store = ReviewStore(tmp_path / "ws" / "reviewgap.sqlite")
    frame = store.reviews_frame().set_index("review_id")
    assert len(frame) == 3
    assert frame.loc["acme:5", "published_at"].isoformat() == "2026-03-05T08:00:00+00:00"
    assert pd.isna(frame.loc["acme:6", "rating"])
    assert frame.loc["acme:1", "rating"] == 1


def test_jsonl_without_ids_dedupes_on_content(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    data = tmp_path / "survey.jsonl"
    rows = [{"text": "Please add export to PDF", "rating": 3}, {"text": "Love it"},
            "not an object", {"text": "Love it"}]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", "utf-8")
    result = CliRunner().invoke(cli, ["import", str(data), "--product", "acme",
                                      "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    # The repeated "Love it" row is the same review: stored once (new, then unchanged).
    assert "2 new, 0 updated, 1 unchanged, 2 skipped" in result.output
    assert "survey.jsonl:3: skipped: not a JSON object" in result.output
    assert "survey.jsonl:5: skipped: not a JSON object" in result.output


def test_unknown_product_and_missing_text_column_exit_2(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    data = tmp_path / "x.csv"
    data.write_text("comment\nhello\n", "utf-8")
    runner = CliRunner()
    bad_product = runner.invoke(cli, ["import", str(data), "--product", "nope",
                                      "--config", str(cfg)])
    assert bad_product.exit_code == 2
    assert "'nope' is not in" in bad_product.output
    no_text = runner.invoke(cli, ["import", str(data), "--product", "acme", "--config", str(cfg)])
    assert no_text.exit_code == 2
    assert "no column 'text'" in no_text.output
