"""The README documents every command, every REVIEWGAP_* setting and every config key."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pydantic
from click.testing import CliRunner

from analysis.cli import cli
from analysis.config import ProjectConfig
from spiders import settings as spider_settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def test_every_command_is_in_the_readme_and_has_help() -> None:
    commands = sorted(cli.commands)
    assert {"init", "check", "crawl", "import", "run", "status"} <= set(commands)
    for name in commands:
        assert f"reviewgap {name}" in README, f"`reviewgap {name}` is not in the README"
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert "Example:" in result.output, f"`reviewgap {name} --help` has no Example"


def test_every_reviewgap_setting_is_in_the_readme() -> None:
    names = [n for n in dir(spider_settings) if n.startswith("REVIEWGAP_")]
    assert len(names) >= 8
    missing = [n for n in names if n not in README]
    assert missing == []


def _keys(model: type[pydantic.BaseModel], prefix: str) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, pydantic.BaseModel):
            out += _keys(ann, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_config_key_is_in_the_readme() -> None:
    keys = _keys(ProjectConfig, "")
    assert "classification.encoder" in keys
    assert "report.min_sample" in keys
    for key in keys:
        section, _, leaf = key.rpartition(".")
        if key == "products" or key.startswith("needs.custom"):
            continue
        pattern = re.escape(key) if section else rf"\b{re.escape(leaf)}\b"
        assert re.search(pattern, README), f"config key {key} is not documented in the README"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_readme_links_reach_its_headings_and_the_required_sections_exist() -> None:
    """A README edit once dropped the demo, report and scheduling sections while the contents
    still linked to them: every ``(#anchor)`` must name a heading, and the sections the brief
    asks for (real products, config, CLI, scheduling, costs) must be there."""
    headings = re.findall(r"^#{2,4} (.+)$", README, flags=re.M)
    anchors = {_anchor(h) for h in headings}
    links = set(re.findall(r"\]\(#([\w\-]+)\)", README))
    assert len(links) >= 10
    assert sorted(links - anchors) == []
    for required in ("point-it-at-real-products", "configuration-reference", "cli-reference",
                     "scheduling-the-monthly-run", "what-it-costs-in-time-and-memory",
                     "the-demo", "the-report"):
        assert required in anchors, required


def test_links_into_docs_reach_their_headings() -> None:
    """The classification record moved from the README to ``docs/classification.md``; links
    between the two (``docs/x.md#anchor``, ``../README.md#anchor``, ``#anchor`` inside a doc)
    must name a file that exists and a heading it has."""
    root = Path(__file__).resolve().parent.parent

    @functools.cache  # each page's headings read once, however many links point at it
    def anchors(page: Path) -> set[str]:
        text = page.read_text("utf-8")
        return {_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}

    checked = 0
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = page.read_text("utf-8")
        for target, anchor in re.findall(r"\]\(([\w./\-]*\.md)?#([\w\-]+)\)", text):
            linked = (page.parent / target).resolve() if target else page.resolve()
            assert linked.exists(), f"{page.name}: link to missing {target}"
            assert anchor in anchors(linked), f"{page.name}: {target}#{anchor}"
            checked += 1
    assert checked >= 50  # the README's contents and the record's contents at least
