"""The crawl stage never imports the analysis stage (DESIGN.md layout rule)."""

from __future__ import annotations

import ast
from pathlib import Path

SPIDERS = Path(__file__).resolve().parent.parent / "spiders"


def test_spiders_never_import_analysis() -> None:
    offenders = []
    files = sorted(SPIDERS.rglob("*.py"))
    assert len(files) >= 5
    for path in files:
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] == "analysis"]
    assert offenders == []
