"""Discovered themes (id join, product names out of labels), diverse quotes, version columns."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.metrics.quotes import diverse, jaccard, pick_quotes, quote_table, token_set
from analysis.metrics.switching import competitor_mentions
from analysis.metrics.themes import clean_words, display_themes, product_tokens, theme_key
from analysis.metrics.trends import emerging_themes
from analysis.metrics.versions import by_version


def _reviews() -> pd.DataFrame:
    """20 reviews in 2025-01 (earlier) and 10 in 2025-02 (the last month)."""
    months = ["2025-01"] * 20 + ["2025-02"] * 10
    return pd.DataFrame({"uid": [f"u{i:02d}" for i in range(30)], "month": months})


def _themes(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({
        "theme_id": ids, "label": ["voice / memos", "acme / using acme"],
        "words_json": [json.dumps(["voice", "memos", "voice memos"]),
                       json.dumps(["acme", "using acme", "acme notes", "years"])],
        "size": [6, 3]})


@pytest.mark.parametrize("ids", [["theme:1", "theme:2"], ["1", "2"]])
def test_theme_shares_join_mentions_whatever_the_id_spelling(ids: list[str]) -> None:
    # The classify stage writes theme_id "theme:1" in themes and need "theme:1" in mentions;
    # the old join stripped the prefix on one side only and every share came out 0.0%.
    reviews = _reviews()
    mentions = pd.DataFrame({
        "uid": ["u00", "u01", "u20", "u21", "u22", "u23", "u23", "u05", "u06", "u25"],
        "need": ["theme:1"] * 7 + ["theme:2"] * 3})
    out = emerging_themes(reviews, mentions, _themes(ids), min_sample=5, alpha=0.05,
                          names={"acme": ["Acme Notes"]}).set_index("theme_id")
    voice = out.loc["1"]
    # u23 has two sentences in theme 1: one review, counted once.
    assert (voice["k_last"], voice["n_last"], voice["k_prev"], voice["n_prev"]) == (4, 10, 2, 20)
    assert voice["rate_last"] == pytest.approx(4 / 10)
    assert voice["rate_prev"] == pytest.approx(2 / 20)
    assert out.loc["2", "rate_prev"] == pytest.approx(2 / 20)
    assert out.loc["2", "rate_last"] == pytest.approx(1 / 10)


def test_theme_mentions_without_a_themes_row_are_an_error() -> None:
    mentions = pd.DataFrame({"uid": ["u00"], "need": ["theme:9"]})
    with pytest.raises(ValueError, match="without a themes row"):
        emerging_themes(_reviews(), mentions, _themes(["theme:1", "theme:2"]), min_sample=5,
                        alpha=0.05)


def test_a_two_letter_product_name_is_a_name_token_only_when_it_is_the_whole_name() -> None:
    toks = product_tokens({"bt": ["BT"], "notes": ["Notes to go", "X"]})
    assert "bt" in toks  # a telecom called "BT" is not a theme word
    assert "go" not in toks  # the "go" of a longer name is an ordinary word
    assert "x" not in toks  # one letter never
    kept, named = clean_words(["bt broadband", "broadband", "go offline"], toks)
    assert kept == ["broadband", "go offline"]
    assert named == ["bt"]


def test_product_names_leave_theme_words_and_labels() -> None:
    names = {"acme": ["Acme Notes", "Acme"], "quill": ["Quillbyte", "Quill Byte"]}
    toks = product_tokens(names)
    assert {"acme", "notes", "quill", "quillbyte", "byte"} <= set(toks)
    kept, named = clean_words(["quillbyte", "using quillbyte", "sync", "quill byte", "offline"],
                              toks)
    assert kept == ["sync", "offline"]
    assert named == ["quill"]
    themes = pd.DataFrame({
        "theme_id": ["theme:1", "theme:2", "theme:3"],
        "label": ["voice / memos / voice memos", "acme / using acme / acme notes",
                  "acme / dark / mode"],
        "words_json": [json.dumps(["voice", "memos", "voice memos"]),
                       json.dumps(["acme", "using acme", "acme notes", "years"]),
                       json.dumps(["acme", "dark", "mode", "dark mode", "night"])],
        "size": [6, 3, 4]})
    out = display_themes(themes, names, {"acme": "Acme Notes"}).set_index("theme_id")
    # No product word: the stored label stands.
    assert out.loc["1", "label"] == "voice / memos / voice memos"
    assert not out.loc["1", "names_only"]
    # 3 of 4 words name Acme: general talk about the product, and the label says so.
    assert out.loc["2", "names_only"]
    assert out.loc["2", "label"] == "Mentions of Acme Notes (no need named)"
    assert out.loc["2", "words"] == "years"
    # One product word among five: a real theme, relabelled without the name.
    assert not out.loc["3", "names_only"]
    assert out.loc["3", "label"] == "dark / mode / dark mode"
    assert "acme" not in out.loc["3", "words"]
    assert out.loc["3", "named_products"] == "Acme Notes"
    assert theme_key("theme:12") == theme_key("12") == "12"


def test_near_duplicate_quotes_are_skipped() -> None:
    texts = ["The sync keeps failing and my notes are lost again today.",
             "The sync keeps failing and my notes are lost again tonight.",
             "The sync keeps failing and my notes are gone again today.",
             "Support never answered my ticket about the lost notes."]
    a, b = token_set(texts[0]), token_set(texts[1])
    assert jaccard(a, b) == pytest.approx(10 / 12)  # 11 words each, one differs
    assert diverse(texts, 3) == [0, 3]
    assert diverse(texts, 3, max_similarity=1.01) == [0, 1, 2]  # rule off: all kept
    n = len(texts)
    reviews = pd.DataFrame({
        "uid": [f"r{i}" for i in range(n)], "product": "a", "title": None, "text": texts,
        "url": [f"https://x/{i}" for i in range(n)], "source": "s",
        "published_at": pd.to_datetime(["2025-01-01"] * n, utc=True),
        "helpful_count": 0, "rating": 1, "sentiment": "negative",
        "sentiment_score": [-0.9, -0.8, -0.7, -0.2]})
    needs = pd.DataFrame({"uid": reviews["uid"], "product": "a", "need": "sync",
                          "sentence": "", "clause": "", "negative": True,
                          "sentiment_score": reviews["sentiment_score"]})
    picked = pick_quotes(needs, reviews, product="a", need="sync", k=3)
    # The weaker but different complaint replaces the two near-copies of the strongest one.
    assert picked["uid"].tolist() == ["r0", "r3"]
    again = pick_quotes(needs, reviews, product="a", need="sync", k=3)
    assert again.equals(picked)  # deterministic
    table = quote_table(needs, reviews, k=3)
    assert table["uid"].tolist() == ["r0", "r3"]


def test_versions_keep_every_well_sampled_version_unless_capped() -> None:
    versions = [f"1.{v}" for v in range(8) for _ in range(3)]
    reviews = pd.DataFrame({"uid": [str(i) for i in range(len(versions))], "product": "a",
                            "version": versions, "rating": 3})
    needs = pd.DataFrame({"uid": ["0"], "product": "a", "version": "1.0", "need": "sync",
                          "negative": True})
    every = by_version(reviews, needs, min_sample=3, need_ids=["sync"])
    assert every["version"].tolist() == [f"1.{v}" for v in range(8)]
    capped = by_version(reviews, needs, min_sample=3, need_ids=["sync"], last=2)
    assert capped["version"].tolist() == ["1.6", "1.7"]


def test_switching_excerpt_starts_at_a_sentence_and_ends_on_a_word() -> None:
    text = ("The editor is fine and the widgets are cute but the sync is a joke. Please offer a "
            "one-time purchase instead of a subscription. After losing notes twice I switched "
            "to Bolt Notes and never looked back at any of the old notebooks I had in there, "
            "not even the recipes or the travel plans from the last three summers abroad.")
    reviews = pd.DataFrame({"uid": ["1"], "product": "a", "title": None, "text": [text],
                            "sentiment": "negative", "rating": 1, "url": "https://x",
                            "published_at": pd.to_datetime(["2025-01-01"], utc=True)})
    out = competitor_mentions(reviews, {"a": ["Acme"], "b": ["Bolt Notes"]})
    excerpt = out.loc[0, "excerpt"]
    assert out.loc[0, "direction"] == "to"
    assert excerpt.startswith("…After losing notes twice I switched to Bolt Notes")
    assert excerpt.endswith("…")
    assert excerpt[:-1].rstrip().split()[-1] in text.split()  # a whole word before the "…"


def test_quotes_carry_the_clause_that_names_the_need_while_it_is_in_the_quote() -> None:
    sentence = "The interface is lovely, but the app crashes every other day."
    long = "Lovely design and great charts, " + "really " * 60 + "but the sync never works."
    reviews = pd.DataFrame({
        "uid": ["r0", "r1", "r2"], "product": "a", "title": None,
        "text": [sentence, long, "Crashes all the time when I open a note, awful."],
        "url": ["https://x/0", "https://x/1", "https://x/2"], "source": "s",
        "published_at": pd.to_datetime(["2025-01-01"] * 3, utc=True),
        "helpful_count": 0, "rating": 1, "sentiment": "negative",
        "sentiment_score": [-0.9, -0.8, -0.7]})
    needs = pd.DataFrame({"uid": reviews["uid"], "product": "a", "need": "reliability",
                          "sentence": [sentence, long, ""],
                          "clause": ["but the app crashes every other day.",
                                     "but the sync never works.", ""],
                          "negative": True, "sentiment_score": [-0.9, -0.8, -0.7]})
    picked = pick_quotes(needs, reviews, product="a", need="reliability", k=3).set_index("uid")
    assert picked.loc["r0", "clause"] == "but the app crashes every other day."
    assert picked.loc["r0", "clause"] in picked.loc["r0", "quote"]
    # Cut at max_chars, the quote lost its clause: nothing to highlight rather than a dangling one.
    assert not picked.loc["r1", "quote"].endswith("works.")
    assert picked.loc["r1", "clause"] == ""
    assert picked.loc["r2", "clause"] == ""
    table = quote_table(needs, reviews, k=3).set_index("uid")
    assert table.loc["r0", "clause"] == "but the app crashes every other day."
    assert table.loc["r1", "clause"] == ""


def test_quotes_come_first_from_reviews_whose_stars_agree() -> None:
    """A sentence is read in its review's context, so praise in a scathing 3-star review can
    carry the most negative score of a cell; a quote from a 1-2 star review comes first for a
    complaint (4-5 stars for a strength), then 3 stars or no rating, then the other end; the
    score orders quotes within each group."""
    texts = ["I love that sync is instant, everything is on my laptop in seconds.",
             "Sync takes a minute or more before my notes show up on the laptop.",
             "Syncing is slow on the train and the notes arrive late on my laptop.",
             "Sync is slow, but everything else about the app is wonderful to use."]
    ratings = [3, 1, None, 5]
    scores = [-0.97, -0.5, -0.6, -0.9]
    n = len(texts)
    reviews = pd.DataFrame({
        "uid": [f"r{i}" for i in range(n)], "product": "a", "title": None, "text": texts,
        "url": [f"https://x/{i}" for i in range(n)], "source": "s",
        "published_at": pd.to_datetime(["2025-01-01"] * n, utc=True),
        "helpful_count": 0, "rating": ratings, "sentiment": "negative",
        "sentiment_score": scores})
    needs = pd.DataFrame({"uid": reviews["uid"], "product": "a", "need": "performance",
                          "sentence": "", "clause": "", "negative": True,
                          "sentiment_score": scores})
    order = ["r1", "r0", "r2", "r3"]  # 1 star; then 3 stars / none by score; then 5 stars
    assert pick_quotes(needs, reviews, product="a", need="performance", k=4)["uid"].tolist() \
        == order
    assert quote_table(needs, reviews, k=4)["uid"].tolist() == order
    # Strengths: 4-5 stars first.
    praise = needs.assign(negative=False, sentiment_score=[0.9, 0.95, 0.2, 0.5])
    picked = pick_quotes(praise, reviews, product="a", need="performance", k=4, negative=False)
    assert picked["uid"].tolist() == ["r3", "r0", "r2", "r1"]
