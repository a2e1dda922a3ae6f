"""Versions: need complaint rates by app version, where the source gives a version.

Stage: analyse. In: ``review_table`` and ``need_table`` (:mod:`.frames`). Out: ``by_version``
frame, one row per product x version x need for the product's versions that have at least
``min_sample`` reviews (the latest ``last`` of them when ``last`` is given; the report shows
the most recent few and says how many it left out, the exported table keeps them all)::

    product, version, order, n_reviews, mean_stars, need, n_negative, complaint_rate

Formula: ``complaint_rate = n_negative / n_reviews`` within the version. Versions are ordered
by their numeric parts ("4.10.0" after "4.9.2"), falling back to the text.
"""

from __future__ import annotations

import re

import pandas as pd


def version_key(version: str) -> tuple[tuple[int, ...], str]:
    """Sort key: numeric parts first, the text as tie-breaker.

    >>> sorted(["4.10.0", "4.9.2", "5"], key=version_key)
    ['4.9.2', '4.10.0', '5']
    """
    return tuple(int(p) for p in re.findall(r"\d+", version)), version


def by_version(
    reviews: pd.DataFrame, needs: pd.DataFrame, *, min_sample: int, need_ids: list[str],
    last: int | None = None,
) -> pd.DataFrame:
    """Complaint rate per need for each product's latest well-sampled versions."""
    cols = ["product", "version", "order", "n_reviews", "mean_stars", "need", "n_negative",
            "complaint_rate"]
    rev = reviews.loc[reviews["version"].notna() & (reviews["version"].astype(str) != "")]
    if rev.empty:
        return pd.DataFrame(columns=cols)
    base = (rev.groupby(["product", "version"])
            .agg(n_reviews=("uid", "size"), mean_stars=("rating", "mean")).reset_index())
    base = base.loc[base["n_reviews"] >= min_sample]
    keep = []
    for _, group in base.groupby("product", sort=True):
        ordered = sorted(group["version"], key=version_key)
        ordered = ordered[-last:] if last else ordered
        keep.append(group.loc[group["version"].isin(ordered)].assign(
            order=[ordered.index(v) for v in group.loc[group["version"].isin(ordered),
                                                        "version"]]))
    if not keep:
        return pd.DataFrame(columns=cols)
    base = pd.concat(keep, ignore_index=True)
    grid = base.merge(pd.DataFrame({"need": sorted(need_ids)}), how="cross")
    neg = (needs.loc[needs["negative"]].groupby(["product", "version", "need"]).size()
           .rename("n_negative").reset_index())
    out = grid.merge(neg, on=["product", "version", "need"], how="left")
    out = out.assign(n_negative=out["n_negative"].fillna(0).astype("int64"))
    out = out.assign(complaint_rate=out["n_negative"] / out["n_reviews"])
    return out[cols].sort_values(["product", "order", "need"], ignore_index=True)
