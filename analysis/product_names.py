"""Product name tokens: the one rule for "this word names a tracked product".

Stage: shared (a leaf module: imports nothing from ``analysis``), used by theme discovery
(``analysis/classify/themes.py``, names are stop words when a theme's words are chosen) and by
the report (``analysis/metrics/themes.py``, which takes names out of themes stored by older
versions).

A *product token* is a token, of at least ``MIN_TOKEN_CHARS`` characters, of a product's key,
name or alias, or a key, name or alias that is one token of two characters ("BT", "EE", "O2");
tokens are the lower-cased runs of letters and digits, so "Margin Notes" gives ``margin`` and
``notes`` and "Quill-Byte" gives ``quill`` and ``byte``. A word or phrase names a product when
any of its tokens is a product token.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping

MIN_TOKEN_CHARS = 3
"""Shorter name tokens ("X", "go") are too likely to be ordinary words to drop them, unless the
whole name is that one two-character token ("BT")."""

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lower-cased runs of letters and digits.

    >>> tokens("Quill-Byte 2, notes")
    ['quill', 'byte', '2', 'notes']
    """
    return _TOKEN.findall(str(text).lower())


def product_tokens(names: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Name token -> product key, from each product's key, name and aliases.

    A token shared by several products (e.g. "notes") maps to the first product in ``names``.

    A short token counts only when it is a whole name: "QB" as an alias does, the "go" of
    "Notes to go" does not (a telecom called "BT" must not become a theme's word).

    >>> product_tokens({"quill": ["Quill-Byte", "QB", "Notes to go"]})
    {'quill': 'quill', 'byte': 'quill', 'qb': 'quill', 'notes': 'quill'}
    """
    out: dict[str, str] = {}
    for key, terms in names.items():
        for term in [key, *terms]:
            toks = tokens(term)
            for tok in toks:
                if len(tok) >= MIN_TOKEN_CHARS or (len(toks) == 1 and len(tok) == 2):
                    out.setdefault(tok, key)
    return out


def names_product(word: str, name_tokens: Container[str]) -> bool:
    """Whether a word or phrase contains a product token.

    >>> names_product("using quillbyte", {"quillbyte"}), names_product("dark mode", {"quill"})
    (True, False)
    """
    return any(t in name_tokens for t in tokens(word))


PLACEHOLDER = "the app"


def name_pattern(names: Mapping[str, Iterable[str]]) -> re.Pattern[str] | None:
    """A pattern for the products' names as written in text: each key, name and alias whole,
    and each multi-word name's first word (the brand: "Garmin" of "Garmin Connect").

    Narrower than :func:`product_tokens` on purpose: the later words of a name are often
    ordinary words ("connect", "health", "notes") that must survive in a sentence.
    None when there is no name of at least ``MIN_TOKEN_CHARS`` characters.
    """
    phrases: set[str] = set()
    for key, terms in names.items():
        for term in [key, *terms]:
            words = str(term).lower().split()
            phrase = " ".join(words)
            if len(phrase) >= MIN_TOKEN_CHARS:
                phrases.add(phrase)
            if len(words) > 1 and len(words[0]) >= MIN_TOKEN_CHARS:
                phrases.add(words[0])
    if not phrases:
        return None
    alternatives = "|".join(re.escape(p).replace(r"\ ", r"\s+")
                            for p in sorted(phrases, key=len, reverse=True))
    # Whole words only (a hyphen joins words: "Quill-based" is not "Quill"); a possessive
    # ("Garmin's") belongs to the name.
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?:['’]s)?(?![\w-])", re.IGNORECASE)


def mask_products(text: str, pattern: re.Pattern[str] | None,
                  placeholder: str = PLACEHOLDER) -> str:
    """``text`` with the products' names (:func:`name_pattern`) replaced by ``placeholder``,
    names separated only by spaces ("Jotterly JotPro") by one; everything else is kept.

    Theme discovery clusters sentence vectors; with brand names in them, "Quill-Byte keeps
    crashing" and "Quill-Byte is pricey" sit closer together than two crash reports about
    different products, so clusters would follow products instead of needs.

    >>> p = name_pattern({"quill": ["Quill-Byte Notes"], "margin": []})
    >>> mask_products("Quill-Byte Notes crashes, unlike Margin and quill-byte.", p)
    'the app crashes, unlike the app and the app.'
    >>> mask_products("my notes do not sync", p)
    'my notes do not sync'
    """
    if pattern is None or not text:
        return text
    masked = pattern.sub(placeholder, text)
    run = re.escape(placeholder)
    return re.sub(rf"{run}(?:\s+{run})+", placeholder, masked)
