"""Plain-data helpers: turn frame rows into dicts of Python scalars for the templates.

Stage: report. In: pandas/numpy values. Out: ``None`` for missing, ``int``/``float``/``str``/
``bool``, dates as ``YYYY-MM-DD`` strings. Templates never see a DataFrame or a NaN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """One value as a plain Python scalar (``None`` for NaN/NA/NaT)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(float(value)) else float(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def records(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Rows of ``frame`` (optionally only ``columns``) as plain dicts."""
    cols = list(columns) if columns is not None else list(frame.columns)
    return [{c: plain(v) for c, v in zip(cols, row, strict=True)}
            for row in frame[cols].itertuples(index=False, name=None)]
