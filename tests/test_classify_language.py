"""Language detection's plain-English check (analysis.classify.language.plain_english).

The check lets plain English skip lingua; it must never name English a text lingua would name
another language. Hand-made cases pin the words other languages share with English; real and
written reviews in eleven languages (../shared and tests/data) hold it against lingua itself.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.classify import language
from analysis.classify.language import detect_languages, plain_english

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("text", [
    "The app doesn't sync with my watch any more.",
    "It crashes every time I open it, please fix this",
    "Love it, but the widget won’t update on its own.",
    "Great app 👍 but they should add a dark mode",
])
def test_plain_english_is_taken(text: str) -> None:
    assert plain_english(text)


@pytest.mark.parametrize("text", [
    # Dutch: "is", "we", "had", "of" are Dutch words too; they count only towards the share.
    "Het is een goede app of niet, we had geen problemen",
    # German: "so", "was", "will" are German words too.
    "Die App ist so gut, was will man mehr",
    # An English quote inside a Dutch review: too few English words overall.
    "Krijg al maanden de melding dat the widget doesn't work for your account, heel vervelend"
    " en niemand bij de klantenservice weet waarom",
    # A letter outside ASCII: lingua decides.
    "The app is très bien and it works",
    # Too short to say.
    "the app",
    # Spanish typed without accents.
    "La app no funciona bien desde la ultima actualizacion",
])
def test_other_languages_and_short_texts_go_to_lingua(text: str) -> None:
    assert not plain_english(text)


def _lingua_alone(texts: list[str], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    with monkeypatch.context() as m:
        m.setattr(language, "plain_english", lambda text: False)
        return detect_languages(texts)


def test_plain_english_never_overrules_lingua_on_real_and_written_reviews(
        shared_dir: Path, raw_fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On 2,000 minibar-en reviews, the fixtures' 444 real reviews (English, Dutch, German,
    Japanese) and the written sets (ten languages), every text the check takes is one lingua
    names English or cannot name (``und``); and it takes most English reviews (else it would
    save nothing)."""
    from analysis.classify.fit_defaults import load_training_frame
    from tests.support.real_reviews import real_reviews

    texts = load_training_frame(shared_dir / "data" / "minibar-en")["text"].tolist()[:2000]
    texts += real_reviews(raw_fixtures)["text"].tolist()
    for path in sorted(DATA.glob("written_*.csv")):
        texts += pd.read_csv(path)["text"].dropna().astype(str).tolist()
    alone = _lingua_alone(texts, monkeypatch)
    taken = [i for i, text in enumerate(texts) if plain_english(text)]
    overruled = {(alone[i], texts[i]) for i in taken if alone[i] not in ("en", "und")}
    assert not overruled
    assert len(taken) >= 0.6 * alone.count("en")
    # Where lingua can name none, the check's English is at most one verdict in fifty.
    assert sum(alone[i] == "und" for i in taken) <= 0.02 * len(taken)
    assert detect_languages([texts[i] for i in taken]) == ["en"] * len(taken)
