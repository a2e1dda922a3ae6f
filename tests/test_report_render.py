"""HTML rendering: strict templates, user overrides, the optional "since last run" section."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jinja2
import pytest

from analysis.report.context import build_context
from analysis.report.data import compute
from analysis.report.render import make_env, render_html, template_dirs
from tests.support.report_data import MODEL_VERSION, make_store, write_config

NOW = datetime(2025, 7, 1, tzinfo=UTC)
PRODUCTS = ["acme", "bolt", "cobalt"]


@pytest.fixture(scope="module")
def report_data(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("render")
    cfg = write_config(folder, products=PRODUCTS)
    store = make_store(n=900, products=PRODUCTS)
    return compute(store, cfg, MODEL_VERSION)


def test_sections_in_order_with_plain_data(report_data) -> None:  # type: ignore[no-untyped-def]
    ctx = build_context(report_data, now=NOW)
    html = render_html(ctx, template_dirs(report_data.cfg))
    order = ['id="summary"', 'id="scorecard"', 'id="gap-matrix"', 'id="drivers"',
             'id="white-space"', 'id="trends"', 'id="switching"', 'id="product-acme"',
             'id="need-', 'id="methodology"']
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert 'id="since-last-run"' not in html
    assert "Accuracy on your own market has not been measured" in html  # no evaluation file
    # Templates get plain data only: no DataFrame anywhere in the context.
    stack = [ctx]
    while stack:
        item = stack.pop()
        assert type(item).__module__.split(".")[0] not in ("pandas", "numpy")
        stack.extend(item.values() if isinstance(item, dict) else
                     item if isinstance(item, list) else [])


def test_since_last_run_section_only_when_given(report_data) -> None:  # type: ignore[no-untyped-def]
    ctx = build_context(report_data, now=NOW, since_last_run={
        "previous_report": "2025-06-01", "new_reviews": 420,
        "changes": [{"product": "Acme Notes", "need": "Sync", "change": "+4.1 pp"}]})
    html = render_html(ctx, template_dirs(report_data.cfg))
    assert 'id="since-last-run"' in html
    assert "2025-06-01" in html
    assert "+4.1 pp" in html


def test_user_template_folder_overrides_shipped_files(report_data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    brand = tmp_path / "brand"
    brand.mkdir()
    (brand / "_cover.html.j2").write_text(
        '<section class="cover" id="cover"><h1>ACME CONFIDENTIAL {{ cover.title }}</h1>'
        "</section>", "utf-8")
    (brand / "report.css").write_text("h2 { color: #ff00aa; }", "utf-8")
    cfg = write_config(tmp_path, products=PRODUCTS, templates="brand")
    dirs = template_dirs(cfg)
    assert dirs[0] == brand.resolve()
    html = render_html(build_context(report_data, now=NOW), dirs)
    assert "ACME CONFIDENTIAL Synthetic notes market" in html
    assert "#ff00aa" in html
    assert "@page" not in html
    assert 'id="methodology"' in html  # files not overridden still come from the package


def test_missing_override_folder_is_an_error(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, products=PRODUCTS, templates="nope")
    with pytest.raises(FileNotFoundError, match=r"project\.templates"):
        template_dirs(cfg)


def test_strict_undefined_and_autoescape(tmp_path: Path) -> None:
    (tmp_path / "t.html.j2").write_text("{{ known }} {{ missing }}", "utf-8")
    env = make_env([tmp_path])
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("t.html.j2").render(known="<b>")
    (tmp_path / "u.html.j2").write_text("{{ known }}", "utf-8")
    assert env.get_template("u.html.j2").render(known="<b>") == "&lt;b&gt;"
