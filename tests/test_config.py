"""reviewgap.toml validation: every error exits 2 and names the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from analysis.cli import cli
from analysis.config import ConfigError, load_config

GOOD = """
[project]
name = "Acme vs rivals"
workspace = "ws"

[[products]]
key = "acme"
name = "Acme Notes"
ours = true

[products.apple_app_store]
app_id = "1234567890"
countries = ["us", "no"]

[[products]]
key = "rival"
name = "Rival"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "reviewgap.toml"
    path.write_text(text, "utf-8")
    return path


def test_good_config_loads_with_norway_as_a_string(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.ours is not None
    assert cfg.ours.key == "acme"
    # TOML keeps the storefront code "no" a string (YAML 1.1 would read it as false).
    table = cfg.product("acme").apple_app_store
    assert table == {"app_id": "1234567890", "countries": ["us", "no"]}
    assert cfg.workspace == (tmp_path / "ws").resolve()
    assert cfg.product("rival").sources() == {}


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (lambda t: t.replace('workspace = "ws"', 'workspace = "ws"\nworkspce = 1'),
         "project.workspce: unknown key"),
        (lambda t: t.replace('ours = true', 'ours = "yes please"'),
         "products[0] (key 'acme').ours"),
        (lambda t: t.replace("[products.apple_app_store]", "[products.apple_store]"),
         "products[0].apple_store: unknown source 'apple_store'"),
        (lambda t: t.replace('key = "rival"', 'key = "acme"'),
         "products[1].key: duplicate product key 'acme'"),
        (lambda t: t.replace('app_id = "1234567890"', 'app_id = "123"\nappid = "x"'),
         "apple_app_store.appid: unknown key"),
        (lambda t: t.replace('name = "Rival"', 'name = "Rival"\nours = true'),
         "at most one product"),
        (lambda t: t + "\n[report]\nmin_sample = 0\n", "report.min_sample"),
        (lambda t: t + "\n[needs]\ndisable = [\"sink\"]\n", "needs.disable: 'sink'"),
        (lambda t: t.replace("[[products]]", "[[products]", 1), "not valid TOML"),
    ],
)
def test_config_errors_name_the_key_and_file(tmp_path: Path, mutation, expected: str) -> None:
    path = write(tmp_path, mutation(GOOD))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value)
    assert str(path) in str(err.value)
    # The CLI turns the same error into exit status 2 with the message on stderr.
    result = CliRunner().invoke(cli, ["check", "--config", str(path)])
    assert result.exit_code == 2, result.output
    assert expected in result.output


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_init_writes_a_config_that_checks(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["init", str(tmp_path / "study")])
    assert result.exit_code == 0, result.output
    path = tmp_path / "study" / "reviewgap.toml"
    assert path.read_text("utf-8").startswith("# reviewgap.toml")
    check = runner.invoke(cli, ["check", "--config", str(path)])
    assert check.exit_code == 0, check.output
    assert "apple_app_store:acme" in check.output
    again = runner.invoke(cli, ["init", str(tmp_path / "study")])
    assert again.exit_code == 2
    assert "exists" in again.output
