"""constraints.txt, the exact versions `make install` uses, agrees with pyproject.toml.

CI installs through the lock, so a requirement added to pyproject.toml without `make lock`, or a
pin the requirements no longer allow, would make a clean install differ from what was tested."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
# The extras `make install` installs (the Makefile's `.[dev,onnx,openvino,multilingual]`).
INSTALLED_EXTRAS = ("dev", "onnx", "openvino", "multilingual")


def _pins() -> dict[str, Version]:
    """Package name (canonical) -> pinned version, from constraints.txt; every line is name==v."""
    pins: dict[str, Version] = {}
    for n, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt line {n} is not name==version: {line!r}"
        assert version, f"constraints.txt line {n} has no version: {line!r}"
        key = canonicalize_name(name)
        assert key not in pins, f"constraints.txt pins {name} twice (line {n})"
        pins[key] = Version(version)
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in project["dependencies"]] + [
        Requirement(r) for extra in INSTALLED_EXTRAS for r in extras[extra]]


def test_every_installed_requirement_is_pinned_within_its_range() -> None:
    pins = _pins()
    reqs = _requirements()
    assert len(reqs) > 20  # the whole list was read
    for req in reqs:
        key = canonicalize_name(req.name)
        assert key in pins, f"{req.name} (pyproject.toml) is not in constraints.txt: make lock"
        assert req.specifier.contains(pins[key], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[key]}, outside pyproject.toml's {req}")


def test_the_makefile_installs_through_the_lock_and_the_extras_checked_here() -> None:
    make = (ROOT / "Makefile").read_text()
    assert "-c $(LOCK)" in make
    assert "LOCK := constraints.txt" in make
    assert f"-e '.[{','.join(INSTALLED_EXTRAS)}]'" in make
    pins = _pins()
    assert "pip" in pins  # pip itself and the CPU torch are locked too
    assert "torch" in pins
