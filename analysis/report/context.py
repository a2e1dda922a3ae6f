"""The report context: plain data (dicts, lists, scalars, SVG strings) for the templates.

Stage: report. In: :class:`~analysis.report.data.ReportData`, the report time ``now`` and an
optional ``since_last_run`` dict. Out: one ``dict`` with a key per section, in report order:
``cover``, ``summary``, ``scorecard``, ``matrix``, ``drivers``, ``white_space``, ``trends``,
``switching``, ``product_pages``, ``need_sections``, ``since_last_run``, ``method``.

Numbers stay numbers (fractions 0..1, stars, counts); the templates format them with the
filters of :mod:`.render`. Every figure travels with its n; cells under ``min_sample`` carry
``low: True`` and are never ranked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from analysis import __version__
from analysis.metrics.quotes import pick_quotes
from analysis.metrics.shares import MARKET
from analysis.report import charts
from analysis.report.data import ReportData
from analysis.report.plain import plain, records
from analysis.report.sections import (
    method_section,
    need_sections,
    product_pages,
    switching_section,
    trends_section,
)


def product_names(data: ReportData) -> dict[str, str]:
    """Product key -> display name; ``MARKET`` -> "Market"."""
    return {**{p.key: p.name for p in data.cfg.products}, MARKET: "Market"}


def ordered_products(data: ReportData) -> list[str]:
    """Products with reviews, ours first, then config order."""
    present = set(data.reviews["product"])
    keys = [p.key for p in data.cfg.products if p.key in present]
    return sorted(keys, key=lambda k: (not data.cfg.product(k).ours, keys.index(k)))


def quote_dicts(data: ReportData, *, product: str | None, need: str | None, k: int,
                negative: bool = True) -> list[dict[str, Any]]:
    """Quotes as plain dicts with the product's display name."""
    names = product_names(data)
    q = pick_quotes(data.need_rows, data.reviews, product=product, need=need, k=k,
                    negative=negative)
    return [{**r, "product_name": names.get(r["product"], r["product"])} for r in records(q)]


def store_average(app_meta: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per product: the stores' own average rating from the latest run of each target.

    Formula: rating-count-weighted mean of ``average_rating`` over the product's targets
    (plain mean when counts are missing); ``rating_count`` summed.
    """
    if app_meta.empty:
        return {}
    latest = app_meta.sort_values(["target", "run_id"]).groupby("target").tail(1)
    latest = latest.loc[latest["average_rating"].notna()]
    out: dict[str, dict[str, Any]] = {}
    for product, g in latest.groupby("product"):
        w = g["rating_count"].fillna(0).astype(float)
        avg = float(np.average(g["average_rating"], weights=w)) if w.sum() > 0 else float(
            g["average_rating"].mean())
        out[str(product)] = {"average": avg, "rating_count": plain(g["rating_count"].sum()),
                             "sources": sorted(g["source"].unique().tolist())}
    return out


def cover(data: ReportData, now: datetime) -> dict[str, Any]:
    names = product_names(data)
    counts = data.reviews.groupby("product").size()
    dates = data.reviews["published_at"].dropna()
    return {
        "title": data.cfg.title,
        "generated": now.strftime("%Y-%m-%d"),
        "period_start": plain(dates.min()) if len(dates) else None,
        "period_end": plain(dates.max()) if len(dates) else None,
        "total": len(data.reviews),
        "products": [{"key": k, "name": names[k], "n": int(counts.get(k, 0)),
                      "ours": data.cfg.product(k).ours} for k in ordered_products(data)],
    }


def summary(data: ReportData) -> dict[str, Any]:
    """Top gaps, opportunities, white space and changes; one sentence-worth of data each."""
    names = product_names(data)
    labels = {k: v.label for k, v in data.needs.items()}
    ours = data.cfg.ours.key if data.cfg.ours else None
    gaps_out = []
    for r in records(data.our_gaps.head(3)):
        gaps_out.append({**r, "need_label": labels[r["need"]],
                         "product_name": names[r["product"]],
                         "best_name": names.get(r["best"] or "", ""),
                         "quote": next(iter(quote_dicts(data, product=r["product"],
                                                        need=r["need"], k=1)), None)})
    opps = []
    ranked = data.opportunities.loc[data.opportunities["rank"].notna()].head(3)
    for r in records(ranked):
        opps.append({**r, "need_label": labels[r["need"]],
                     "quote": next(iter(quote_dicts(data, product=None, need=r["need"], k=1)),
                                   None)})
    ws = [{**r, "need_label": labels[r["need"]]}
          for r in records(data.white_space.loc[data.white_space["white_space"]].head(2))]
    changes = data.changes.loc[data.changes["significant"]].head(3)
    ch = [{**r, "need_label": labels[r["need"]], "product_name": names[r["product"]]}
          for r in records(changes)]
    return {"ours": ours, "ours_name": names.get(ours or "", ""), "gaps": gaps_out,
            "opportunities": opps, "white_space": ws, "changes": ch}


def scorecard(data: ReportData) -> list[dict[str, Any]]:
    """One row per product: reviews, stars (ours vs the store's own), sentiment, top needs."""
    names = product_names(data)
    labels = {k: v.label for k, v in data.needs.items()}
    stores = store_average(data.app_meta)
    summ = data.summary.set_index("product")
    rows = []
    for key in ordered_products(data):
        s = summ.loc[key]
        cells = data.shares.loc[(data.shares["product"] == key) & ~data.shares["low_sample"]]
        top = cells.sort_values(["share", "need"], ascending=[False, True]).head(3)
        rows.append({
            "key": key, "name": names[key], "ours": data.cfg.product(key).ours,
            "n": plain(s["n_reviews"]), "n_rated": plain(s["n_rated"]),
            "stars": plain(s["mean_stars"]),
            "store_stars": stores.get(key, {}).get("average"),
            "store_count": stores.get(key, {}).get("rating_count"),
            "pos": plain(s["pos_share"]), "neg": plain(s["neg_share"]),
            "net": plain(s["net_sentiment"]),
            "top_needs": [{"label": labels[r["need"]], "share": r["share"],
                           "n": r["n_mentions"]} for r in records(top)],
        })
    return rows


def matrix(data: ReportData) -> dict[str, Any]:
    """Gap matrix: heatmap SVG plus the same numbers as table rows, and the gap tests."""
    names = product_names(data)
    keys = ordered_products(data)
    needs = list(data.needs)
    cell = data.shares.set_index(["need", "product"])
    rates = np.array([[cell.loc[(n, k), "complaint_rate"] for k in keys] for n in needs],
                     dtype=float)
    counts = np.array([[cell.loc[(n, k), "n_mentions"] for k in keys] for n in needs])
    low = np.array([[bool(cell.loc[(n, k), "low_sample"]) for k in keys] for n in needs])
    svg = charts.gap_heatmap([data.needs[n].label for n in needs], [names[k] for k in keys],
                             rates, counts, low) if needs else ""
    tests = []
    for r in records(data.gaps):
        comp = r["comparator"]
        ref = ("all competitors" if comp == "market" else "all other products"
               if comp == "rest" else names.get(comp.removeprefix("best:"), comp))
        tests.append({**r, "need_label": data.needs[r["need"]].label,
                      "product_name": names[r["product"]], "comparator_name": ref,
                      "family": "best" if comp.startswith("best:") else comp})
    return {"svg": svg, "tests": tests,
            "method": "Holm" if data.cfg.ours else "Benjamini-Hochberg",
            "significant": [t for t in tests if t["worse"]]}


def drivers(data: ReportData) -> dict[str, Any]:
    """Key drivers: market impact with CI (chart + table) and per-product impact cells."""
    names = product_names(data)
    keys = ordered_products(data)
    imp = data.impact
    market = imp.loc[imp["product"] == MARKET].sort_values(["net_effect", "need"])
    ours = data.cfg.ours.key if data.cfg.ours else None
    by_cell = imp.set_index(["product", "need"])
    order = market["need"].tolist()
    ours_vals = ([by_cell.loc[(ours, n), "impact"] if not by_cell.loc[(ours, n), "low_sample"]
                  else np.nan for n in order] if ours in keys else None)
    svg = charts.drivers_chart([data.needs[n].label for n in order], market["impact"],
                               market["impact_lo"], market["impact_hi"], ours_vals,
                               names.get(ours or "", "")) if order else ""
    rows = []
    for r in records(market):
        per = [{"key": k, **records(by_cell.loc[[(k, r["need"])]].reset_index())[0]}
               for k in keys]
        rows.append({**r, "need_label": data.needs[r["need"]].label, "per_product": per})
    return {"svg": svg, "rows": rows, "products": [{"key": k, "name": names[k]} for k in keys]}


def white_space(data: ReportData) -> list[dict[str, Any]]:
    return [{**r, "need_label": data.needs[r["need"]].label}
            for r in records(data.white_space)]


def build_context(data: ReportData, *, now: datetime,
                  since_last_run: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole report context (see the module docstring)."""
    rp = data.cfg.report
    return {
        "version": __version__,
        "title": data.cfg.title,
        "min_sample": rp.min_sample,
        "alpha": rp.alpha,
        "cover": cover(data, now),
        "summary": summary(data),
        "scorecard": scorecard(data),
        "matrix": matrix(data),
        "drivers": drivers(data),
        "white_space": white_space(data),
        "trends": trends_section(data, product_names(data)),
        "switching": switching_section(data, product_names(data)),
        "product_pages": product_pages(data, product_names(data), ordered_products(data),
                                       quote_dicts),
        "need_sections": need_sections(data, product_names(data), ordered_products(data),
                                       quote_dicts),
        "since_last_run": plain(since_last_run) if since_last_run else None,
        "method": method_section(data, now),
    }
