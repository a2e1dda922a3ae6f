"""Context builders for the later report sections: trends, switching, product pages, need
sections and the methodology appendix.

Stage: report. In: :class:`~analysis.report.data.ReportData`. Out: plain dicts/lists (see
:mod:`.context`, which assembles them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from analysis.classify.pipeline import version_need_threshold
from analysis.classify.requests import REQUESTS_ASKED_VERSION
from analysis.metrics.inputs import INPUT_CLASSES
from analysis.metrics.shares import MARKET
from analysis.metrics.whitespace import NEG_THRESHOLD
from analysis.report import charts
from analysis.report.data import ReportData
from analysis.report.plain import plain, records

QuoteFn = Callable[..., list[dict[str, Any]]]
TOP_NEED_SECTIONS = 6
"""At most this many need sections (best-ranked opportunities first)."""
VERSION_COLUMNS = 5
"""The product page's version table shows the most recent this many well-sampled versions
(and says how many older ones it left out), so that the table fits beside the page's other
blocks instead of spilling a couple of rows onto a page of their own."""
VERSION_NEEDS = 5
"""...and the same top needs as the page's "Top needs" table (all needs are in versions.csv)."""
HOLDOUT_DATASET = "minibar-en"
"""The manifest's ``sources`` key of the hand-labelled set the shipped heads were held out on."""
HOLDOUT_LABELS = ("problem_report", "feature_request", "praise", "question")


def top_needs(data: ReportData, k: int) -> list[str]:
    """Ranked opportunity needs first, then the rest by demand; at most ``k``."""
    opp = data.opportunities
    ranked = opp.loc[opp["rank"].notna(), "need"].tolist()
    rest = opp.loc[opp["rank"].isna()].sort_values(["n_mentions", "need"],
                                                   ascending=[False, True])["need"].tolist()
    return (ranked + rest)[:k]


def trends_section(data: ReportData, names: dict[str, str]) -> dict[str, Any]:
    """Market complaint-rate lines for the top needs, significant changes, emerging themes."""
    market = data.monthly.loc[data.monthly["product"] == MARKET]
    months = sorted(market["month"].unique())
    needs = top_needs(data, 5)
    series = {data.needs[n].label: market.loc[market["need"] == n].set_index("month")
              .reindex(months)["complaint_rate"].to_numpy() for n in needs}
    svg = charts.trend_chart(months, series) if len(months) >= 2 and needs else ""
    labels = {k: v.label for k, v in data.needs.items()}
    changes = [{**r, "need_label": labels[r["need"]], "product_name": names[r["product"]]}
               for r in records(data.changes.loc[data.changes["significant"]])]
    emerging = records(data.emerging)
    return {"svg": svg, "months": months, "changes": changes,
            "last_month": months[-1] if months else None, "emerging": emerging,
            "tested": int(data.changes["p_adj"].notna().sum())}


def switching_section(data: ReportData, names: dict[str, str]) -> dict[str, Any]:
    """Who leaves for whom, mention counts and a few example excerpts (escaped by Jinja)."""
    sw = data.switch_mentions
    keys = [p.key for p in data.cfg.products]
    counts = sw.groupby(["product", "other"]).size() if not sw.empty else pd.Series(dtype=int)
    grid = [{"name": names[a], "cells": [int(counts.get((a, b), 0)) if a != b else None
                                         for b in keys]} for a in keys]
    flows = [{**r, "from_name": names[r["from_product"]], "to_name": names[r["to_product"]]}
             for r in records(data.flows)]
    directed = sw.loc[sw["direction"] != "mention"].sort_values(
        ["published_at", "uid"], ascending=[False, True]).head(4)
    examples = [{**r, "product_name": names[r["product"]], "other_name": names[r["other"]]}
                for r in records(directed)]
    return {"n": len(sw), "n_reviews": int(sw["uid"].nunique()) if len(sw) else 0,
            "grid": grid, "columns": [names[k] for k in keys], "flows": flows,
            "examples": examples}


def _spark(values: pd.Series, salt: str) -> str:
    return charts.sparkline(values.to_numpy(dtype=float), salt=salt) if len(values) > 1 else ""


def product_pages(data: ReportData, names: dict[str, str], keys: list[str],
                  quotes: QuoteFn) -> list[dict[str, Any]]:
    """One page per product: strengths and weaknesses vs the rest, sparklines, input mix."""
    labels = {k: v.label for k, v in data.needs.items()}
    pages = []
    months = sorted(data.monthly["month"].unique())
    for key in keys:
        vs = data.vs_rest.loc[data.vs_rest["product"] == key]
        tested = vs.loc[~vs["low_sample"]]
        weak = tested.loc[tested["diff"] > 0].sort_values(["diff", "need"],
                                                          ascending=[False, True])
        strong = tested.loc[tested["diff"] < 0].sort_values(["diff", "need"])
        mine = data.monthly.loc[data.monthly["product"] == key]
        per_month = (mine.drop_duplicates("month").set_index("month").reindex(months))
        rows = []
        for n in top_needs(data, 5):
            series = mine.loc[mine["need"] == n].set_index("month").reindex(months)
            cell = data.shares.loc[(data.shares["product"] == key) & (data.shares["need"] == n)]
            rows.append({"need_label": labels[n], **records(cell)[0],
                         "spark": _spark(series["complaint_rate"], f"{key}-{n}")})
        mix = data.input_mix.loc[data.input_mix["product"] == key]
        ver = data.versions.loc[data.versions["product"] == key]
        pages.append({
            "key": key, "name": names[key], "ours": data.cfg.product(key).ours,
            "weaknesses": [{**r, "need_label": labels[r["need"]]} for r in records(weak)],
            "strengths": [{**r, "need_label": labels[r["need"]]} for r in records(strong)],
            "spark_reviews": _spark(per_month["n_reviews"].fillna(0), f"{key}-n"),
            "spark_stars": _spark(per_month["mean_stars"], f"{key}-stars"),
            "needs": rows,
            "input_mix": records(mix),
            "versions": _version_rows(ver, labels, top_needs(data, VERSION_NEEDS)),
            "quote_pos": quotes(data, product=key, need=None, k=1, negative=False),
            "quote_neg": quotes(data, product=key, need=None, k=1, negative=True),
        })
    return pages


def _version_rows(ver: pd.DataFrame, labels: dict[str, str], needs: list[str],
                  *, columns: int = VERSION_COLUMNS) -> dict[str, Any]:
    """Versions x needs complaint-rate table (plain), latest version last.

    Only the ``columns`` most recent versions and the given ``needs`` (those the product has)
    are shown; ``older`` / ``other_needs`` count what was left out, for the note under it.
    """
    if ver.empty:
        return {"versions": [], "rows": [], "older": 0, "other_needs": 0}
    vs = ver.drop_duplicates("version").sort_values("order")
    older = max(0, len(vs) - columns)
    vs = vs.tail(columns)
    cells = ver.set_index(["need", "version"])["complaint_rate"]
    present = set(ver["need"])
    shown = [n for n in needs if n in present]
    rows = [{"need_label": labels[n], "cells": [plain(cells.get((n, v))) for v in vs["version"]]}
            for n in shown]
    return {"versions": [{"version": v, "n": int(n)} for v, n in
                         zip(vs["version"], vs["n_reviews"], strict=True)], "rows": rows,
            "older": older, "other_needs": len(present) - len(shown)}


def need_sections(data: ReportData, names: dict[str, str], keys: list[str],
                  quotes: QuoteFn) -> list[dict[str, Any]]:
    """One section per top need: definition, per-product figures, quotes with links."""
    out = []
    imp = data.impact.set_index(["product", "need"])
    opp = data.opportunities.set_index("need")
    for n in top_needs(data, TOP_NEED_SECTIONS):
        rows = []
        for key in [*keys, MARKET]:
            cell = data.shares.loc[(data.shares["product"] == key) & (data.shares["need"] == n)]
            i = imp.loc[(key, n)]
            rows.append({**records(cell)[0], "name": names[key], "market": key == MARKET,
                         "impact": plain(i["impact"]), "impact_lo": plain(i["impact_lo"]),
                         "impact_hi": plain(i["impact_hi"])})
        out.append({"id": n, "label": data.needs[n].label,
                    "description": data.needs[n].description, "rows": rows,
                    "opportunity": records(opp.loc[[n]].reset_index())[0],
                    "quotes": quotes(data, product=None, need=n, k=data.cfg.report.top_quotes)})
    return out


def _counts(frame: pd.DataFrame, col: str) -> list[dict[str, Any]]:
    c = frame[col].fillna("unknown").value_counts().sort_index()
    return [{"value": str(k), "n": int(v)} for k, v in c.items()]


def language_counts(reviews: pd.DataFrame, classifications: pd.DataFrame) -> list[dict[str, Any]]:
    """Reviews per language: the classifier's detected language, else the source's stated one.

    App stores mostly state no language, so the source field alone reads "unknown" for most
    reviews; the classify stage detects each review's language, which is what decided whether
    it was classified. ``basis`` says which one a row counts: "detected", "stated" (by the
    source, no detection stored) or "unknown" (neither). Largest count first, then by name.
    """
    detected = classifications.set_index("uid")["language"] if len(classifications) else \
        pd.Series(dtype=object)
    det = reviews["uid"].map(detected)
    det = det.where(det.notna() & (det.astype(str) != ""))
    stated = reviews["language"].where(reviews["language"].notna()
                                       & (reviews["language"].astype(str) != ""))
    basis = pd.Series("unknown", index=reviews.index)
    basis = basis.where(stated.isna(), "stated").where(det.isna(), "detected")
    value = det.fillna(stated).fillna("unknown")
    counts = pd.DataFrame({"value": value, "basis": basis}).value_counts().reset_index(
        name="n").sort_values(["n", "value", "basis"], ascending=[False, True, True])
    return [{"value": str(r.value), "basis": str(r.basis), "n": int(r.n)}
            for r in counts.itertuples(index=False)]


def weak_language_notes(encoder: str | None, own_heads: bool,
                        by_language: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Languages in the report (``by_language`` rows, from :func:`language_counts`) that the
    heads in use were measured to read poorly (:func:`analysis.classify.build.weak_languages`),
    each with what was measured."""
    from analysis.classify.build import weak_languages

    weak = weak_languages(encoder, own_heads)
    present = {row["value"] for row in by_language if row["n"] > 0}
    return [{"value": lang, "why": why} for lang, why in sorted(weak.items()) if lang in present]


def _accuracy_labels(figures: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"label": k, **plain(v)} for k, v in sorted((figures.get("labels") or {}).items())]


def holdout_section(holdout: dict[str, Any] | None) -> dict[str, Any] | None:
    """The shipped heads' leave-one-app-out figures as table rows, per held-out app.

    ``mean`` is the unweighted mean over the held-out apps (each app counts once, as each is a
    separate market): ``mean_f1 = (1/A) * sum_a f1_a``.
    """
    if not holdout:
        return None
    apps = sorted(holdout["holdout"])
    figs = holdout["holdout"]
    rows = []
    if holdout["sentiment_head"]:
        for key, name in (("sentiment_accuracy", "Sentiment, positive vs negative (accuracy)"),
                          ("sentiment_3class_accuracy", "Sentiment, 3 classes (accuracy)")):
            vals = [plain(figs[a].get(key)) for a in apps]
            if all(v is not None for v in vals):
                rows.append({"label": name, "kind": "accuracy",
                             "cells": [{"value": v} for v in vals],
                             "mean": sum(vals) / len(vals)})
    for label in HOLDOUT_LABELS:
        cells = [plain({k: figs[a].get(label, {}).get(k)
                        for k in ("precision", "recall", "f1", "support")}) for a in apps]
        if any(c["f1"] is None for c in cells):
            continue
        rows.append({"label": label.replace("_", " "), "kind": "f1", "cells": cells,
                     "mean": sum(c["f1"] for c in cells) / len(cells)})
    n = sum(int(figs[a].get("n", 0)) for a in apps)
    return {"apps": [{"name": a, "n": int(figs[a].get("n", 0))} for a in apps], "n": n,
            "dataset": HOLDOUT_DATASET, "source": holdout["sources"].get(HOLDOUT_DATASET, ""),
            "int8_runtime": holdout["int8_runtime"], "sentiment_head": holdout["sentiment_head"],
            "rows": rows}


def method_section(data: ReportData, now: datetime) -> dict[str, Any]:
    """Sources, crawl dates, counts, what was not classified and why, models, accuracy."""
    cfg = data.cfg
    keys = [p.key for p in cfg.products]
    everything = data.reviews_all
    cls = data.classifications.set_index("uid")["status"]
    status = everything["uid"].map(cls).fillna("not classified yet")
    status_counts = [{"value": k, "n": int(v)} for k, v in status.value_counts().sort_index()
                     .items()]
    runs = data.runs.head(12)
    ev = data.evaluation
    accuracy = None
    if ev:
        accuracy = {"model_version": ev.get("model_version"), "n": ev.get("n"),
                    "created_at": ev.get("created_at"), "input": ev.get("input"),
                    "sentiment_accuracy": plain(ev.get("sentiment_accuracy")),
                    "need_mentions": plain(ev.get("need_mentions")),
                    "labels": _accuracy_labels(ev)}
    window = data.reviews["published_at"].dropna()
    c = cfg.classification
    by_language = language_counts(data.reviews, data.classifications)
    return {
        "generated": now.strftime("%Y-%m-%d %H:%M UTC"),
        "products": [{"key": p.key, "name": p.name, "ours": p.ours,
                      "sources": sorted(p.sources()) or ["(imported or unlisted)"],
                      "aliases": p.aliases} for p in cfg.products],
        "by_source": _counts(data.reviews, "source"),
        "by_country": _counts(data.reviews, "country"),
        "by_language": by_language,
        "weak_languages": weak_language_notes(c.encoder, bool(c.heads), by_language),
        "status_counts": status_counts,
        "n_stored": len(everything),
        "n_in_window": len(data.reviews),
        "window_start": plain(window.min()) if len(window) else None,
        "window_end": plain(window.max()) if len(window) else None,
        "runs": records(runs, ["run_id", "kind", "started_at", "ended_at", "status"]),
        "model_version": data.model_version,
        "encoder": c.encoder or "all-MiniLM-L6-v2 (bundled)",
        "sentiment_model": c.sentiment_model or "reviewgap sentiment head",
        "needs_model": c.needs_model or "reviewgap needs heads",
        # The threshold the labels were made with (the config may leave it to the heads).
        "need_threshold": (version_need_threshold(data.model_version) if data.model_version
                           else c.need_threshold),
        "languages": c.languages,
        # What counted as a feature request in the labels used (the config may have changed
        # since they were made; their model version says how they were made).
        "requests_asked": (f"/{REQUESTS_ASKED_VERSION}" in data.model_version
                           if data.model_version else c.requests == "asked"),
        "accuracy": accuracy,
        "holdout": holdout_section(data.holdout),
        "evaluation_path": str(cfg.workspace / "evaluation" / "latest.json"),
        "min_sample": cfg.report.min_sample, "alpha": cfg.report.alpha,
        "months": cfg.report.months, "since": plain(pd.Timestamp(cfg.project.since))
        if cfg.project.since else None,
        "neg_threshold": NEG_THRESHOLD, "top_quotes": cfg.report.top_quotes,
        "input_classes": [{"type": k, "cls": v} for k, v in INPUT_CLASSES.items()],
        "unknown_needs": data.unknown_needs,
        "needs": [{"id": n.id, "label": n.label, "description": n.description}
                  for n in data.needs.values()],
        "products_without_reviews": [k for k in keys
                                     if k not in set(data.reviews["product"])],
    }
