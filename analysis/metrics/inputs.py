"""Input mix: what kind of product input each product's reviews carry.

Stage: analyse. In: ``review_table`` (:mod:`.frames`: the 0/1 columns problem_report,
feature_request, praise, question, other). Out: ``input_mix`` frame, one row per product x
input type (``MARKET`` pooled rows included)::

    product, input_type, input_class, n, n_reviews, share, share_lo, share_hi

Formula: ``share = n / n_reviews`` with ``n`` the reviews carrying that label (labels are
multi-label, so shares need not add up to 1); Wilson interval as in :mod:`.shares`.

Mapping from review input type to the product-input class a team acts on (after the
maintenance categories of software-evolution research, Lientz & Swanson, and the app-review
taxonomy of Maalej & Nabil, 2015):

========================  ==========================  =========================================
input type                product-input class         what the team does with it
========================  ==========================  =========================================
problem_report            fault correction            fix defects (corrective maintenance)
feature_request           market-driven development   new or changed features (perfective)
question                  responsiveness              answer, document, onboard (support)
praise                    retention asset             protect what works; marketing proof
other                     no product input            nothing to act on
========================  ==========================  =========================================
"""

from __future__ import annotations

import pandas as pd

from analysis.metrics.frames import LABEL_COLUMNS
from analysis.metrics.shares import MARKET, wilson_interval

INPUT_CLASSES: dict[str, str] = {
    "problem_report": "fault correction",
    "feature_request": "market-driven development",
    "question": "responsiveness",
    "praise": "retention asset",
    "other": "no product input",
}
"""Review input type -> product-input class (see the module docstring)."""


def input_mix(reviews: pd.DataFrame) -> pd.DataFrame:
    """Share of each product's reviews per input type, with its product-input class."""
    rev = pd.concat([reviews, reviews.assign(product=MARKET)], ignore_index=True)
    sums = rev.groupby("product")[list(LABEL_COLUMNS)].sum()
    n_reviews = rev.groupby("product").size()
    long = (sums.stack().rename("n").reset_index()
            .rename(columns={"level_1": "input_type"}))
    long = long.rename(columns={long.columns[1]: "input_type"})
    long = long.assign(n=long["n"].astype("int64"),
                       n_reviews=long["product"].map(n_reviews).astype("int64"))
    lo, hi = wilson_interval(long["n"], long["n_reviews"])
    long = long.assign(share=long["n"] / long["n_reviews"], share_lo=lo, share_hi=hi,
                       input_class=long["input_type"].map(INPUT_CLASSES))
    cols = ["product", "input_type", "input_class", "n", "n_reviews", "share", "share_lo",
            "share_hi"]
    order = {t: i for i, t in enumerate(LABEL_COLUMNS)}
    return (long[cols].assign(_o=long["input_type"].map(order))
            .sort_values(["product", "_o"]).drop(columns="_o").reset_index(drop=True))
