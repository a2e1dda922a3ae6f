"""Render the report context to HTML with Jinja2.

Stage: report. In: the plain-data context (:mod:`.context`) and the template folders. Out: one
self-contained HTML string (CSS inlined, charts as inline SVG).

Safety: review text is untrusted, so autoescape is on for every template and ``StrictUndefined``
turns a missing variable into an error instead of an empty string. Only chart SVG (made by
matplotlib from labels we control) is marked safe, by the ``svg`` filter.

Overrides: the config's ``project.templates`` folder comes first in the search path, so a file
there (``report.css``, ``_cover.html.j2``, ...) replaces the shipped one of the same name.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from analysis.config import ProjectConfig

MINUS = "\u2212"


def shipped_templates() -> Path:
    """The shipped template folder: ``<repo>/report_templates`` or the wheel's copy."""
    here = Path(__file__).resolve().parent.parent
    for cand in (here.parent / "report_templates", here / "_report_templates"):
        if (cand / "report.html.j2").is_file():
            return cand
    raise FileNotFoundError("report_templates/ not found beside the analysis package")


def template_dirs(cfg: ProjectConfig) -> list[Path]:
    """Search path: the user's override folder (when configured) first, then the shipped one."""
    dirs = []
    if cfg.project.templates:
        user = (cfg.base_dir / cfg.project.templates).resolve()
        if not user.is_dir():
            raise FileNotFoundError(f"project.templates: folder {user} does not exist")
        dirs.append(user)
    return [*dirs, shipped_templates()]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def pct(value: Any, digits: int = 1) -> str:
    """0.1234 -> "12.3%"; missing -> "–"."""
    return "–" if _missing(value) else f"{100 * float(value):.{digits}f}%"


def pp(value: Any, digits: int = 1) -> str:
    """A difference of two fractions in percentage points, signed: "+3.2 pp"."""
    if _missing(value):
        return "–"
    v = 100 * float(value)
    return f"{'+' if v >= 0 else MINUS}{abs(v):.{digits}f} pp"


def rel(value: Any, digits: int = 0) -> str:
    """A relative change, signed: 0.27 -> "+27%"."""
    if _missing(value):
        return "–"
    v = 100 * float(value)
    return f"{'+' if v >= 0 else MINUS}{abs(v):.{digits}f}%"


def stars(value: Any, digits: int = 2) -> str:
    return "–" if _missing(value) else f"{float(value):.{digits}f}"


def signed(value: Any, digits: int = 2) -> str:
    """+0.31 / −0.31 (a real minus sign)."""
    if _missing(value):
        return "–"
    v = float(value)
    return f"{'+' if v >= 0 else MINUS}{abs(v):.{digits}f}"


def num(value: Any) -> str:
    """1234 -> "1,234"; missing -> "–"."""
    return "–" if _missing(value) else f"{int(value):,}"


def pvalue(value: Any) -> str:
    if _missing(value):
        return "–"
    return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def possessive(name: Any) -> str:
    """English possessive with a typographic apostrophe: "Acme" -> "Acme’s", and, for a name
    ending in s (Margin Notes, Jotterly Notes), just the apostrophe: "Margin Notes’".

    >>> possessive("Acme"), possessive("Margin Notes")
    ('Acme’s', 'Margin Notes’')
    """
    text = str(name).rstrip()
    return f"{text}\u2019" if text[-1:].lower() == "s" else f"{text}\u2019s"


def svg(value: str) -> Markup:
    """Mark a chart made by :mod:`.charts` as safe markup (never review text)."""
    return Markup(value)


def make_env(dirs: list[Path]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(pct=pct, pp=pp, stars=stars, signed=signed, num=num, pvalue=pvalue, rel=rel,
                       svg=svg, possessive=possessive)
    return env


def render_html(context: dict[str, Any], dirs: list[Path]) -> str:
    """Render ``report.html.j2`` (which includes ``report.css`` inline) with ``context``."""
    return make_env(dirs).get_template("report.html.j2").render(**context)
