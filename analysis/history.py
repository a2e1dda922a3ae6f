"""Run history: "since last run" comparison and each target's crawl health.

Stage: after classify, before report (and ``reviewgap status``). In: the store (``runs``,
``reviews``, ``classifications``, ``mentions``, ``themes``, ``app_meta``, ``target_state``),
the config, this run's id. Out: plain dicts (str/int/float/list/dict only) that the report's
"Since last run" section renders key by key, the alert digest reads, and ``stats_json`` keeps.

Definitions (also stated in the dict's ``method`` line, so the report says them):

* *Previous run*: the newest earlier run with status ``ok`` whose stages included the report.
* *New reviews*: reviews first stored after the previous run ended (normally exactly the reviews
  first seen in this run; reviews stored by a killed run in between count too, since no report
  showed them). With no previous run every review is new.
* *Need changes*: reviews are split by publication date at the newest review the previous run
  had (``cutoff``). "Since" = published after it; "before" = the same length of time before it
  (at least ``MIN_WINDOW_DAYS``, so a month is compared with a month). Per product x need, two
  proportions are tested: ``share`` (reviews mentioning the need / reviews) and
  ``negative_share`` (negative mentions / mentions), with the two-proportion z-test of
  :mod:`analysis.metrics.gaps`, Benjamini-Hochberg corrected over all tests of the run. Cells
  with fewer than ``[report] min_sample`` reviews (share) or mentions (negative share) in
  either window are not tested. Changes with ``p_adj < [report] alpha`` are listed.
* *New themes*: discovered themes whose label the previous run did not have (theme labels are
  kept in each run's ``stats_json``, since the ``themes`` table holds only the latest fit).
* *Rating changes*: each target's store aggregate (``app_meta``) in this run against the
  previous run's (or the newest earlier one).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pandas as pd

from analysis.config import ProjectConfig
from analysis.store import ReviewStore

logger = logging.getLogger(__name__)

MIN_WINDOW_DAYS = 28
"""The shortest comparison window: a monthly run compares a month with a month."""
REPORT_KINDS = ("run", "demo")
"""Run kinds that include the report when ``stats_json`` predates the ``stages`` key."""
METRIC_LABELS = {"share": "share of reviews", "negative_share": "negative share of mentions"}


def _runs(store: ReviewStore) -> pd.DataFrame:
    runs = store.runs_frame()
    runs["stats"] = [json.loads(s or "{}") for s in runs["stats_json"]]
    return runs


def _had_report(run: pd.Series) -> bool:
    stages = run["stats"].get("stages")
    return "report" in stages if stages is not None else run["kind"] in REPORT_KINDS


def previous_run(store: ReviewStore, run_id: str) -> dict[str, Any] | None:
    """The newest ``ok`` run before ``run_id`` that produced a report (see module doc)."""
    runs = _runs(store)
    this = runs.loc[runs["run_id"] == run_id]
    started = this["started_at"].iloc[0] if len(this) else None
    for _, run in runs.iterrows():  # newest first
        if run["run_id"] == run_id or run["status"] != "ok" or not _had_report(run):
            continue
        if started is not None and run["started_at"] > started:
            continue
        return {"run_id": run["run_id"], "started_at": run["started_at"],
                "ended_at": run["ended_at"], "report_path": run["report_path"],
                "stats": run["stats"]}
    return None


def since_last_run(
    store: ReviewStore,
    cfg: ProjectConfig,
    *,
    run_id: str,
    model_version: str | None = None,
    failures: Sequence[str] = (),
) -> dict[str, Any]:
    """The comparison of ``run_id`` with the previous run (see the module docstring).

    Args:
        store: the open store.
        cfg: the project config (products, needs, ``[report] alpha`` and ``min_sample``).
        run_id: this run.
        model_version: the labels to compare; default the newest in the store.
        failures: this run's stage errors and target problems, listed as they are.

    Returns:
        An ordered plain dict: ``summary``, ``previous_run``, ``window``, ``new_reviews``,
        ``need_changes``, ``new_themes``, ``rating_changes``, ``failures``, ``method``.
    """
    prev = previous_run(store, run_id)
    names = {p.key: p.name for p in cfg.products}
    keys = list(names)
    reviews = store.reviews_frame(products=keys)
    version = model_version or next(iter(store.model_versions()), None)

    new = _new_reviews(reviews, prev, names)
    window: dict[str, Any] = {}
    changes: list[dict[str, Any]] = []
    tested = 0
    if prev is not None and version is not None:
        window, changes, tested = _need_changes(store, cfg, reviews, prev, version)
    themes = _new_themes(store, version, prev)
    ratings = _rating_changes(store, run_id, prev, names)

    total_new = sum(r["new_reviews"] for r in new)
    moved = [r for r in ratings if r["change"] not in (None, 0)]
    if prev is None:
        summary = (f"First run: {total_new} reviews collected; changes are reported from the "
                   f"next run on.")
        previous = "none (this is the first run)"
    else:
        summary = (f"{total_new} new review(s); {len(changes)} significant need change(s) of "
                   f"{tested} tested; {len(themes)} new theme(s); {len(moved)} store "
                   f"rating change(s); {len(failures)} failure(s).")
        previous = f"{prev['run_id']} (started {_day_time(prev['started_at'])})"
    method = (
        f"New reviews: first stored after the previous run ended. Need changes: reviews "
        f"published since the newest review the previous run had, against the same length "
        f"of time before it (at least {MIN_WINDOW_DAYS} days); two-proportion z-test, "
        f"Benjamini-Hochberg corrected over {tested} test(s), alpha {cfg.report.alpha}; cells "
        f"with fewer than {cfg.report.min_sample} reviews (or mentions) are not tested. "
        f"Ratings: the stores' own averages."
    )
    return {
        "summary": summary,
        "previous_run": previous,
        "window": window,
        "new_reviews": new,
        "need_changes": changes,
        "new_themes": themes,
        "rating_changes": ratings,
        "failures": list(failures),
        "method": method,
    }


def _day_time(iso: str | None) -> str:
    return iso.replace("T", " ").replace("Z", " UTC") if iso else "?"


def _new_reviews(reviews: pd.DataFrame, prev: dict[str, Any] | None,
                 names: dict[str, str]) -> list[dict[str, Any]]:
    if prev is None:
        is_new = pd.Series(True, index=reviews.index)
    else:
        ended = pd.Timestamp(prev["ended_at"] or prev["started_at"])
        is_new = reviews["first_seen_at"] > ended
    counts = reviews.loc[is_new].groupby("product").size()
    totals = reviews.groupby("product").size()
    return [{"product": name, "new_reviews": int(counts.get(key, 0)),
             "total_reviews": int(totals.get(key, 0))} for key, name in names.items()]


def _need_changes(
    store: ReviewStore, cfg: ProjectConfig, reviews: pd.DataFrame, prev: dict[str, Any],
    version: str,
) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    from analysis.classify.taxonomy import build_taxonomy
    from analysis.metrics.frames import need_table, review_table
    from analysis.metrics.gaps import adjust, two_proportion_test

    ended = pd.Timestamp(prev["ended_at"] or prev["started_at"])
    had = reviews.loc[(reviews["first_seen_at"] <= ended) & reviews["published_at"].notna()]
    if had.empty:
        return {}, [], 0
    cutoff = had["published_at"].max()
    newest = reviews["published_at"].max()
    span = max(newest - cutoff, pd.Timedelta(days=MIN_WINDOW_DAYS))
    start = cutoff - span
    window = {"before": f"{start:%Y-%m-%d} to {cutoff:%Y-%m-%d}",
              "since": f"{cutoff:%Y-%m-%d} to {newest:%Y-%m-%d}",
              "days": round(span / timedelta(days=1))}

    cls = store.classifications_frame(version)
    table = review_table(reviews, cls, products=list(reviews["product"].unique()))
    taxonomy = build_taxonomy(cfg.needs)
    needs = need_table(table, cls, store.mentions_frame(version), needs=list(taxonomy.ids))
    period = pd.Series(pd.NA, index=table.index, dtype="object")
    period[(table["published_at"] > start) & (table["published_at"] <= cutoff)] = "before"
    period[table["published_at"] > cutoff] = "since"
    table = table.assign(period=period).dropna(subset=["period"])
    needs = needs.merge(table[["uid", "period"]], on="uid", how="inner")

    names = {p.key: p.name for p in cfg.products}
    n_reviews = table.groupby(["product", "period"]).size()
    mentions = needs.groupby(["product", "need", "period"]).agg(
        k=("uid", "size"), neg=("negative", "sum"))
    rows: list[dict[str, Any]] = []
    min_n = cfg.report.min_sample
    for product in names:
        for need in taxonomy.ids:
            def cell(key: tuple[str, str, str], col: str) -> int:
                return int(mentions.loc[key, col]) if key in mentions.index else 0

            before, since = (product, need, "before"), (product, need, "since")
            n_b, n_s = int(n_reviews.get((product, "before"), 0)), int(
                n_reviews.get((product, "since"), 0))
            k_b, k_s = cell(before, "k"), cell(since, "k")
            tests = [("share", k_b, n_b, k_s, n_s),
                     ("negative_share", cell(before, "neg"), k_b, cell(since, "neg"), k_s)]
            for metric, kb, nb, ks, ns in tests:
                if min(nb, ns) < min_n:
                    continue
                _, p = two_proportion_test(ks, ns, kb, nb)
                rows.append({"product": names[product], "need": taxonomy.label(need),
                             "measure": METRIC_LABELS[metric],
                             "before_pct": round(100 * kb / nb, 1),
                             "since_pct": round(100 * ks / ns, 1),
                             "change_pts": round(100 * (ks / ns - kb / nb), 1),
                             "count_before": f"{kb}/{nb}", "count_since": f"{ks}/{ns}",
                             "p": p})
    if not rows:
        return window, [], 0
    frame = pd.DataFrame(rows)
    frame["p_adjusted"] = adjust(frame["p"], "fdr_bh")
    hits = frame.loc[frame["p_adjusted"] < cfg.report.alpha].sort_values("p_adjusted")
    out = [{**{k: v for k, v in r.items() if k != "p"},
            "p_adjusted": float(f"{r['p_adjusted']:.3g}")}
           for r in hits.to_dict("records")]
    return window, out, len(frame)


def theme_labels(store: ReviewStore, version: str | None) -> list[dict[str, Any]]:
    """The current themes as ``{"label", "size", "words"}`` (what a run's stats keep)."""
    if version is None:
        return []
    themes = store.themes_frame(version)
    return [{"label": t.label, "size": int(t.size),
             "words": ", ".join(json.loads(t.words_json)[:5])}
            for t in themes.itertuples()]


def _new_themes(store: ReviewStore, version: str | None, prev: dict[str, Any] | None
                ) -> list[dict[str, Any]]:
    if prev is None:
        return []
    before = {t["label"] for t in prev["stats"].get("themes", [])}
    return [{"theme": t["label"], "size": t["size"], "words": t["words"]}
            for t in theme_labels(store, version) if t["label"] not in before]


def _rating_changes(store: ReviewStore, run_id: str, prev: dict[str, Any] | None,
                    names: dict[str, str]) -> list[dict[str, Any]]:
    if prev is None:
        return []
    meta = store.app_meta_frame()
    now = meta.loc[meta["run_id"] == run_id]
    rows: list[dict[str, Any]] = []
    for r in now.itertuples():
        earlier = meta.loc[(meta["target"] == r.target) & (meta["run_id"] <= prev["run_id"])]
        if earlier.empty:
            continue
        b = earlier.iloc[-1]  # app_meta_frame is sorted by target, run_id
        before, after = _num(b["average_rating"]), _num(r.average_rating)
        change = round(after - before, 2) if None not in (before, after) else None
        rows.append({"product": names.get(r.product, r.product), "store": r.target,
                     "before": before, "now": after, "change": change,
                     "ratings_before": _int(b["rating_count"]),
                     "ratings_now": _int(r.rating_count)})
    return rows


def _num(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 2)


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


# -- target health ------------------------------------------------------------------------


def target_health(store: ReviewStore, current: dict[str, Any] | None = None
                  ) -> list[dict[str, Any]]:
    """Each known target's health: ``ok``, ``likely broken`` or ``last crawl failed``.

    A target is *likely broken* when its last two completed crawls returned no reviews
    (``target_state.consecutive_empty >= 2``: the site may have changed), and *last crawl
    failed* when the newest run that crawled it recorded errors for it or its job failed.

    Args:
        store: the open store.
        current: ``{"run_id", "stats"}`` of a run in progress, taken as the newest run (its
            ``runs`` row has no stats until it ends).

    Returns:
        Rows ``{"target", "status", "detail", "last_completed_at", "last_run"}`` sorted by
        target; a job that failed before reaching any target appears under the job's name.
    """
    states = {t.target: t for t in store.target_states().itertuples()}
    last: dict[str, tuple[str, bool, str]] = {}
    runs = _runs(store)[["run_id", "stats"]]
    if current is not None:
        runs = pd.concat([pd.DataFrame([current]), runs.loc[runs["run_id"] != current["run_id"]]],
                         ignore_index=True)
    for _, run in runs.iloc[::-1].iterrows():  # oldest first: newer runs overwrite
        for job in run["stats"].get("crawl", {}).get("jobs", []):
            targets = job.get("targets") or {}
            if not targets:
                last[job["job"]] = (run["run_id"], bool(job.get("failed")),
                                    _job_detail(job))
            for target, counts in targets.items():
                failed = bool(counts.get("errors")) or (
                    bool(job.get("failed")) and target not in _completed_in(states, run))
                last[target] = (run["run_id"], failed, _job_detail(job) if failed else "")
    rows = []
    for target in sorted(set(states) | set(last)):
        state = states.get(target)
        run_id, failed, detail = last.get(target, (None, False, ""))
        empty = int(state.consecutive_empty) if state is not None else 0
        if failed:
            status = "last crawl failed"
        elif empty >= 2:
            status, detail = "likely broken", f"no reviews in the last {empty} completed crawls"
        else:
            status = "ok"
        rows.append({"target": target, "status": status, "detail": detail,
                     "last_completed_at": state.last_completed_at if state is not None else None,
                     "last_run": run_id})
    return rows


def _completed_in(states: dict[str, Any], run: pd.Series) -> set[str]:
    return {t for t, s in states.items() if s.last_completed_run == run["run_id"]}


def _job_detail(job: dict[str, Any]) -> str:
    errors = job.get("errors") or {}
    text = ", ".join(f"{k}={v}" for k, v in errors.items())
    return f"{job['job']}: {job.get('finish_reason')}" + (f" ({text})" if text else "")


def health_problems(health: list[dict[str, Any]]) -> list[str]:
    """The unhealthy rows of :func:`target_health` as one line each (for failures/alerts)."""
    return [f"{h['target']}: {h['status']}" + (f" - {h['detail']}" if h["detail"] else "")
            for h in health if h["status"] != "ok"]
