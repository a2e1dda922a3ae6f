"""The PDF as a person reads it, byte-reproducibility, and the ``reviewgap report`` command."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from analysis.cli import cli
from analysis.report.build import build_report
from analysis.store import ReviewStore
from tests.support.report_data import fill_store, generate, make_store, write_config

NOW = datetime(2025, 7, 1, tzinfo=UTC)
PRODUCTS = ["acme", "bolt", "cobalt"]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("pdf")
    cfg = write_config(folder, products=PRODUCTS)
    store = make_store(folder / "ws" / "reviewgap.sqlite", n=1200, products=PRODUCTS)
    first = build_report(store, cfg, now=NOW, out_dir=folder / "a")
    second = build_report(store, cfg, now=NOW, out_dir=folder / "b")
    return first, second


def test_same_data_same_bytes(two_builds) -> None:  # type: ignore[no-untyped-def]
    first, second = two_builds
    assert first.pdf.read_bytes() == second.pdf.read_bytes()
    assert first.html.read_bytes() == second.html.read_bytes()
    for csv in sorted(first.csv_dir.glob("*.csv")):
        assert csv.read_bytes() == (second.csv_dir / csv.name).read_bytes()


def test_pdf_reads_like_a_report(two_builds) -> None:  # type: ignore[no-untyped-def]
    first, _ = two_builds
    reader = PdfReader(first.pdf)
    n_pages = len(reader.pages)
    assert first.pdf.read_bytes().startswith(b"%PDF")
    assert reader.metadata.title == "Synthetic notes market"
    text = subprocess.run(["pdftotext", "-layout", str(first.pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    pages = text.split("\f")
    assert "Synthetic notes market" in pages[0]
    assert "Acme Notes" in pages[0]
    assert "Contents" in pages[1]
    assert f"Page 2 of {n_pages}" in pages[1]  # running footer with page numbers
    # The contents page lists each section with the page it really starts on.
    for title in ("Gap matrix", "Methodology"):
        listed = int(re.search(rf"{title}\s*\.*\s*(\d+)", pages[1]).group(1))
        assert title in pages[listed - 1].split("\n", 3)[2] or title in pages[listed - 1]
    flat = re.sub(r"\s+", " ", text)
    # The planted gap leads the executive summary; the white-space need is flagged.
    summary = re.sub(r"\s+", " ", pages[2])
    assert "Top gaps for Acme Notes" in summary
    assert summary.index("Sync and data") < summary.index("Top opportunities")
    assert "Price and subscription: all 3 products" in summary
    # Low-sample cells show their n instead of a rate.
    assert re.search(r"n=\d+", flat)
    assert "Accuracy on your own market has not been measured" in flat
    assert "Since last run" not in flat


MIN_PAGE_LINES = 5
"""A page with fewer body lines is a layout accident: a lone note after a table, or a table's
header and last two rows carried over (the demo report had both before the fix)."""


def body_lines_per_page(pdf: Path) -> list[int]:
    """Non-empty text lines per page, without the running header and the page-number footer."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    counts = []
    for page in text.split("\f")[:-1]:
        lines = [line for line in page.splitlines() if line.strip()]
        body = [line for line in lines if not re.search(r"Page \d+ of \d+", line)]
        counts.append(len(body) - 1)  # the first line is the running header
    return counts


def test_no_page_holds_just_a_line_or_two(two_builds) -> None:  # type: ignore[no-untyped-def]
    first, _ = two_builds
    counts = body_lines_per_page(first.pdf)
    assert len(counts) == len(PdfReader(first.pdf).pages)
    sparse = [(i + 1, n) for i, n in enumerate(counts) if n < MIN_PAGE_LINES]
    assert not sparse, f"(page, body lines) of near-empty pages: {sparse}"


def test_cli_writes_report_and_prints_pdf_path(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, products=PRODUCTS)
    store = ReviewStore(cfg.workspace / "reviewgap.sqlite")
    fill_store(store, generate(n=600, products=PRODUCTS))
    store.close()
    result = CliRunner().invoke(cli, ["report", "--config", str(cfg.path), "--out",
                                      str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    pdf = Path(result.output.strip().splitlines()[-1])
    assert pdf.is_file()
    assert pdf.parent == tmp_path / "out"
    assert sorted(p.suffix for p in pdf.parent.iterdir() if p.is_file()) == [
        ".html", ".pdf", ".xlsx"]
    assert (pdf.parent / "tables" / "need_shares.csv").is_file()


def test_cli_without_classified_reviews_exits_1(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, products=PRODUCTS)
    store = ReviewStore(cfg.workspace / "reviewgap.sqlite")
    store.upsert_reviews(generate(n=10, products=PRODUCTS)["reviews"])
    store.close()
    result = CliRunner().invoke(cli, ["report", "--config", str(cfg.path)])
    assert result.exit_code == 1
    assert "run `reviewgap classify` first" in result.output
