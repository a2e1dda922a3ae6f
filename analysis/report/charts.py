"""Charts for the report: matplotlib figures rendered to inline SVG strings.

Stage: report. In: plain lists/arrays (no DataFrames). Out: SVG markup (``<svg ...>...</svg>``)
the templates embed as-is.

Reproducible output: the Agg backend, a fixed ``svg.hashsalt`` per chart (ids in different
charts of one HTML page must not collide), no date or creator in the SVG metadata, and text kept
as text (``svg.fonttype = none``) so the PDF's text layer and fonts come from the page (DejaVu).
Labels come from the config and the taxonomy, never from review text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

PALETTE = ["#1f5fa8", "#d9822b", "#3a9a5b", "#8e44ad", "#c0392b", "#16a2a2", "#7f6a00",
           "#5d6d7e"]
"""Product colours (colour-blind-friendly order; ours is always the first)."""

_HEAT = LinearSegmentedColormap.from_list("complaints", ["#fdf6ec", "#f3b36b", "#b2361d"])

_RC = {"font.family": "DejaVu Sans", "font.size": 8, "svg.fonttype": "none",
       "axes.spines.top": False, "axes.spines.right": False, "axes.edgecolor": "#888888",
       "axes.labelcolor": "#333333", "xtick.color": "#333333", "ytick.color": "#333333"}


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A bare Figure (no pyplot: no global figure registry to manage, and faster)."""
    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def to_svg(fig: Figure, salt: str) -> str:
    """Render ``fig``; return the ``<svg>`` element only (no XML prologue)."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"reviewgap-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None},
                    bbox_inches="tight", pad_inches=0.04)
    text = buf.getvalue()
    svg = text[text.index("<svg"):]
    # Several charts share one HTML page: make element ids (and references to them) unique.
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{salt}-\1"', svg)
    svg = re.sub(r'url\(#([^)]+)\)', rf'url(#{salt}-\1)', svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{salt}-\1"', svg)
    # Charts are scaled by CSS to the column width; fixed pt sizes would overflow A4.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1', svg, count=1)


def gap_heatmap(needs: Sequence[str], products: Sequence[str], rates: np.ndarray,
                counts: np.ndarray, low: np.ndarray) -> str:
    """Needs x products heatmap of complaint rate; low-sample cells grey with their n.

    Args:
        needs: row labels; products: column labels.
        rates: complaint rate per cell (0..1, NaN allowed); counts: mentions per cell;
        low: True where the cell has fewer than ``min_sample`` mentions.
    """
    with matplotlib.rc_context(_RC):
        fig, ax = _figure(*(1.2 + 1.05 * len(products), 0.5 + 0.42 * len(needs)))
        shown = np.ma.masked_where(low | np.isnan(rates), rates)
        vmax = float(np.nanmax(np.where(low, np.nan, rates))) if (~low).any() else 1.0
        ax.imshow(np.where(low, 1, np.nan), cmap="Greys", vmin=0, vmax=6, aspect="auto")
        ax.imshow(shown, cmap=_HEAT, vmin=0, vmax=max(vmax, 0.01), aspect="auto")
        for i in range(len(needs)):
            for j in range(len(products)):
                if low[i, j]:
                    label, colour = f"n={int(counts[i, j])}", "#555555"
                else:
                    value = rates[i, j]
                    label = f"{100 * value:.1f}%"
                    colour = "white" if value > 0.6 * vmax else "#222222"
                ax.text(j, i, label, ha="center", va="center", fontsize=7.5, color=colour)
        ax.set_xticks(range(len(products)), labels=list(products), rotation=30, ha="right")
        ax.set_yticks(range(len(needs)), labels=list(needs))
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xticks(np.arange(-0.5, len(products)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(needs)), minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        return to_svg(fig, "heatmap")


def drivers_chart(needs: Sequence[str], impact: Sequence[float], low: Sequence[float],
                  high: Sequence[float], ours: Sequence[float] | None = None,
                  ours_label: str = "") -> str:
    """Rating impact per need (market, with its Welch CI), optionally ours as a second marker."""
    y = np.arange(len(needs))[::-1]
    with matplotlib.rc_context(_RC):
        fig, ax = _figure(*(6.4, 0.6 + 0.34 * len(needs)))
        imp, lo, hi = (np.asarray(v, dtype=float) for v in (impact, low, high))
        ax.axvline(0, color="#999999", linewidth=0.8)
        ax.errorbar(imp, y, xerr=[imp - lo, hi - imp], fmt="o", color="#333333",
                    ecolor="#999999", capsize=2, markersize=4, label="market (95% CI)")
        if ours is not None:
            ax.plot(np.asarray(ours, dtype=float), y + 0.18, "D", color=PALETTE[0],
                    markersize=4, label=ours_label, linestyle="none")
        ax.set_yticks(y, labels=list(needs))
        ax.set_xlabel("stars: reviews mentioning the need minus the rest")
        # Legend above the axes: inside it would cover the markers of the bottom needs.
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, frameon=False,
                  fontsize=7)
        ax.margins(y=0.06)
        return to_svg(fig, "drivers")


def trend_chart(months: Sequence[str], series: dict[str, Sequence[float]],
                colours: Sequence[str] | None = None) -> str:
    """Monthly complaint rate lines (one per need), in percent."""
    with matplotlib.rc_context(_RC):
        fig, ax = _figure(*(6.6, 2.6))
        x = np.arange(len(months))
        for i, (label, values) in enumerate(series.items()):
            colour = (colours or PALETTE)[i % len(colours or PALETTE)]
            ax.plot(x, 100 * np.asarray(values, dtype=float), marker="o", markersize=2.5,
                    linewidth=1.3, label=label, color=colour)
        # Every month labelled when they fit, else every other (from the newest backwards).
        step = 1 if len(months) <= 7 else 2 if len(months) <= 14 else max(1, len(months) // 7)
        ticks = x[::-1][::step][::-1]
        ax.set_xticks(ticks, labels=[months[i] for i in ticks], rotation=30, ha="right")
        ax.set_ylabel("% of reviews complaining")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)
        return to_svg(fig, "trends")


def sparkline(values: Sequence[float], *, salt: str, colour: str = "#1f5fa8") -> str:
    """A tiny line (no axes) for tables; the last point is marked."""
    vals = np.asarray(values, dtype=float)
    with matplotlib.rc_context(_RC):
        fig, ax = _figure(*(1.3, 0.32))
        if np.isfinite(vals).any():
            ax.plot(np.arange(len(vals)), vals, color=colour, linewidth=1.0)
            last = int(np.flatnonzero(np.isfinite(vals))[-1])
            ax.plot([last], [vals[last]], "o", color=colour, markersize=2)
        ax.axis("off")
        return to_svg(fig, f"spark-{salt}")
