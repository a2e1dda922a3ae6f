"""Sentence splitting and language detection on informal review text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.classify.language import detect_languages
from analysis.classify.sentences import (
    CLAUSE_LANGUAGES,
    MAX_WORDS,
    split_clauses,
    split_sentences,
)


def test_split_on_punctuation_emoji_and_newlines() -> None:
    assert split_sentences("Love it 😍 but it crashes. Fix pls!!! thx") == [
        "Love it 😍", "but it crashes.", "Fix pls!!!", "thx"]
    assert split_sentences("line one\nline two") == ["line one", "line two"]
    assert split_sentences("It works, e.g. sync is fast. Vs. others it wins") == [
        "It works, e.g. sync is fast.", "Vs. others it wins"]
    assert split_sentences("Version 2.5 is out") == ["Version 2.5 is out"]


def test_chinese_and_japanese_sentences_end_without_a_space() -> None:
    """。！？ end a sentence with no space after them; a run of them is one end, and one inside a
    quote (before 」) ends nothing. Latin punctuation still needs the space."""
    assert split_sentences("起動しません。毎回落ちます！！直してください") == [
        "起動しません。", "毎回落ちます！！", "直してください"]
    assert split_sentences("「最高！」と思った。でも今は遅い？") == [
        "「最高！」と思った。", "でも今は遅い？"]
    assert split_sentences("同步太慢。客服很好") == ["同步太慢。", "客服很好"]
    assert split_sentences("改善してほしい。 ありがとう") == ["改善してほしい。", "ありがとう"]
    assert split_sentences("v2.0.1 crashes") == ["v2.0.1 crashes"]


def test_title_is_first_sentence_and_fragments_are_glued() -> None:
    assert split_sentences("Works well. 👍👍", title="Nice") == ["Nice", "Works well. 👍👍"]
    assert split_sentences("") == []
    assert split_sentences("   ") == []
    assert split_sentences("😍") == ["😍"]


def test_long_run_on_is_cut() -> None:
    text = ", ".join(["the sync is slow and the app is heavy"] * 20)
    parts = split_sentences(text)
    assert len(parts) > 1
    assert all(len(p.split()) <= MAX_WORDS for p in parts)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_split_never_loses_words(text: str) -> None:
    parts = split_sentences(text)
    assert all(p.strip() for p in parts)
    assert "".join(text.split()) == "".join("".join(parts).split()) or (
        # glued fragments get a space; no word may vanish
        sorted("".join(text.split())) == sorted("".join("".join(parts).split())))


def test_clauses_cut_where_a_sentence_turns() -> None:
    assert split_clauses("Nice design, but it crashes sometimes.") == [
        "Nice design,", "but it crashes sometimes."]
    assert split_clauses("Fast and cheap; support never answers") == [
        "Fast and cheap;", "support never answers"]
    assert split_clauses("I like it, however the sync fails. ") == [
        "I like it,", "however the sync fails."]
    assert split_clauses("Works great except for the sync, though it is free") == [
        "Works great", "except for the sync,", "though it is free"]
    # Too little on one side: not a turn.
    for whole in ("Great app though", "It's nothing but bugs.", "Even though it's free, meh",
                  "Support sent nothing but canned replies.", "It is all but useless now.",
                  "But why?", "Butterfly mode is great but", "The button is broken"):
        assert split_clauses(whole) == [whole], whole


def test_clauses_cut_at_the_contrast_words_of_the_reviews_language() -> None:
    assert split_clauses("Très jolie, mais elle plante souvent.", "fr") == [
        "Très jolie,", "mais elle plante souvent."]
    assert split_clauses("L'abonnement vaut le coup, même si l'assistance est lente.", "fr") == [
        "L'abonnement vaut le coup,", "même si l'assistance est lente."]
    assert split_clauses("Rapide et fluide, par contre la synchro échoue", "fr") == [
        "Rapide et fluide,", "par contre la synchro échoue"]
    assert split_clauses("Tout marche bien, sauf les sauvegardes automatiques.", "fr") == [
        "Tout marche bien,", "sauf les sauvegardes automatiques."]
    # "même" alone ("the same") and words merely containing "mais" do not cut.
    for whole in ("Toujours la même erreur au démarrage.", "Désormais elle marche bien."):
        assert split_clauses(whole, "fr") == [whole], whole
    # The English words do not cut French text, nor the French words English text.
    assert split_clauses("Le design est but, elle plante", "fr") == [
        "Le design est but, elle plante"]
    assert split_clauses("Nice app, mais it crashes", "en") == ["Nice app, mais it crashes"]
    # Undetermined or unknown language: English words (short text is often undetermined).
    assert split_clauses("Nice design, but it crashes", None) == split_clauses(
        "Nice design, but it crashes", "und") == ["Nice design,", "but it crashes"]
    # German, Dutch and Spanish turn at their own words; "doch"/"nur", "toch"/"alleen" (also
    # emphasis and "only"), "während"/"terwijl"/"mientras" (also "during"/"while") and "sino"
    # (after a negation) do not cut.
    assert split_clauses("Schönes Design, aber es stürzt ab", "de") == [
        "Schönes Design,", "aber es stürzt ab"]
    assert split_clauses("Sie ist schnell, außer beim Export der Daten.", "de") == [
        "Sie ist schnell,", "außer beim Export der Daten."]
    assert split_clauses("Mooie app, maar hij crasht vaak.", "nl") == [
        "Mooie app,", "maar hij crasht vaak."]
    assert split_clauses("Prima prijs, hoewel de support traag is", "nl") == [
        "Prima prijs,", "hoewel de support traag is"]
    assert split_clauses("Es rápida, sin embargo se cierra al pagar.", "es") == [
        "Es rápida,", "sin embargo se cierra al pagar."]
    assert split_clauses("Me encanta aunque gasta batería", "es") == [
        "Me encanta", "aunque gasta batería"]
    assert split_clauses("Tela bonita, só que fecha sozinho no pagamento.", "pt") == [
        "Tela bonita,", "só que fecha sozinho no pagamento."]
    assert split_clauses("Gosto muito embora gaste bateria", "pt") == [
        "Gosto muito", "embora gaste bateria"]
    assert split_clauses("Bel design, però si blocca spesso.", "it") == [
        "Bel design,", "però si blocca spesso."]
    assert split_clauses("Ottime ricette, peccato che ci siano troppi annunci", "it") == [
        "Ottime ricette,", "peccato che ci siano troppi annunci"]
    # Korean turns inside a word ("-지만", "-는데"/"-은데"): the cut goes after the ending, only
    # before a space; the connectives "하지만", "그런데", ... open the second clause.
    assert split_clauses("디자인은 정말 좋은데 자주 꺼져요.", "ko") == [
        "디자인은 정말 좋은데", "자주 꺼져요."]
    assert split_clauses("가격은 싸지만 광고가 너무 많아요", "ko") == [
        "가격은 싸지만", "광고가 너무 많아요"]
    assert split_clauses("화면이 깔끔해요 그런데 동기화가 느려요", "ko") == [
        "화면이 깔끔해요", "그런데 동기화가 느려요"]
    for whole in ("설정을 찾는 데 오래 걸렸어요.", "정말 괜찮은데요.", "느린 데다 비싸요",
                  "좋은데 비싸요"):
        assert split_clauses(whole, "ko") == [whole], whole
    for lang, whole in (("de", "Das ist doch super, nur das Beste"),
                        ("es", "No es lenta sino rapidísima"),
                        ("es", "Se cierra mientras corro"),
                        ("de", "Sie stürzt während des Trainings ab"),
                        ("de", "Das ist aber schön!"),
                        ("nl", "Dat is toch mooi, alleen de kleur"),
                        ("nl", "Hij crasht terwijl ik aan het sporten ben"),
                        ("pt", "Não é lento senão rapidíssimo"),
                        ("pt", "Fecha enquanto eu corro"),
                        ("pt", "Quero mais opções de cor"),  # "mais" is not "mas"
                        ("it", "Funziona comunque bene sul tablet"),
                        ("it", "Si blocca mentre corro"),
                        ("it", "Uso questa invece di quella vecchia")):
        assert split_clauses(whole, lang) == [whole], whole
    # A language without contrast words of its own is cut only at ";".
    assert split_clauses("Bel design, men krasjer ofte", "nb") == [
        "Bel design, men krasjer ofte"]
    assert split_clauses("Bel design; krasjer ofte", "nb") == ["Bel design;", "krasjer ofte"]
    # Japanese turns at particles that close the first clause (the cut goes after them), and
    # only with four letters on each side; "が" without a comma marks a subject, "のに" without
    # one can mean "for", "でも" mid-sentence means "even".
    assert split_clauses("デザインはきれいだけど、二日に一回は落ちます。", "ja") == [
        "デザインはきれいだけど、", "二日に一回は落ちます。"]
    assert split_clauses("同期は完璧ですが、サポートは返事をくれません", "ja") == [
        "同期は完璧ですが、", "サポートは返事をくれません"]
    assert split_clauses("起動は速いものの料金が高すぎる", "ja") == [
        "起動は速いものの", "料金が高すぎる"]
    assert split_clauses("動作は軽いです、しかし同期が失敗します", "ja") == [
        "動作は軽いです、", "しかし同期が失敗します"]
    for whole in ("私がやりました。", "使うのに便利です。", "いいけど、重い。",
                  "タブレットでも快適に使えます", "いいアプリだけど。"):
        assert split_clauses(whole, "ja") == [whole], whole
    # Chinese turns at a connective after a comma (the cut goes before it), with two letters
    # on each side; "却" (after the second clause's subject) and a comma-less "但是" do not cut.
    assert split_clauses("界面很漂亮，但是两天就闪退一次。", "zh") == [
        "界面很漂亮，", "但是两天就闪退一次。"]
    assert split_clauses("很好用，就是广告太多了", "zh") == ["很好用，", "就是广告太多了"]
    assert split_clauses("同步很可靠, 不过年费太贵了", "zh") == ["同步很可靠,", "不过年费太贵了"]
    assert split_clauses("哪个设备都能用，可惜客服不理人；价格还行", "zh") == [
        "哪个设备都能用，", "可惜客服不理人；", "价格还行"]
    for whole in ("界面好看，功能却很少。", "好用，但是贵", "但是我很喜欢这个应用。",
                  "我只是想导出数据。"):
        assert split_clauses(whole, "zh") == [whole], whole
    assert set(CLAUSE_LANGUAGES) == {"en", "fr", "de", "nl", "es", "pt", "it", "ko", "ja", "zh"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["app", "but", "though", "great", ";", "it", "crashes",
                                 "BUT", "sync,", "however", "🙂", "slow", "except"]),
                min_size=1, max_size=30))
def test_clauses_keep_every_character_in_order(words: list[str]) -> None:
    sentence = " ".join(words)
    parts = split_clauses(sentence)
    assert all(p and p == p.strip() for p in parts)
    assert "".join(parts).replace(" ", "") == sentence.replace(" ", "")
    pos = 0
    for part in parts:  # each part is a piece of the sentence, in reading order
        pos = sentence.index(part, pos) + len(part)


def test_detect_languages_short_text_is_undetermined_unless_stated() -> None:
    got = detect_languages(
        ["ok", "Great app, works every day without problems",
         "Très bonne application, je la recommande vivement",
         "Sync fails", "App stürzt ständig ab und verliert meine Daten"],
        [None, None, None, "de", None])
    assert got == ["und", "en", "fr", "de", "de"]
