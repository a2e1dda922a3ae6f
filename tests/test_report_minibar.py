"""The report on real labelled reviews (../shared/data/minibar-en, three fitness apps).

The store gets the CSVs' own hand labels as classifications (problem_report / feature_request
from the labels, sentiment from the stars), so the test checks the report's arithmetic on real
data without depending on a model: per-product review counts and mean stars must equal the
data's, and problem-report shares must rank the apps as the labels do.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from analysis.config import load_config
from analysis.report.build import build_report
from analysis.store import ReviewStore

APPS = {"Garmin_Connect": ("garmin", "Garmin Connect"),
        "Huawei_Health": ("huawei", "Huawei Health"),
        "Samsung_Health": ("samsung", "Samsung Health")}
VERSION = "minibar-hand-labels"


def load_minibar(folder: Path, store: ReviewStore) -> pd.DataFrame:
    """Reviews + label rows from the CSVs; returns the combined frame (product, score, ...)."""
    frames = []
    for stem, (key, _) in APPS.items():
        frame = pd.read_csv(folder / f"{stem}.en.csv").assign(product=key)
        frame = frame.assign(review_id=[f"{key}-{i}" for i in range(len(frame))])
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    # Dates are not in the data set: spread reviews over 6 months, deterministically.
    days = pd.Series(range(len(data))) % 180
    published = pd.Timestamp("2023-06-30", tz="UTC") - pd.to_timedelta(days, unit="D")
    store.upsert_reviews(
        {"source": "google_play", "review_id": r.review_id, "product": r.product,
         "rating": int(r.score), "text": str(r.data),
         "published_at": p.strftime("%Y-%m-%dT%H:%M:%SZ"), "language": "en",
         "url": f"https://play.google.com/store/apps/details?id={r.product}"}
        for r, p in zip(data.itertuples(), published, strict=True))
    labels = []
    for r in data.itertuples():
        sentiment = "negative" if r.score <= 2 else "neutral" if r.score == 3 else "positive"
        labels.append({
            "uid": f"google_play:{r.review_id}", "model_version": VERSION, "language": "en",
            "status": "ok", "sentiment": sentiment, "sentiment_score": (r.score - 3) / 2,
            "problem_report": int(r.problem_report), "feature_request": int(r.feature_request),
            "praise": int(r.score >= 4 and not r.problem_report), "question": 0,
            "other": int(r.irrelevant),
            "input_type": "problem_report" if r.problem_report else "other",
            # Hand labels name no need; problem reports stand in as a "reliability" mention so
            # the need figures have something real to count.
            "needs_json": {"reliability": 1.0} if r.problem_report else {},
        })
    store.write_classifications(labels)
    return data


@pytest.fixture(scope="module")
def minibar_report(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("minibar")
    lines = ['[project]', 'name = "Fitness apps"', 'workspace = "ws"', "",
             "[report]", "months = 12", ""]
    for key, name in APPS.values():
        lines += ["[[products]]", f'key = "{key}"', f'name = "{name}"', ""]
    (folder / "reviewgap.toml").write_text("\n".join(lines), "utf-8")
    cfg = load_config(folder / "reviewgap.toml")
    store = ReviewStore(folder / "ws" / "reviewgap.sqlite")
    data = load_minibar(shared_dir / "data" / "minibar-en", store)
    out = build_report(store, cfg, now=datetime(2023, 7, 1, tzinfo=UTC))
    return data, out


def test_counts_and_mean_stars_match_the_data(minibar_report) -> None:  # type: ignore[no-untyped-def]
    data, out = minibar_report
    products = pd.read_csv(out.csv_dir / "products.csv").set_index("product")
    expected = data.groupby("product")["score"].agg(["size", "mean"])
    for key in expected.index:
        assert products.loc[key, "n_reviews"] == expected.loc[key, "size"]
        assert products.loc[key, "mean_stars"] == pytest.approx(expected.loc[key, "mean"])
    text = subprocess.run(["pdftotext", "-layout", str(out.pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    scorecard = next(p for p in text.split("\f") if "Scorecard" in p and "Avg stars" in p)
    for key, name in APPS.values():
        line = next(li for li in scorecard.splitlines() if li.strip().startswith(name))
        n, stars = expected.loc[key, "size"], expected.loc[key, "mean"]
        assert re.search(rf"{n:,}\s+{stars:.2f}", line), line


def test_problem_report_shares_rank_apps_as_labels_do(minibar_report) -> None:  # type: ignore[no-untyped-def]
    data, out = minibar_report
    mix = pd.read_csv(out.csv_dir / "input_mix.csv")
    shares = (mix.loc[(mix["input_type"] == "problem_report") & (mix["product"] != "__market__")]
              .set_index("product")["share"])
    labels = data.groupby("product")["problem_report"].mean()
    assert shares.sort_values().index.tolist() == labels.sort_values().index.tolist()
    assert shares.to_dict() == pytest.approx(labels.to_dict())
    # Huawei has the most problem reports in the hand labels (877 of 2,000).
    assert shares.idxmax() == "huawei"
