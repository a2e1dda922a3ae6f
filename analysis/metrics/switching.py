"""Switching signals: reviews that name another tracked product, and who leaves for whom.

Stage: analyse. In: ``review_table`` (:mod:`.frames`, title + text) and the tracked products'
names and aliases from the config. Out:

``competitor_mentions`` (one row per review x other product it names)
    uid, product, other, direction ("to" | "from" | "mention"), sentiment, rating, url,
    published_at, excerpt
``flows`` (who leaves for whom)
    from_product, to_product, n

Rules (case-insensitive, whole words; a product's names are its ``name``, its ``key`` and its
``aliases``):

* ``to``: the reviewer leaves *this* product for the other one: "switch(ing/ed) to X",
  "moving/going/went (back) to X", "X is/works (much) better", "I prefer X", "replaced it with
  X";
* ``from``: the reviewer came to this product from the other one: "switched/moved/came from X",
  "used to use X", "left/ditched/dropped X", "better than X";
* ``mention``: the other product is named without a direction.

``flows`` counts ``to`` as this -> other and ``from`` as other -> this.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from analysis.metrics.frames import title_and_text

_TO = (
    r"(?:switch(?:ed|ing)?|mov(?:e|ed|ing)|go(?:ing)?|went|head(?:ing|ed)?|migrat\w*|"
    r"return(?:ed|ing)?|stick(?:ing)?|jump(?:ed|ing)?)\s+(?:back\s+|over\s+)*to\s+(?:the\s+)?{X}",
    r"{X}\s+(?:app\s+)?(?:is|was|works|worked|does)\s+(?:much\s+|way\s+|so\s+much\s+|far\s+|a\s+lot\s+)?better",
    r"(?:i\s+)?prefer\s+(?:the\s+)?{X}",
    r"replac(?:e|ed|ing)\s+(?:it|this(?:\s+app)?)\s+with\s+(?:the\s+)?{X}",
    r"(?:use|using|try|trying)\s+(?:the\s+)?{X}\s+instead",
)
_FROM = (
    r"(?:switch(?:ed|ing)?|mov(?:e|ed|ing)|came|coming|migrat\w*|convert(?:ed)?|upgrad\w*)"
    r"\s+(?:over\s+)?from\s+(?:the\s+)?{X}",
    r"used\s+to\s+use\s+(?:the\s+)?{X}",
    r"(?:left|ditched|dropped|quit|abandoned)\s+(?:the\s+)?{X}",
    r"better\s+than\s+(?:the\s+)?{X}",
)


def name_pattern(names: Sequence[str]) -> str:
    """A whole-word alternation of ``names``; longest first so "Acme Pro" beats "Acme"."""
    alts = sorted({n.strip() for n in names if n and n.strip()}, key=lambda s: (-len(s), s))
    body = "|".join(r"\s+".join(map(re.escape, n.split())) for n in alts)
    return rf"(?<![\w])(?:{body})(?![\w])"


def compile_rules(names: Mapping[str, Sequence[str]]) -> dict[str, dict[str, re.Pattern[str]]]:
    """Per product: compiled ``any``, ``to`` and ``from`` patterns."""
    rules: dict[str, dict[str, re.Pattern[str]]] = {}
    for key, aliases in names.items():
        x = name_pattern([key, *aliases])
        rules[key] = {
            "any": re.compile(x, re.IGNORECASE),
            "to": re.compile("|".join(p.format(X=x) for p in _TO), re.IGNORECASE),
            "from": re.compile("|".join(p.format(X=x) for p in _FROM), re.IGNORECASE),
        }
    return rules


def _excerpt(text: str, match: re.Match[str], width: int = 90) -> str:
    """About ``width`` characters either side of ``match``, cut on whole words.

    Starts at the beginning of the match's sentence when that lies inside the window (a quote
    reads better from a sentence start than from "…n. Please"), else at the first word start
    in it; ends at the last word end in the window.

    >>> import re
    >>> t = "Loved it at first. Then sync broke. I switched to Bolt Notes last week, much calmer."
    >>> _excerpt(t, re.search("Bolt", t), width=20)
    '…I switched to Bolt Notes last week,…'
    """
    start, end = max(0, match.start() - width), min(len(text), match.end() + width)
    if start:
        sentence = max(text.rfind(". ", start, match.start()), text.rfind("! ", start,
                       match.start()), text.rfind("? ", start, match.start()))
        space = text.find(" ", start, match.start())
        start = sentence + 2 if sentence >= 0 else (space + 1 if space >= 0 else start)
    if end < len(text):
        space = text.rfind(" ", match.end(), end)
        end = space if space >= 0 else end
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def competitor_mentions(
    reviews: pd.DataFrame, names: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Reviews naming another tracked product, with a direction; see the module docstring.

    Args:
        reviews: ``review_table``.
        names: product key -> its display name and aliases (the key itself is added).
    """
    rules = compile_rules(names)
    rows: list[dict[str, object]] = []
    texts = title_and_text(reviews)
    # A cheap prefilter on all names at once keeps 50k reviews fast: most name nobody.
    anyone = re.compile("|".join(f"(?:{r['any'].pattern})" for r in rules.values()),
                        re.IGNORECASE)
    hit = texts.str.contains(anyone, regex=True)
    for idx in reviews.index[hit.to_numpy()]:
        row, text = reviews.loc[idx], texts.loc[idx]
        for other, rule in rules.items():
            if other == row["product"]:
                continue
            found = rule["any"].search(text)
            if not found:
                continue
            to, frm = rule["to"].search(text), rule["from"].search(text)
            direction = "to" if to and not frm else "from" if frm and not to else "mention"
            rows.append({"uid": row["uid"], "product": row["product"], "other": other,
                         "direction": direction, "sentiment": row["sentiment"],
                         "rating": row["rating"], "url": row["url"],
                         "published_at": row["published_at"],
                         "excerpt": _excerpt(text, to or frm or found)})
    cols = ["uid", "product", "other", "direction", "sentiment", "rating", "url",
            "published_at", "excerpt"]
    return pd.DataFrame(rows, columns=cols).sort_values(["product", "other", "uid"],
                                                        ignore_index=True)


def flows(mentions: pd.DataFrame) -> pd.DataFrame:
    """Who leaves for whom: ``to`` rows count product -> other, ``from`` rows other -> product."""
    to = mentions.loc[mentions["direction"] == "to"]
    frm = mentions.loc[mentions["direction"] == "from"]
    edges = pd.concat([
        pd.DataFrame({"from_product": to["product"], "to_product": to["other"]}),
        pd.DataFrame({"from_product": frm["other"], "to_product": frm["product"]}),
    ], ignore_index=True)
    return (edges.groupby(["from_product", "to_product"]).size().rename("n").reset_index()
            .sort_values(["n", "from_product", "to_product"], ascending=[False, True, True],
                         ignore_index=True))
