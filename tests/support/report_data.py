"""Synthetic labelled review stores for the metrics and report tests (and bench/).

Stage: test support. In: a seed and sizes. Out: a :class:`ReviewStore` filled with generated
reviews, classifications, mentions, themes, app_meta and a run; and a matching config.

Every text here is generated from templates written for this project (no third-party review
text). Planted facts the tests check:

* ``acme`` (ours) fails ``sync_data`` far more often than every rival (a gap vs market and best);
* every product fails ``pricing`` (white space: mostly negative, costs stars everywhere);
* ``support`` gets worse for ``acme`` in the last month only (a trend);
* theme ``1`` ("dark mode") appears mostly in the last months (emerging);
* some reviews say they moved from one product to another (switching signals).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import ProjectConfig, load_config
from analysis.store import ReviewStore

MODEL_VERSION = "synthetic-v1"

PRODUCTS: dict[str, tuple[str, list[str]]] = {
    "acme": ("Acme Notes", ["acme"]),
    "bolt": ("Bolt Notes", ["boltnotes"]),
    "cobalt": ("Cobalt Pad", []),
    "delta": ("Delta Write", []),
    "echo": ("Echo Memo", []),
    "flux": ("Flux Jot", []),
}

NEEDS = ("reliability", "performance", "pricing", "sync_data", "support", "mobile_deposit")

# Probability a review mentions the need, and that a mention is negative, per product.
MENTION = {"reliability": 0.20, "performance": 0.15, "pricing": 0.18, "sync_data": 0.16,
           "support": 0.10, "mobile_deposit": 0.05}
NEGATIVE = {"reliability": 0.35, "performance": 0.40, "pricing": 0.75, "sync_data": 0.25,
            "support": 0.35, "mobile_deposit": 0.40}
PLANTED = {("acme", "sync_data"): 0.85, ("bolt", "reliability"): 0.70}
COST = {"reliability": 1.2, "performance": 0.8, "pricing": 1.0, "sync_data": 1.3,
        "support": 0.9, "mobile_deposit": 0.7}

SENTENCES = {
    ("reliability", True): ["The app crashes every time I open a long note.",
                            "It froze twice today and I lost my work."],
    ("reliability", False): ["It has been rock solid for months.",
                             "Never crashed once, very dependable."],
    ("performance", True): ["Search is painfully slow on large notebooks.",
                            "Everything lags when I scroll."],
    ("performance", False): ["Opens instantly and search is fast.", "Snappy and light."],
    ("pricing", True): ["The subscription is far too expensive for what it does.",
                        "They doubled the price without warning."],
    ("pricing", False): ["Fair price for what you get.", "The free tier is generous."],
    ("sync_data", True): ["Sync between my phone and laptop keeps failing.",
                     "Notes written offline never sync back."],
    ("sync_data", False): ["Sync across devices just works.",
                           "My notes appear everywhere at once."],
    ("support", True): ["Support never answered my ticket.", "Waited two weeks for a reply."],
    ("support", False): ["Support fixed my issue the same day.", "Helpful and quick support."],
    ("mobile_deposit", True): ["Scanning a cheque to deposit fails every time.",
                               "Mobile deposit rejects every photo."],
    ("mobile_deposit", False): ["Mobile deposit works in seconds.", "Cheque scan is easy."],
}


def write_config(folder: Path, *, ours: str | None = "acme", products: list[str] | None = None,
                 min_sample: int = 30, templates: str | None = None,
                 extra: str = "") -> ProjectConfig:
    """Write ``reviewgap.toml`` into ``folder`` and load it (workspace = ``folder/ws``)."""
    keys = products or list(PRODUCTS)
    lines = ['[project]', 'name = "Synthetic notes market"', 'workspace = "ws"']
    if templates:
        lines.append(f'templates = "{templates}"')
    lines += ["", "[report]", f"min_sample = {min_sample}", extra, "",
              "[[needs.custom]]", 'id = "mobile_deposit"', 'label = "Mobile check deposit"',
              'description = "Depositing a cheque by photographing it in the app."',
              'examples = ["Scanning a cheque to deposit fails."]', ""]
    for key in keys:
        name, aliases = PRODUCTS.get(key, (key.replace("_", " ").title(), []))
        lines += ["[[products]]", f'key = "{key}"', f'name = "{name}"',
                  f"aliases = {json.dumps(aliases)}"]
        if key == ours:
            lines.append("ours = true")
        lines.append("")
    path = folder / "reviewgap.toml"
    path.write_text("\n".join(lines), "utf-8")
    return load_config(path)


def generate(n: int = 3000, *, products: list[str] | None = None, seed: int = 7,
             months: int = 12, end: str = "2025-06-28") -> dict[str, list[dict[str, object]]]:
    """Generate reviews, classification rows, mention rows and themes (see module docstring)."""
    rng = np.random.default_rng(seed)
    keys = products or list(PRODUCTS)
    end_ts = pd.Timestamp(end, tz="UTC")
    reviews, labels, mentions = [], [], []
    for i in range(n):
        product = keys[i % len(keys)]
        age_days = int(rng.integers(0, months * 30))
        published = end_ts - pd.Timedelta(days=age_days, hours=int(rng.integers(0, 24)))
        last_month = published.month == end_ts.month and published.year == end_ts.year
        sentences: list[tuple[str, str, bool]] = []
        for need in NEEDS:
            boost = need == "support" and product == "acme" and last_month
            if rng.random() < (0.6 if boost else MENTION[need]):
                p_neg = PLANTED.get((product, need), NEGATIVE[need])
                if need == "support" and product == "acme" and last_month:
                    p_neg = 0.95
                neg = bool(rng.random() < p_neg)
                pick = SENTENCES[(need, neg)][int(rng.integers(0, 2))]
                sentences.append((need, pick, neg))
        rating = 4.4 + rng.normal(0, 0.6) - sum(COST[s[0]] for s in sentences if s[2])
        rating = int(np.clip(round(rating), 1, 5))
        theme = None
        if rng.random() < (0.25 if age_days < 45 else 0.01):
            theme = ("1", "Please add a dark mode.")
        elif rng.random() < 0.05:
            theme = ("0", "Handwriting recognition would be nice.")
        other = keys[(keys.index(product) + 1) % len(keys)]
        if rng.random() < 0.02:
            name = PRODUCTS.get(other, (other, []))[0]
            switch = (f"I am switching to {name} next month." if rng.random() < 0.5
                      else f"I moved from {name} last year.")
        else:
            switch = ""
        parts = [s[1] for s in sentences] + ([theme[1]] if theme else []) + ([switch] if switch
                                                                          else [])
        text = " ".join(parts) or ("Does what I need." if rating >= 4 else "Not great.")
        uid_n = f"r{i:06d}"
        source = "google_play" if i % 3 else "apple_app_store"
        reviews.append({
            "source": source, "review_id": uid_n, "product": product,
            "target": f"{source}:{product}:us", "rating": rating,
            "title": None, "text": text,
            "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "version": f"4.{age_days // 60}.0" if source == "google_play" else None,
            "country": "us" if i % 5 else "gb", "language": "en",
            "url": f"https://example.com/{product}/reviews/{uid_n}",
            "helpful_count": int(rng.integers(0, 5)),
            "fetched_at": end_ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        })
        uid = f"{source}:{uid_n}"
        sentiment = "negative" if rating <= 2 else "neutral" if rating == 3 else "positive"
        status = "skipped_language" if i % 97 == 0 else "ok"
        labels.append({
            "uid": uid, "model_version": MODEL_VERSION, "language": "en", "status": status,
            "sentiment": sentiment if status == "ok" else None,
            "sentiment_score": (rating - 3) / 2 if status == "ok" else None,
            "problem_report": int(any(s[2] for s in sentences)),
            "feature_request": int(theme is not None), "praise": int(rating >= 4),
            "question": int(rng.random() < 0.03), "other": int(not sentences and not theme),
            "input_type": "problem_report" if any(s[2] for s in sentences) else "praise",
            "needs_json": {s[0]: 0.9 for s in sentences},
            "classified_at": "2025-06-29T00:00:00Z",
        })
        for j, (need, sentence, neg) in enumerate(sentences):
            mentions.append({"uid": uid, "model_version": MODEL_VERSION, "sentence_index": j,
                             "need": need, "sentence": sentence, "score": 0.9,
                             "sentiment": "negative" if neg else "positive",
                             "sentiment_score": -0.8 if neg else 0.7,
                             "input_type": "problem_report" if neg else "praise"})
        if theme:
            mentions.append({"uid": uid, "model_version": MODEL_VERSION,
                             "sentence_index": len(sentences), "need": f"theme:{theme[0]}",
                             "sentence": theme[1], "score": 0.8, "sentiment": "neutral",
                             "sentiment_score": 0.0, "input_type": "feature_request"})
    themes = [
        {"theme_id": "theme:0", "label": "handwriting recognition",
         "words": ["handwriting", "recognition", "pen"], "examples": ["r000001"], "size": 0},
        {"theme_id": "theme:1", "label": "dark mode", "words": ["dark", "mode", "night"],
         "examples": ["r000002"], "size": 0},
    ]
    for t in themes:
        t["size"] = sum(1 for m in mentions if m["need"] == t["theme_id"])
    return {"reviews": reviews, "labels": labels, "mentions": mentions, "themes": themes}


def fill_store(store: ReviewStore, data: dict[str, list[dict[str, object]]]) -> ReviewStore:
    """Write generated data into ``store`` (reviews, labels, mentions, themes, meta, run)."""
    store.start_run("run-1", "crawl")
    store.upsert_reviews(data["reviews"], run_id="run-1")
    store.write_classifications(data["labels"], data["mentions"])
    store.write_themes(MODEL_VERSION, data["themes"])
    frame = pd.DataFrame(data["reviews"])
    for product, group in frame.groupby("product"):
        store.add_app_meta({"target": f"google_play:{product}:us", "source": "google_play",
                            "product": product, "name": PRODUCTS.get(product, (product,))[0],
                            "average_rating": round(float(group["rating"].mean()) + 0.3, 2),
                            "rating_count": len(group) * 40, "review_count": len(group) * 3,
                            "url": f"https://example.com/{product}",
                            "fetched_at": "2025-06-28T12:00:00Z"}, run_id="run-1")
    store.finish_run("run-1", status="ok", stats={"reviews": len(frame)})
    return store


def make_store(path: Path | str = ":memory:", **kwargs: object) -> ReviewStore:
    """A store filled by :func:`generate` (kwargs go to it)."""
    return fill_store(ReviewStore(path), generate(**kwargs))  # type: ignore[arg-type]
