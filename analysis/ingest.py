"""Import own feedback (support tickets, survey answers) from CSV or JSON lines into the store.

In: a file, a product key and the names of the text/rating/date/id columns. Out: an
:class:`ImportResult` — rows stored (new/updated/unchanged) and rows skipped with their line
numbers and reasons. Bad rows (empty text, rating out of 1-5, a date that does not parse) are
skipped and reported; good rows still land, in one transaction. Importing the same file twice adds
nothing: a row's review id is its id column, or else a digest of its text and date.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pandas as pd

from analysis.store import ReviewStore, UpsertCounts

SOURCE = "import"


class ImportError_(Exception):
    """The file as a whole cannot be imported (missing, unreadable, no text column)."""


@attrs.define
class Skipped:
    line: int
    reason: str


@attrs.define
class ImportResult:
    path: Path
    counts: UpsertCounts
    skipped: list[Skipped] = attrs.field(factory=list)

    @property
    def stored(self) -> int:
        return self.counts.new + self.counts.updated + self.counts.unchanged


@attrs.define(frozen=True)
class Columns:
    """Which input column holds what (only ``text`` is required)."""

    text: str = "text"
    rating: str = "rating"
    date: str = "date"
    id: str = "id"


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs; line numbers are 1-based lines of the file (header = line 1)."""
    suffix = path.suffix.lower()
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportError_(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        if suffix in (".jsonl", ".ndjson", ".json"):
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    yield lineno, {"__error__": "not a JSON object"}
                    continue
                yield lineno, row if isinstance(row, dict) else {"__error__": "not a JSON object"}
        elif suffix in (".csv", ".tsv", ".txt"):
            reader = csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ",")
            for row in reader:
                # reader.line_num is the line the row ended on (multi-line quoted text).
                yield reader.line_num, row
        else:
            raise ImportError_(f"{path}: unknown file type {suffix!r} (use .csv, .tsv or .jsonl)")


def _parse_rating(value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = float(value)
    if number != int(number) or not 1 <= number <= 5:
        raise ValueError(f"rating {value!r} is not a whole number from 1 to 5")
    return int(number)


def _parse_date(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        stamp = pd.Timestamp(str(value).strip())
    except ValueError:
        raise ValueError(f"date {value!r} does not parse") from None
    if pd.isna(stamp):
        raise ValueError(f"date {value!r} does not parse")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def import_file(
    store: ReviewStore,
    path: Path,
    *,
    product: str,
    columns: Columns | None = None,
    run_id: str | None = None,
) -> ImportResult:
    """Import ``path`` for ``product``; see the module docstring for the rules."""
    columns = columns or Columns()
    items: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    saw_text_column = False
    for lineno, row in _rows(path):
        if "__error__" in row:
            skipped.append(Skipped(lineno, row["__error__"]))
            continue
        if columns.text in row:
            saw_text_column = True
        text = str(row.get(columns.text) or "").strip()
        if not text:
            skipped.append(Skipped(lineno, f"empty {columns.text!r}"))
            continue
        try:
            rating = _parse_rating(row.get(columns.rating))
            published = _parse_date(row.get(columns.date))
        except (ValueError, TypeError) as exc:
            skipped.append(Skipped(lineno, str(exc)))
            continue
        given_id = str(row.get(columns.id) or "").strip()
        review_id = given_id or hashlib.sha1(
            f"{text}\x1f{published}".encode()
        ).hexdigest()[:20]
        items.append({
            "source": SOURCE,
            "product": product,
            "target": f"{SOURCE}:{product}:{path.name}",
            "review_id": f"{product}:{review_id}",
            "rating": rating,
            "title": None,
            "text": text,
            "published_at": published,
            "url": None,
        })
    if not saw_text_column and not items:
        raise ImportError_(
            f"{path}: no column {columns.text!r} (choose the text column with --text-column)"
        )
    counts = store.upsert_reviews(items, run_id=run_id)
    return ImportResult(path=path, counts=counts, skipped=skipped)
