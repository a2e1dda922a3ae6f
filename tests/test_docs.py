"""The README documents every command, every REVIEWGAP_* setting and every config key."""

from __future__ import annotations

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
