"""Untrusted review text stays text: HTML, file:// and http:// URLs, scripts, formulas.

The hostile reviews are made the strongest complaints of their cells so they are quoted in the
PDF; the local server must receive no request, the PDF text must show the markup literally,
and the XLSX must hold the formula-looking text as an inert string.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from analysis.report.build import build_report
from analysis.report.pdf import RestrictedFetcher, write_pdf
from analysis.report.render import shipped_templates
from tests.support.report_data import MODEL_VERSION, make_store, write_config
from tests.support.server import LocalServer

PRODUCTS = ["acme", "bolt", "cobalt"]
FORMULA = "=cmd|' /C calc'!A0 sync wiped my notes again"


def hostile_texts(port: int) -> list[str]:
    return [
        '<img src="file:///etc/passwd"> sync wiped my notes again',
        f"<style>body{{background:url(http://127.0.0.1:{port}/css)}}</style> sync broke",
        f'<div style="background:url(http://127.0.0.1:{port}/inline)">sync lost it</div>',
        "<script>document.write('pwned')</script> sync never finishes",
        FORMULA,
    ]


def add_hostile(store, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    reviews, labels, mentions = [], [], []
    for i, text in enumerate(texts):
        rid = f"evil{i}"
        reviews.append({"source": "google_play", "review_id": rid, "product": "acme",
                        "rating": 1, "text": text, "published_at": "2025-06-20T10:00:00Z",
                        "url": f"https://example.com/acme/{rid}", "language": "en",
                        "helpful_count": 100})
        uid = f"google_play:{rid}"
        labels.append({"uid": uid, "model_version": MODEL_VERSION, "language": "en",
                       "status": "ok", "sentiment": "negative", "sentiment_score": -1.0,
                       "problem_report": 1, "feature_request": 0, "praise": 0, "question": 0,
                       "other": 0, "input_type": "problem_report",
                       "needs_json": {"sync_data": 0.99}})
        mentions.append({"uid": uid, "model_version": MODEL_VERSION, "sentence_index": 0,
                         "need": "sync_data", "sentence": text, "score": 0.99,
                         # as if the sentence turned: the highlighted clause is hostile too
                         "clause": text[: len(text) * 2 // 3],
                         "sentiment": "negative", "sentiment_score": -1.0,
                         "input_type": "problem_report"})
    store.upsert_reviews(reviews, run_id="run-1")
    store.write_classifications(labels, mentions)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("hostile")
    with LocalServer() as server:
        cfg = write_config(folder, products=PRODUCTS, extra="top_quotes = 6")
        store = make_store(folder / "ws" / "reviewgap.sqlite", n=900, products=PRODUCTS)
        add_hostile(store, hostile_texts(server.port))
        out = build_report(store, cfg, now=datetime(2025, 7, 1, tzinfo=UTC))
        requests = list(server.requests)
    text = subprocess.run(["pdftotext", "-layout", str(out.pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return out, text, requests


def test_pdf_shows_hostile_markup_as_text_and_fetches_nothing(hostile_report) -> None:  # type: ignore[no-untyped-def]
    out, text, requests = hostile_report
    flat = re.sub(r"\s+", " ", text)
    assert requests == []
    assert out.refused_urls == ()  # escaped markup never even asks
    assert '<img src="file:///etc/passwd">' in flat
    assert "<script>document.write('pwned')</script>" in flat
    assert "background:url(http://127.0.0.1:" in flat
    assert "pwned sync" not in flat  # the script did not run into the page


def test_html_escapes_review_text(hostile_report) -> None:  # type: ignore[no-untyped-def]
    out, _, _ = hostile_report
    html = out.html.read_text("utf-8")
    assert "&lt;script&gt;document.write(" in html
    assert "<script>" not in html
    assert '<img src="file:///etc/passwd">' not in html
    # The clause of a quote is highlighted, and escaped like the rest.
    assert '<mark class="clause">&lt;img src=&#34;file:///etc/passwd&#34;&gt;' in html


def test_xlsx_keeps_formula_text_inert(hostile_report) -> None:  # type: ignore[no-untyped-def]
    out, _, _ = hostile_report
    wb = openpyxl.load_workbook(out.xlsx)
    cells = [c for row in wb["quotes"].iter_rows() for c in row if c.value == FORMULA]
    assert cells, "the hostile quote is exported"
    assert all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(out.xlsx) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any("<f>" in z.read(n).decode("utf-8") for n in sheets)
    csv = (out.csv_dir / "quotes.csv").read_text("utf-8")
    assert "'=cmd|" in csv
    assert "\n=cmd" not in csv
    assert ",=cmd" not in csv


def test_fetcher_refuses_network_and_outside_files(tmp_path: Path, server) -> None:  # type: ignore[no-untyped-def]
    assets = tmp_path / "templates"
    assets.mkdir()
    (assets / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<rect width="10" height="10"/></svg>', "utf-8")
    html = (f'<p>x</p><img src="logo.svg"><img src="{server.base}/img.png">'
            '<img src="file:///etc/passwd">'
            f'<div style="background: url({server.base}/bg.png)">y</div>')
    refused = write_pdf(html, tmp_path / "x.pdf", roots=[assets, shipped_templates()])
    assert server.requests == []
    assert sorted(refused) == sorted([f"{server.base}/img.png", "file:///etc/passwd",
                                      f"{server.base}/bg.png"])
    fetcher = RestrictedFetcher([assets])
    assert fetcher.fetch((assets / "logo.svg").as_uri()).status == 200
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch("https://example.com/x.css")
