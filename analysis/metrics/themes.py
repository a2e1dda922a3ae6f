"""Discovered themes as the report shows them: ids normalised, product names taken out.

Stage: analyse. In: the store's ``themes`` frame (``theme_id``, ``label``, ``words_json``,
``size``) and the tracked products' names, keys and aliases. Out: :func:`display_themes`, one
row per theme::

    theme_id, label, words, size, named_products, names_only

Why: the clustering (``analysis/classify/themes.py``) ranks a theme's words by how typical they
are of the cluster, and reviews that talk about a product in general ("been using Jotterly for
years") cluster around the product's name. Such a theme is not a need; shown as "jotterly /
using jotterly" it would read like one. The report therefore:

* drops every top word (a word or phrase) that contains a *product token*: a token, of at least
  ``MIN_TOKEN_CHARS`` characters, of a tracked product's key, name or alias (tokens are the
  lower-cased runs of letters and digits, so "Margin Notes" gives ``margin`` and ``notes``;
  the rule lives in ``analysis/product_names.py``, shared with theme discovery);
* rebuilds the label from the first ``LABEL_WORDS`` remaining words when any word was dropped
  (the stored label otherwise, which the clustering built the same way);
* marks a theme ``names_only`` when product-naming words make up at least ``NAMES_ONLY_SHARE``
  of its top words: ``named / len(words) >= NAMES_ONLY_SHARE``. What is left of such a theme is
  filler ("using", "years"), so its label says which products it names instead of a need.

Theme discovery now treats the product names it knows (the store's product keys and store
listing names, or the names its caller passes) as stop words, so themes it writes carry no such
word. This filter stays as the safety net for themes stored by older versions and for names
discovery did not know (config aliases and names when the caller passed none).

Theme ids: the classify stage writes ``theme_id = "theme:<n>"`` in ``themes`` and ``need =
"theme:<n>"`` in ``mentions``; older stores and hand-made tables may hold the bare ``"<n>"``.
:func:`theme_key` maps both spellings to ``"<n>"`` so the two tables always join.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import pandas as pd

from analysis.product_names import MIN_TOKEN_CHARS, product_tokens, tokens

__all__ = ["LABEL_WORDS", "MIN_TOKEN_CHARS", "NAMES_ONLY_SHARE", "SHOWN_WORDS", "THEME_PREFIX",
           "clean_words", "display_themes", "product_tokens", "theme_key", "tokens"]

THEME_PREFIX = "theme:"
NAMES_ONLY_SHARE = 0.5
LABEL_WORDS = 3
SHOWN_WORDS = 6


def theme_key(value: object) -> str:
    """``"theme:7"`` or ``"7"`` (or 7) -> ``"7"``: one spelling for joins.

    >>> theme_key("theme:7"), theme_key("7"), theme_key(7)
    ('7', '7', '7')
    """
    return str(value).strip().removeprefix(THEME_PREFIX)


def clean_words(words: list[str], name_tokens: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Split a theme's top words into (kept, products named by the dropped ones).

    >>> clean_words(["jotterly", "using jotterly", "day work"], {"jotterly": "jot"})
    (['day work'], ['jot'])
    """
    kept, named = [], []
    for word in words:
        hits = [name_tokens[t] for t in tokens(word) if t in name_tokens]
        if hits:
            named.extend(h for h in hits if h not in named)
        else:
            kept.append(word)
    return kept, named


def display_themes(themes: pd.DataFrame, names: Mapping[str, Iterable[str]],
                   display: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The themes with product names taken out of words and labels (module docstring).

    Args:
        themes: the store's themes frame (``theme_id``, ``label``, ``words_json``, ``size``).
        names: product key -> its name and aliases (the key itself is added).
        display: product key -> display name for ``named_products`` (default: the key).
    """
    cols = ["theme_id", "label", "words", "size", "named_products", "names_only"]
    if themes.empty:
        return pd.DataFrame(columns=cols)
    name_tokens = product_tokens(names)
    show = dict(display or {})
    rows = []
    for r in themes.itertuples(index=False):
        words = [str(w) for w in json.loads(r.words_json or "[]")]
        kept, named = clean_words(words, name_tokens)
        n_named = len(words) - len(kept)
        names_only = bool(words) and n_named / len(words) >= NAMES_ONLY_SHARE
        named_names = [show.get(k, k) for k in named]
        if names_only:
            label = f"Mentions of {' and '.join(named_names)} (no need named)"
        elif n_named:
            label = " / ".join(kept[:LABEL_WORDS])
        else:
            label = str(r.label)
        rows.append({"theme_id": theme_key(r.theme_id), "label": label,
                     "words": ", ".join(kept[:SHOWN_WORDS]), "size": int(r.size),
                     "named_products": ", ".join(named_names), "names_only": names_only})
    return pd.DataFrame(rows, columns=cols)
