"""Product name tokens: the one rule for "this word names a tracked product".

Stage: shared (a leaf module: imports nothing from ``analysis``), used by theme discovery
(``analysis/classify/themes.py``, names are stop words when a theme's words are chosen) and by
the report (``analysis/metrics/themes.py``, which takes names out of themes stored by older
versions).

A *product token* is a token, of at least ``MIN_TOKEN_CHARS`` characters, of a product's key,
name or alias; tokens are the lower-cased runs of letters and digits, so "Margin Notes" gives
``margin`` and ``notes`` and "Quill-Byte" gives ``quill`` and ``byte``. A word or phrase names a
product when any of its tokens is a product token.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping

MIN_TOKEN_CHARS = 3
"""Shorter name tokens ("X", "go") are too likely to be ordinary words to drop them."""

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

    >>> product_tokens({"quill": ["Quill-Byte", "QB"]})
    {'quill': 'quill', 'byte': 'quill'}
    """
    out: dict[str, str] = {}
    for key, terms in names.items():
        for term in [key, *terms]:
            for tok in tokens(term):
                if len(tok) >= MIN_TOKEN_CHARS:
                    out.setdefault(tok, key)
    return out


def names_product(word: str, name_tokens: Container[str]) -> bool:
    """Whether a word or phrase contains a product token.

    >>> names_product("using quillbyte", {"quillbyte"}), names_product("dark mode", {"quill"})
    (True, False)
    """
    return any(t in name_tokens for t in tokens(word))
