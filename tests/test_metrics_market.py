"""White space, opportunity score, trends, switching, versions, input mix and quotes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.metrics.inputs import INPUT_CLASSES, input_mix
from analysis.metrics.opportunity import opportunity_scores
from analysis.metrics.quotes import pick_quotes, shorten
from analysis.metrics.shares import MARKET
from analysis.metrics.switching import competitor_mentions, flows
from analysis.metrics.trends import changes, emerging_themes, growth, monthly
from analysis.metrics.versions import by_version, version_key
from analysis.metrics.whitespace import white_space


def _cells(rows: list[tuple[str, str, int, float, float, float]]) -> tuple[pd.DataFrame,
                                                                           pd.DataFrame]:
    """(product, need, n_mentions, neg_share, impact, share) -> shares and impact frames."""
    frame = pd.DataFrame(rows, columns=["product", "need", "n_mentions", "neg_share", "impact",
                                        "share"])
    frame = frame.assign(complaint_rate=frame["share"] * frame["neg_share"],
                         impact_hi=frame["impact"] + 0.1,
                         low_sample=frame["n_mentions"] < 30)
    return (frame.drop(columns=["impact", "impact_hi"]),
            frame[["product", "need", "impact", "impact_hi"]])


def test_white_space_needs_every_product_to_fail() -> None:
    shares, impact = _cells([
        ("a", "price", 80, 0.7, -0.8, 0.2), ("b", "price", 90, 0.6, -0.5, 0.2),
        (MARKET, "price", 170, 0.65, -0.6, 0.2),
        ("a", "sync", 80, 0.7, -0.8, 0.2), ("b", "sync", 90, 0.3, -0.2, 0.2),
        (MARKET, "sync", 170, 0.5, -0.5, 0.2),
        # b has too few mentions to count: only one product with data -> not white space
        ("a", "ads", 80, 0.9, -1.0, 0.2), ("b", "ads", 5, 0.2, 0.1, 0.01),
        (MARKET, "ads", 85, 0.85, -0.9, 0.2),
    ])
    out = white_space(shares, impact, min_sample=30).set_index("need")
    assert out.loc["price", "white_space"]
    assert (out.loc["price", "n_products"], out.loc["price", "n_failing"]) == (2, 2)
    assert not out.loc["sync", "white_space"]
    assert not out.loc["ads", "white_space"]
    assert out.loc["ads", "n_products"] == 1
    assert out.loc["price", "score"] == pytest.approx(0.2 * 0.65 * 0.6)


def test_opportunity_score_formula_and_ranking() -> None:
    shares, impact = _cells([
        (MARKET, "price", 200, 0.5, -0.6, 0.2), (MARKET, "sync", 100, 0.8, -1.0, 0.1),
        (MARKET, "ads", 10, 0.9, -2.0, 0.01),
    ])
    shares = shares.assign(n_reviews=1000)
    g = pd.DataFrame({"need": ["price", "sync", "ads"], "growth": [0.5, 3.0, np.nan]})
    out = opportunity_scores(shares, impact, g, min_sample=30).set_index("need")
    assert out.loc["price", "score"] == pytest.approx(100 * 0.2 * 0.5 * 0.6 * 1.5)
    assert out.loc["sync", "score"] == pytest.approx(100 * 0.1 * 0.8 * 1.0 * 2.0)  # clipped
    assert out.loc["sync", "rank"] == 1
    assert out.loc["price", "rank"] == 2
    assert pd.isna(out.loc["ads", "rank"])
    assert out.loc["ads", "low_sample"]


def _monthly_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, needs = [], []
    for month, n, neg in (("2025-01", 100, 5), ("2025-02", 100, 5), ("2025-03", 100, 30)):
        for i in range(n):
            uid = f"{month}-{i}"
            rows.append({"uid": uid, "product": "a", "month": month, "rating": 4})
            if i < neg:
                needs.append({"uid": uid, "product": "a", "need": "sync", "month": month,
                              "negative": True})
    return pd.DataFrame(rows), pd.DataFrame(needs)


def test_monthly_series_and_significant_last_month_change() -> None:
    reviews, needs = _monthly_tables()
    series = monthly(reviews, needs, need_ids=["sync"])
    a = series.loc[series["product"] == "a"].set_index("month")
    assert a.loc["2025-03", "complaint_rate"] == pytest.approx(0.3)
    out = changes(series, min_sample=30, alpha=0.05).set_index("product")
    assert out.loc["a", "significant"]
    assert out.loc["a", "direction"] == "worse"
    assert (out.loc["a", "k_last"], out.loc["a", "n_prev"]) == (30, 200)
    # Too little data in the last month: never flagged.
    quiet = changes(series, min_sample=150, alpha=0.05)
    assert not quiet["significant"].any()
    assert quiet["p_adj"].isna().all()
    g = growth(series, recent_months=1).set_index("need")
    assert g.loc["sync", "growth"] == pytest.approx(0.3 / 0.05 - 1)


def test_emerging_theme_rises_in_the_last_month() -> None:
    reviews, _ = _monthly_tables()
    uids = reviews["uid"]
    theme_uids = [u for u in uids if u.startswith("2025-03")][:40] + list(uids[:2])
    mentions = pd.DataFrame({"uid": theme_uids, "need": "theme:7"})
    themes = pd.DataFrame({"theme_id": ["7", "8"], "label": ["dark mode", "widgets"],
                           "words_json": [json.dumps(["dark", "mode"]), json.dumps(["w"])],
                           "size": [42, 0]})
    out = emerging_themes(reviews, mentions, themes, min_sample=30, alpha=0.05)
    row = out.set_index("theme_id").loc["7"]
    assert row["emerging"]
    assert (row["k_last"], row["k_prev"]) == (40, 2)
    assert not out.set_index("theme_id").loc["8", "emerging"]


def test_switching_directions_and_flows() -> None:
    reviews = pd.DataFrame({
        "uid": ["1", "2", "3", "4", "5"], "product": ["a", "a", "b", "b", "a"],
        "title": [None, None, "Meh", None, None],
        "text": ["Switching to Bolt Notes tomorrow.", "I moved from bolt last year, happy.",
                 "Acme is way better", "Nothing about others.", "Unlike BOLT NOTES it syncs."],
        "sentiment": "neutral", "rating": 3, "url": "https://x",
        "published_at": pd.to_datetime(["2025-01-01"] * 5, utc=True),
    })
    names = {"a": ["Acme Notes", "acme"], "b": ["Bolt Notes", "bolt"]}
    out = competitor_mentions(reviews, names).set_index("uid")
    assert out.loc["1", "direction"] == "to"
    assert out.loc["1", "other"] == "b"
    assert out.loc["2", "direction"] == "from"
    assert out.loc["3", "direction"] == "to"
    assert out.loc["3", "other"] == "a"
    assert out.loc["5", "direction"] == "mention"
    assert "4" not in out.index
    f = flows(out.reset_index()).set_index(["from_product", "to_product"])["n"]
    assert f.to_dict() == {("a", "b"): 1, ("b", "a"): 2}


def test_versions_order_and_complaint_rate() -> None:
    assert sorted(["4.10.0", "4.9.2", "5"], key=version_key) == ["4.9.2", "4.10.0", "5"]
    reviews = pd.DataFrame({"uid": [str(i) for i in range(9)], "product": "a",
                            "version": ["1.9"] * 3 + ["1.10"] * 4 + [None, "2.0"],
                            "rating": 3})
    needs = pd.DataFrame({"uid": ["3", "4"], "product": "a", "version": "1.10",
                          "need": "sync", "negative": True})
    out = by_version(reviews, needs, min_sample=3, need_ids=["sync"])
    assert out["version"].tolist() == ["1.9", "1.10"]  # 2.0 has 1 review: dropped
    assert out.set_index("version").loc["1.10", "complaint_rate"] == pytest.approx(0.5)


def test_input_mix_shares_and_classes() -> None:
    reviews = pd.DataFrame({"uid": ["1", "2", "3", "4"], "product": "a",
                            "problem_report": [1, 1, 0, 0], "feature_request": [1, 0, 0, 0],
                            "praise": [0, 0, 1, 1], "question": 0, "other": 0})
    out = input_mix(reviews).set_index(["product", "input_type"])
    assert out.loc[("a", "problem_report"), "share"] == pytest.approx(0.5)
    assert out.loc[("a", "feature_request"), "input_class"] == "market-driven development"
    assert out.loc[("a", "problem_report"), "input_class"] == INPUT_CLASSES["problem_report"]
    assert out.loc[(MARKET, "praise"), "n"] == 2


def test_quotes_pick_the_strongest_and_cut_on_words() -> None:
    reviews = pd.DataFrame({
        "uid": ["1", "2", "3"], "product": "a", "title": None,
        "text": ["Sync broke and I lost a whole week of notes, terrible.",
                 "Sync is a bit flaky at times but I can live with it.", "Bad"],
        "url": ["https://x/1", "https://x/2", "https://x/3"], "source": "s",
        "published_at": pd.to_datetime(["2025-01-01"] * 3, utc=True),
        "helpful_count": [0, 9, 0], "rating": [1, 3, 1], "sentiment": "negative",
        "sentiment_score": [-0.9, -0.3, -1.0]})
    needs = pd.DataFrame({"uid": ["1", "2", "3"], "product": "a", "need": "sync",
                          "sentence": ["", "", ""], "clause": "", "negative": True,
                          "sentiment_score": [-0.9, -0.3, -1.0]})
    out = pick_quotes(needs, reviews, product="a", need="sync", k=2)
    # "Bad" is strongest but shorter than 30 characters: informative quotes first.
    assert out["uid"].tolist() == ["1", "2"]
    assert out.loc[0, "url"] == "https://x/1"
    assert shorten("one two three", 9) == "one two…"
