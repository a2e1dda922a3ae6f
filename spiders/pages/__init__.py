"""Pure page parsers, one module per source: bytes in, item dicts out, no network, no Scrapy.

Shared here: :class:`PageFormatError` (the page no longer looks as the parser expects: the site
changed its layout, or the body is truncated) and small normalisation helpers every parser uses.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from w3lib.html import remove_tags, replace_entities


class PageFormatError(ValueError):
    """A page that cannot be read as the source's format.

    The message names the URL and what was missing, e.g.
    ``https://...: feed.entry[3] has no im:rating``.
    """

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"{url}: {problem}")
        self.url = url
        self.problem = problem


_WS = re.compile(r"\s+")


def clean_text(value: Any) -> str:
    """Plain text from a source's text field: tags removed, entities replaced, whitespace folded.

    >>> clean_text("  Great&amp;fast<br>app\\n\\n ok ")
    'Great&fast app ok'
    >>> clean_text(None)
    ''
    """
    if value is None:
        return ""
    text = str(value)
    # Tags become spaces so that "a<br>b" does not glue words together.
    text = remove_tags(re.sub(r"<[^>]+>", lambda m: m.group(0) + " ", text))
    return _WS.sub(" ", replace_entities(text)).strip()


def to_utc_iso(value: Any) -> str | None:
    """Any ISO 8601 string or epoch seconds -> ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; None if empty.

    Naive times are taken as UTC. Raises ValueError for text that is not a date.

    >>> to_utc_iso("2023-02-01T05:06:45-07:00")
    '2023-02-01T12:06:45Z'
    >>> to_utc_iso(0)
    '1970-01-01T00:00:00Z'
    >>> to_utc_iso("2024-06-19")
    '2024-06-19T00:00:00Z'
    """
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(float(value), tz=UTC)
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_stars(value: Any, best: Any = 5, worst: Any = 1) -> int | None:
    """A rating on any scale -> whole stars 1-5, or None when absent; ValueError when not a number.

    >>> to_stars("4.0"), to_stars(8, best=10), to_stars(None)
    (4, 4, None)
    """
    if value is None or value == "":
        return None
    v, b, w = float(value), float(best or 5), float(worst if worst is not None else 1)
    # Rescale linearly onto 1-5 unless the source already uses 1-5 (or a degenerate scale).
    stars = v if (b == 5 and w == 1) or b == w else 1 + 4 * (v - w) / (b - w)
    stars_int = round(stars)
    if not 1 <= stars_int <= 5:
        raise ValueError(f"rating {value!r} is outside {worst}-{best}")
    return stars_int


def load_json(url: str, body: bytes | str) -> Any:
    """Parse a JSON body, raising :class:`PageFormatError` (naming the URL) when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PageFormatError(url, f"body is not valid JSON ({exc})") from exc
