"""An independent reader of JSON-LD Review objects, for checking the schema.org parser.

Plain ``json`` and a regex, no extruct: tests compare the parser's output with what this finds.
"""

from __future__ import annotations

import json
import re
from typing import Any


def jsonld_reviews(body: bytes) -> list[dict[str, Any]]:
    """Every object with ``@type`` Review inside the page's JSON-LD blocks, in document order."""
    found: list[dict[str, Any]] = []

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("@type") == "Review":
                found.append(value)
            for child in value.values():
                visit(child)
        elif isinstance(value, list):
            for child in value:
                visit(child)

    for block in re.findall(
        rb'<script type="application/ld\+json"[^>]*>(.*?)</script>', body, re.S
    ):
        visit(json.loads(block))
    return found
