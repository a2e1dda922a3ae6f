"""``reviewgap demo`` end to end: the report finds the gaps planted in the generated corpus.

The ``slow`` tests share one demo run. The fast ones check the command's own pieces: the config
it writes loads with the real validator (so the spiders accept its source tables) and the output
folder rule.

Runs ``python -m analysis demo`` in a subprocess (Scrapy's reactor cannot restart inside the
test process), then reads what a person would read: the report's tables (CSV, one per table,
as the report writes them) and the PDF's text (``pdftotext``). Every expectation comes from
:data:`analysis.demo.truth.GAPS`; the checks are about direction and rank (the classifier is a
model, not the generator), never about exact figures.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import attrs
import pandas as pd
import pytest

from analysis.demo import truth
from analysis.demo.corpus import DEFAULT_SEED, generate_corpus

REPO = Path(__file__).resolve().parent.parent
REVIEWS_PER_APP = 300
MARKET = "__market__"


@attrs.frozen
class DemoRun:
    out: Path
    pdf: Path
    tables: Path
    stdout: str


def _key(value: object) -> str:
    """A product cell as its key (tables may name products by key or by display name)."""
    for a in truth.APPS:
        if value in (a.key, a.name):
            return a.key
    return str(value)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    out = tmp_path_factory.mktemp("demo") / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "demo", "--out", str(out),
         "--seed", str(DEFAULT_SEED), "--reviews-per-app", str(REVIEWS_PER_APP)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=3600, check=False)
    assert proc.returncode == 0, (proc.stdout[-4000:], proc.stderr[-4000:])
    pdf = Path(proc.stdout.strip().splitlines()[-1])
    assert pdf.suffix == ".pdf", proc.stdout[-2000:]
    assert pdf.is_file(), proc.stdout[-2000:]
    return DemoRun(out=out, pdf=pdf, tables=pdf.parent / "tables", stdout=proc.stdout)


def _table(run: DemoRun, name: str) -> pd.DataFrame:
    path = run.tables / f"{name}.csv"
    written = sorted(p.name for p in run.tables.glob("*.csv"))
    assert path.is_file(), f"the report wrote no {name}.csv (it wrote {written})"
    frame = pd.read_csv(path)
    for col in ("product", "from_product", "to_product"):
        if col in frame.columns:
            frame[col] = frame[col].map(_key)
    return frame


def _flag(series: pd.Series) -> pd.Series:
    return series.astype(str).str.lower().isin(["true", "1", "1.0", "yes"])


@pytest.mark.slow
def test_every_generated_review_is_crawled_into_the_store(demo_run: DemoRun) -> None:
    corpus = generate_corpus(seed=DEFAULT_SEED, reviews_per_app=REVIEWS_PER_APP)
    con = sqlite3.connect(demo_run.out / "data" / "reviewgap.sqlite")
    try:
        stored = Counter(con.execute("SELECT source, product FROM reviews").fetchall())
        ids = {r[0] for r in con.execute("SELECT review_id FROM reviews")}
    finally:
        con.close()
    assert stored == Counter((r.source, r.product) for r in corpus.reviews)
    assert ids == {r.review_id for r in corpus.reviews}
    assert (demo_run.out / "reviewgap.toml").is_file()
    assert demo_run.pdf.read_bytes()[:5] == b"%PDF-"


@pytest.mark.slow
def test_sync_competitor_ranks_highest_on_sync_complaints(demo_run: DemoRun) -> None:
    g = truth.gap("a_sync_competitor")
    sh = _table(demo_run, "need_shares")
    cells = sh.loc[(sh["need"] == g.need) & (sh["product"] != MARKET)]
    ranked = cells.sort_values("complaint_rate", ascending=False)
    assert ranked["product"].iloc[0] == g.product, ranked[["product", "complaint_rate"]]
    # Clearly ahead, not by a hair: at least twice the next product's rate.
    assert ranked["complaint_rate"].iloc[0] > 2 * ranked["complaint_rate"].iloc[1]


@pytest.mark.slow
def test_ours_lags_the_market_on_the_planted_need(demo_run: DemoRun) -> None:
    g = truth.gap("b_ours_lags")
    gp = _table(demo_run, "gaps")
    row = gp.loc[(gp["product"] == g.product) & (gp["need"] == g.need)
                 & (gp["comparator"] == "market")]
    assert len(row) == 1, gp.loc[gp["product"] == g.product]
    assert _flag(row["worse"]).iloc[0], row.T
    assert row["rate"].iloc[0] > row["rate_ref"].iloc[0]
    # And it is our worst gap: the largest significant excess over the market.
    ours = gp.loc[(gp["product"] == g.product) & (gp["comparator"] == "market")
                  & _flag(gp["worse"])]
    assert ours.sort_values("diff", ascending=False)["need"].iloc[0] == g.need


@pytest.mark.slow
def test_white_space_need_is_flagged(demo_run: DemoRun) -> None:
    g = truth.gap("c_white_space")
    ws = _table(demo_run, "white_space")
    flagged = ws.loc[_flag(ws["white_space"])]
    assert g.need in set(flagged["need"]), ws[["need", "white_space", "n_failing"]]
    row = ws.loc[ws["need"] == g.need].iloc[0]
    assert row["n_failing"] == row["n_products"] == len(truth.APPS)


@pytest.mark.slow
def test_pricing_jump_appears_in_changes(demo_run: DemoRun) -> None:
    g = truth.gap("d_pricing_jump")
    ch = _table(demo_run, "trend_changes")
    row = ch.loc[(ch["product"] == g.product) & (ch["need"] == g.need)]
    assert len(row) == 1, ch.loc[ch["product"] == g.product]
    assert _flag(row["significant"]).iloc[0], row.T
    assert row["rate_last"].iloc[0] > 3 * row["rate_prev"].iloc[0]
    assert row["last_month"].iloc[0] == truth.DEMO_END.strftime("%Y-%m")


@pytest.mark.slow
def test_switching_flow_is_found(demo_run: DemoRun) -> None:
    g = truth.gap("e_switching")
    flows = _table(demo_run, "switching_flows")
    top = flows.sort_values("n", ascending=False).iloc[0]
    assert (top["from_product"], top["to_product"]) == (g.product, g.to_product), flows


@pytest.mark.slow
def test_bad_release_is_the_worst_version(demo_run: DemoRun) -> None:
    g = truth.gap("f_bad_release")
    ver = _table(demo_run, "versions")
    rows = ver.loc[(ver["product"] == g.product) & (ver["need"] == g.need)]
    assert g.version in set(rows["version"].astype(str)), rows
    worst = rows.sort_values("complaint_rate", ascending=False).iloc[0]
    assert str(worst["version"]) == g.version


@pytest.mark.slow
def test_pdf_text_names_the_products_and_the_planted_needs(demo_run: DemoRun) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", "-layout", str(demo_run.pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = " ".join(text.split())
    from analysis.classify.taxonomy import DEFAULT_NEEDS

    labels = {n.id: n.label for n in DEFAULT_NEEDS}
    for a in truth.APPS:
        assert a.name in flat
    for g in truth.GAPS:
        assert labels[g.need] in flat, g.need
    assert "White space" in flat
    ws_part = flat[flat.index("White space"):]
    assert labels[truth.gap("c_white_space").need] in ws_part
    # The last month's pricing change is named with the product in the summary of changes.
    jump = truth.gap("d_pricing_jump")
    assert f"{truth.app(jump.product or '').name} · {labels[jump.need]}" in flat

    # Ranked first in the executive summary (page 3, before the scorecard page).
    pages = text.split("\f")
    summary = next(" ".join(p.split()) for p in pages[1:] if "Top gaps for" in p)
    ours = truth.gap("b_ours_lags")
    top_gaps = summary[summary.index("Top gaps for"):summary.index("Top opportunities")]
    assert top_gaps.split("1. ", 1)[1].startswith(labels[ours.need]), top_gaps[:300]
    white = summary[summary.index("White space"):summary.index("What changed last month")]
    assert white.split("• ", 1)[1].startswith(labels[truth.gap("c_white_space").need]), white
    changes = summary[summary.index("What changed last month"):]
    product_changes = [c for c in changes.split("• ")[1:] if not c.startswith("Market ·")]
    assert product_changes[0].startswith(
        f"{truth.app(jump.product or '').name} · {labels[jump.need]}: complaints worse"
    ), changes[:400]


# -- fast: the command's own pieces ---------------------------------------------------------------


def test_demo_config_loads_with_the_real_validator(tmp_path: Path) -> None:
    from analysis.commands.demo import available_sources, demo_config_text
    from analysis.config import load_config

    corpus = generate_corpus(seed=3, reviews_per_app=24)
    sources = available_sources()
    path = tmp_path / "reviewgap.toml"
    path.write_text(demo_config_text(corpus, sources), "utf-8")
    cfg = load_config(path)
    assert [p.key for p in cfg.products] == [a.key for a in truth.APPS]
    assert cfg.ours is not None
    assert cfg.ours.key == "margin"
    for a in truth.APPS:
        got = cfg.product(a.key).sources()
        assert got["apple_app_store"]["app_id"] == a.apple_app_id
        if a.google_play_package and "google_play" in sources:
            assert got["google_play"]["package"] == a.google_play_package
        if a.trustpilot_domain and "trustpilot" in sources:
            assert got["trustpilot"]["domain"] == a.trustpilot_domain
    # Several sources per product: the report shows multi-source data.
    assert sum(len(p.sources()) > 1 for p in cfg.products) >= 2


def test_out_dir_is_refused_unless_the_demo_made_it(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    proc = subprocess.run([sys.executable, "-m", "analysis", "demo", "--out", str(foreign)],
                          cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "not made by `reviewgap demo`" in proc.stderr
    assert (foreign / "notes.txt").read_text() == "keep me"


def test_out_dir_of_an_earlier_demo_is_emptied(tmp_path: Path) -> None:
    from analysis.commands.demo import MARKER, prepare_out_dir

    out = tmp_path / "demo"
    prepare_out_dir(out)
    (out / "data").mkdir()
    (out / "data" / "old.sqlite").write_text("old")
    prepare_out_dir(out)
    assert sorted(p.name for p in out.iterdir()) == [MARKER]
