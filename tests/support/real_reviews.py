"""Real reviews with star ratings, read from the recorded source pages in ../shared/fixtures/raw.

In: the fixtures folder. Out: a DataFrame with one row per review: ``set`` (which recording),
``review_id``, ``title``, ``text``, ``rating`` (1-5). The pages are parsed with reviewgap's own
page parsers, as a crawl would read them; nothing is copied into the repository.

These reviews are not minibar-en and nothing was fitted on them: apps of other kinds (a
translator, a Dutch bank, Apple's store app), a telecom company on Trustpilot and a recipe page,
in English, Dutch, Japanese and German. Their stars measure sentiment (stars <= 2 vs >= 4) and
language routing. The 320 reviews of the translator app and the telecom company also carry our
hand labels (``tests/data/real_review_labels.csv``, keyed by set and review id, no text; see
:func:`labelled_real_reviews`), which measure input types and needs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spiders.pages.apple_app_store import parse_rss_page
from spiders.pages.google_play import parse_reviews
from spiders.pages.schema_org import parse_schema_org_page
from spiders.pages.trustpilot import parse_trustpilot_page

FETCHED = "2026-01-01T00:00:00Z"
# set name -> (folder, file name, language the source states or the page is in)
SETS = {
    "google_play_translate": ("google_play", "mradex77__reviews_batchexecute_UsvDTd_translate_"
                              "newest_{}_2026-07.txt", "en"),
    "trustpilot_bt": ("trustpilot", "bottasai-llmproject__review_bt.com_2023-05.html", "en"),
    "trustpilot_eventnet": ("trustpilot", "hallomax__review_eventnet.de_en-US_2024-06-19_"
                            "bs4-prettified.html", "de"),
    "recipe_jsonld": ("jsonld_reviews", "recipe-scrapers__realmomnutrition.com_easy-lemonade_"
                      "recipe_jsonld_100reviews.html", "en"),
    "app_store_nl": ("appstore_rss", "sanderdekoning-demo__nl_474495017_mostrecent_page1_"
                     "2023-02.json", "nl"),
    "app_store_jp": ("appstore_rss", "kazucocoa__jp_375380948_2015-06_legacy_with_app_entry.json",
                     "ja"),
}


def _rows(name: str, folder: Path) -> list[dict]:
    sub, file, _ = SETS[name]
    if name == "google_play_translate":
        out = []
        for page in ("initial", "page2"):
            path = folder / sub / file.format(page)
            out += parse_reviews(str(path), path.read_bytes(),
                                 "com.google.android.apps.translate").reviews
        return out
    path = folder / sub / file
    body = path.read_bytes()
    if sub == "trustpilot":
        return parse_trustpilot_page(str(path), body, domain=name, product=name, target=name,
                                     fetched_at=FETCHED).reviews
    if sub == "jsonld_reviews":
        return parse_schema_org_page("https://www.realmomnutrition.com/easy-lemonade/", body,
                                     source="schema_org", product=name, target=name,
                                     fetched_at=FETCHED).reviews
    return parse_rss_page(str(path), body).reviews


def real_reviews(raw_fixtures: Path) -> pd.DataFrame:
    """Every review with a text and a star rating in the recordings listed in :data:`SETS`."""
    frames = []
    for name, (_, _, language) in SETS.items():
        rows = _rows(name, raw_fixtures)
        frames.append(pd.DataFrame({
            "set": name,
            "language": language,
            "review_id": [r["review_id"] for r in rows],
            "title": [r.get("title") or None for r in rows],
            "text": [r.get("text") or "" for r in rows],
            "rating": [r.get("rating") for r in rows],
        }))
    df = pd.concat(frames, ignore_index=True)
    df["title"] = df["title"].astype(object).where(df["title"].notna(), None)  # not NaN
    return df[(df["text"].str.strip() != "") & df["rating"].notna()].reset_index(drop=True)


LABELS = Path(__file__).resolve().parent.parent / "data" / "real_review_labels.csv"
"""Our labels, written from each review's title and text alone, before any classifier output for
input types or needs was looked at: ``problem_report`` = the review describes something that does
not work as it should (a crash, an error, a button out of reach, a feature that stopped working
or was removed, a concrete wrong result), a judgement of quality alone ("bad translations",
"useless") is not one; ``feature_request`` = asks or wishes for functionality the product lacks
or lost (a language it does not offer, an option to go back), "please fix" alone is not;
``praise`` = a positive judgement of the product or a part of it ("good", "thank you", 👍);
``needs`` = the default taxonomy's needs the review mentions, each with its polarity (a request
names ``features`` as negative; "good app" names none). One annotator, so borderline cases
(removed features, translation quality) carry noise."""


def labelled_real_reviews(raw_fixtures: Path) -> pd.DataFrame:
    """The reviews :data:`LABELS` covers, with their labels joined on (set, review id), in the
    shape :func:`analysis.classify.evaluate.read_labelled` gives: input-type columns as 0/1,
    ``needs`` as sets of ids, ``need_polarity`` as ``{id: polarity}``."""
    labels = pd.read_csv(LABELS, dtype={"needs": str}, keep_default_na=False)
    df = real_reviews(raw_fixtures).merge(labels, on=["set", "review_id"], how="inner",
                                          validate="one_to_one")
    if len(df) != len(labels):  # a recording that changed would silently shrink the set
        raise ValueError(f"{LABELS}: {len(labels) - len(df)} labelled reviews not found in "
                         f"{raw_fixtures}")
    from analysis.classify.evaluate import needs_cell

    parsed = [needs_cell(cell, LABELS, i + 2) for i, cell in enumerate(df["needs"])]
    return df.assign(needs=[set(p) for p in parsed], need_polarity=parsed)


def input_type_and_needs_figures(frame: pd.DataFrame, clf: Any) -> dict[str, Any]:
    """:func:`analysis.classify.evaluate.evaluate` on :func:`labelled_real_reviews` (which
    classifies them as a crawl would: titles, stated languages), in short: ``n``, ``ok``
    (labelled ``ok``), precision / recall / F1 per input type and of the needs pooled
    (``needs``; per need in ``needs_by_need``), and the mentions found by polarity with their
    aspect sentiment (``mentions``)."""
    from analysis.classify.evaluate import NEEDS_MICRO, evaluate

    got = evaluate(clf, frame, input_name=str(LABELS))
    labels = got["labels"]
    return {"n": got["n"], "ok": got["n_classified"],
            **{col: labels[col] for col in ("problem_report", "feature_request", "praise")},
            "needs": labels[NEEDS_MICRO],
            "needs_by_need": {k.split(":", 1)[1]: v for k, v in labels.items()
                              if k.startswith("need:")},
            "mentions": got["need_mentions"]}


def label(df: pd.DataFrame, clf: Any) -> pd.DataFrame:
    """``df`` (from :func:`real_reviews`) labelled by ``clf``: status, detected language,
    sentiment, score and input-type columns; ``attrs`` carry the model version and seconds."""
    start = time.perf_counter()
    out = clf.classify(df["text"].tolist(), titles=df["title"].tolist(),
                       stated_languages=df["language"].tolist())
    seconds = time.perf_counter() - start
    got = df.assign(
        status=[o.status for o in out],
        detected=[o.language for o in out],
        sentiment=[o.sentiment for o in out],
        score=[o.sentiment_score for o in out],
        problem_report=[o.problem_report for o in out],
        feature_request=[o.feature_request for o in out],
        praise=[o.praise for o in out])
    got.attrs.update(model_version=clf.model_version, seconds=seconds)
    return got


def figures(got: pd.DataFrame) -> pd.DataFrame:
    """Per set: reviews, labelled, skipped (other language), sentiment accuracy on polar stars,
    recall of negative and of positive reviews, and input-type shares per star group."""
    rows = []
    for name, g in got.groupby("set", sort=False):
        ok = g[g["status"] == "ok"]
        polar = ok[ok["rating"] != 3]
        neg, pos = polar[polar["rating"] <= 2], polar[polar["rating"] >= 4]
        right = (polar["score"] > 0) == (polar["rating"] >= 4)
        rows.append({
            "set": name, "reviews": len(g), "labelled": len(ok),
            "skipped_language": int((g["status"] == "skipped_language").sum()),
            "polar": len(polar),
            "sentiment_accuracy": round(float(right.mean()), 3) if len(polar) else np.nan,
            "negative_recall": round(float((neg["score"] <= 0).mean()), 3) if len(neg) else np.nan,
            "positive_recall": round(float((pos["score"] > 0).mean()), 3) if len(pos) else np.nan,
            "problem_report_1-2": _share(neg, "problem_report"),
            "problem_report_4-5": _share(pos, "problem_report"),
            "feature_request_1-2": _share(neg, "feature_request"),
            "praise_4-5": _share(pos, "praise"),
        })
    return pd.DataFrame(rows)


def _share(rows: pd.DataFrame, column: str) -> float:
    return round(float(rows[column].mean()), 3) if len(rows) else np.nan
