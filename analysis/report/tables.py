"""Export the report's tables: one CSV per table and one XLSX workbook (a sheet per table).

Stage: report. In: name -> DataFrame (:func:`analysis.report.data.export_frames`). Out:
``<out>/tables/<name>.csv`` and ``<out>/<slug>.xlsx``.

Formula injection: review text can start with ``=``, ``+``, ``-``, ``@``, tab or CR (e.g.
``=HYPERLINK(...)`` or ``=cmd|' /C calc'!A0``), which a spreadsheet would run as a formula.
In the XLSX every text cell is written as an explicit string (``data_type = "s"``, never a
formula) with Excel's quote-prefix flag, so it shows as typed and stays text when edited. CSV
has no types, so such cells are prefixed with a single quote (OWASP's advice); numbers are
written as numbers.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: object) -> object:
    """CSV-safe value: text that a spreadsheet would read as a formula gets a leading ``'``.

    >>> inert("=1+1"), inert("fine"), inert(-3)
    ("'=1+1", 'fine', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as ISO text, dict/list cells as text (spreadsheets cannot hold objects)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif out[col].dtype == object:
            out[col] = out[col].map(lambda v: str(v) if isinstance(v, (dict, list)) else v)
    return out


def write_csvs(frames: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """One UTF-8 CSV per table, text cells made inert."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in frames.items():
        path = folder / f"{name}.csv"
        safe = _prepare(frame)
        for col in safe.columns:
            if safe[col].dtype == object or pd.api.types.is_string_dtype(safe[col]):
                safe[col] = safe[col].map(inert)
        safe.to_csv(path, index=False, lineterminator="\n")
        paths.append(path)
    return paths


def write_xlsx(frames: dict[str, pd.DataFrame], path: Path, *,
               created: datetime | None = None) -> Path:
    """One workbook, a sheet per table; text cells are explicit strings (never formulas).

    ``created`` fixes the document properties' dates (the report time, not the clock).
    """
    wb = Workbook()
    if created is not None:
        stamp = created.replace(tzinfo=None, microsecond=0)
        wb.properties.created = wb.properties.modified = stamp
    wb.remove(wb.active)
    for name, frame in frames.items():
        ws = wb.create_sheet(title=name[:31])
        safe = _prepare(frame)
        ws.append([str(c) for c in safe.columns])
        for row in safe.itertuples(index=False, name=None):
            ws.append([None if _missing(v) else v for v in row])
        for cells in ws.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str):
                    # openpyxl treats a leading "=" as a formula; force a plain string.
                    cell.data_type = "s"
                    if cell.value.startswith(FORMULA_START):
                        cell.quotePrefix = True
        for i, col in enumerate(safe.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(60, max(10, len(str(col)) + 2))
        ws.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
