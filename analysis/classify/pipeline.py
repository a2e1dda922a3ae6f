"""The review classifier: sentiment, input types and needs per review and per sentence.

Stage: classify. In: review texts (+ optional star ratings, titles, stated languages). Out:
:class:`ReviewLabels` per review; :func:`classify_pending` writes them to the store's
``classifications`` and ``mentions`` tables keyed by ``model_version``.

Flow per batch: detect language -> split sentences -> one encoder pass per review (sorted
batches, per-run cache), each sentence's vector pooled from the review's own tokens
(:mod:`analysis.classify.span_pool`) -> heads on ``[review, max over sentences]`` for the
review, on ``[sentence, sentence]`` for aspect-level needs/sentiment/input type -> roll needs up
to the review (max over sentences).

Aspect level: a sentence that turns ("nice design, but it crashes") is also cut into clauses
(:func:`~analysis.classify.sentences.split_clauses`, at its review's language's contrast words),
each embedded on its own (in the review's context each clause carries the other's sentiment). A
need's score in such a sentence is its best clause's, and the mention takes that clause's
sentiment, so one sentence can praise one need and blame another.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from analysis.classify.emoji_text import EMOJI_VERSION
from analysis.classify.encoder import RUNTIME_TAGS, check_runtime
from analysis.classify.features import (
    encode_features_and_alone,
    review_features,
    sentence_features,
)
from analysis.classify.heads import INPUT_TYPES, SENTIMENT_LABELS, HeadSet
from analysis.classify.language import UNDETERMINED, detect_languages
from analysis.classify.language_offsets import take_off
from analysis.classify.questions import QUESTION_RULES
from analysis.classify.requests import REQUEST_RULES, REQUESTS_ASKED_VERSION
from analysis.classify.sentences import SPLIT_VERSION, split_clauses, split_sentences
from analysis.classify.taxonomy import Taxonomy

if TYPE_CHECKING:
    from analysis.classify.encoder import BaseEncoder
    from analysis.classify.hf_models import NeedsModel, SentimentModel
    from analysis.config import ProjectConfig
    from analysis.store import ReviewStore

log = logging.getLogger(__name__)


@attrs.define
class SentenceLabels:
    """Labels of one sentence (an aspect-level mention when it carries a need)."""

    index: int
    text: str
    needs: dict[str, float]
    """Needs at or over the threshold, with scores in [0, 1]."""
    sentiment: str
    sentiment_score: float
    input_type: str
    need_sentiment: dict[str, tuple[str, float]] = attrs.Factory(dict)
    """Per need in ``needs``: (sentiment, score) of the clause that carries it (the sentence's
    own when the sentence is one clause)."""
    need_clause: dict[str, str] = attrs.Factory(dict)
    """Per need in ``needs`` of a sentence that turns: the clause that carries it (what a quote
    of this mention highlights); absent when the sentence is read whole."""

    def mention_sentiment(self, need: str) -> tuple[str, float]:
        """(sentiment, score) of this sentence's mention of ``need``."""
        return self.need_sentiment.get(need, (self.sentiment, self.sentiment_score))


@attrs.define
class ReviewLabels:
    """Labels of one review. Fields other than status/language are None unless status is ok."""

    status: str
    """``ok`` | ``skipped_language`` | ``empty_text``."""
    language: str | None
    sentiment: str | None = None
    sentiment_score: float | None = None
    """p(positive) - p(negative), in [-1, 1]."""
    problem_report: bool = False
    feature_request: bool = False
    praise: bool = False
    question: bool = False
    other: bool = False
    input_type: str | None = None
    """The most probable input type that was decided yes, or ``other``."""
    input_scores: dict[str, float] = attrs.Factory(dict)
    needs: dict[str, float] = attrs.Factory(dict)
    need_scores: dict[str, float] = attrs.Factory(dict)
    """Every need's score (max over sentences), also those under the threshold."""
    sentences: list[SentenceLabels] = attrs.Factory(list)

    def row(self, uid: str, model_version: str) -> dict[str, Any]:
        """A ``classifications`` row."""
        ok = self.status == "ok"
        return {
            "uid": uid, "model_version": model_version, "language": self.language,
            "status": self.status, "sentiment": self.sentiment,
            "sentiment_score": self.sentiment_score,
            **{k: int(getattr(self, k)) if ok else None
               for k in (*INPUT_TYPES, "other")},
            "input_type": self.input_type,
            "needs_json": {k: round(v, 4) for k, v in self.needs.items()},
        }

    def mention_rows(self, uid: str, model_version: str) -> list[dict[str, Any]]:
        """``mentions`` rows: one per (sentence, need) at or over the threshold."""
        rows = []
        for s in self.sentences:
            for need, score in s.needs.items():
                sentiment, sentiment_score = s.mention_sentiment(need)
                rows.append({"uid": uid, "model_version": model_version,
                             "sentence_index": s.index, "need": need, "sentence": s.text,
                             "clause": s.need_clause.get(need),
                             "score": round(score, 4), "sentiment": sentiment,
                             "sentiment_score": round(sentiment_score, 4),
                             "input_type": s.input_type})
        return rows


class ReviewClassifier:
    """Encoder + heads + taxonomy. Build one with :func:`build_classifier`."""

    def __init__(
        self,
        encoder: BaseEncoder,
        heads: HeadSet,
        taxonomy: Taxonomy,
        *,
        need_threshold: float = 0.5,
        need_thresholds: Mapping[str, float] | None = None,
        languages: Sequence[str] = ("en",),
        sentiment_model: SentimentModel | None = None,
        needs_model: NeedsModel | None = None,
        runtime: str = "torch",
        aspect_clauses: bool = True,
        requests: str = "learned",
    ) -> None:
        if requests not in ("learned", "asked"):
            raise ValueError(f"requests must be 'learned' or 'asked', not {requests!r}")
        self.encoder = encoder
        self.aspect_clauses = aspect_clauses
        self.requests = requests
        """``asked``: a request must ask in its wording (:mod:`analysis.classify.requests`)."""
        self.heads = heads
        self.taxonomy = taxonomy
        self.need_threshold = need_threshold
        self.need_thresholds = dict(need_thresholds or {})
        """Per-language need thresholds where they differ from ``need_threshold``."""
        self.languages = tuple(languages)
        self.sentiment_model = sentiment_model
        self.needs_model = needs_model
        self.runtime = check_runtime(runtime)
        """``torch`` (fp32) or the int8 fast path that made the embeddings."""
        missing = set(taxonomy.ids) - set(heads.heads["needs"].labels)
        if missing and needs_model is None:
            raise ValueError(f"needs head lacks {sorted(missing)} (fit it with the taxonomy)")
        if needs_model is None:
            self._needs_head = heads.heads["needs"].subset(taxonomy.ids)

    @property
    def model_version(self) -> str:
        """Stable id of everything that shapes the labels: encoder, heads, taxonomy, options."""
        parts = [self.encoder.id + RUNTIME_TAGS.get(self.runtime, ""),
                 f"heads-{self.heads.digest}", f"needs-{self.taxonomy.digest}",
                 "t" + "-".join([f"{self.need_threshold:g}", *(
                     f"{lang}{t:g}" for lang, t in sorted(self.need_thresholds.items()))])]
        if "question" in self.heads.heads["input_types"].labels:
            parts.append(QUESTION_RULE_LATER_VERSION
                         if set(QUESTION_RULE_LATER_LANGUAGES) & set(self.languages)
                         else QUESTION_RULE_VERSION)
        if self.aspect_clauses:
            parts.append(ASPECT_VERSION_LATER if set(ASPECT_LATER_LANGUAGES) & set(self.languages)
                         else ASPECT_VERSION)
        parts.append(SPLIT_VERSION)
        parts.append(COMPLAINT_RULE_VERSION)
        if self.requests == "asked":
            parts.append(REQUESTS_ASKED_VERSION)
        if self.encoder.spells_emoji:
            parts.append(EMOJI_VERSION)
        if self.sentiment_model is not None:
            parts.append(f"sentiment={self.sentiment_model.id}")
        if self.needs_model is not None:
            parts.append(f"zeroshot={self.needs_model.id}")
        return "/".join(parts)

    def classify(
        self,
        texts: Sequence[str],
        ratings: Sequence[int | None] | None = None,
        *,
        titles: Sequence[str | None] | None = None,
        stated_languages: Sequence[str | None] | None = None,
    ) -> list[ReviewLabels]:
        """Label reviews; one :class:`ReviewLabels` per text, in input order.

        Args:
            texts: review bodies.
            ratings: star ratings (1-5 or None). Not read by the heads: every label comes
                from the text (so sentiment can disagree with the stars, and a file without
                ratings is labelled like a crawl); accepted so callers need not care.
            titles: review titles (become the first sentence).
            stated_languages: the language each source stated, used when detection is unsure.
        """
        n = len(texts)
        if ratings is not None and len(ratings) != n:
            raise ValueError(f"{len(ratings)} ratings for {n} texts")
        titles = list(titles) if titles is not None else [None] * n
        full = [_join(t, x) for t, x in zip(titles, texts, strict=True)]
        langs = detect_languages(full, stated_languages)
        out: list[ReviewLabels] = []
        todo: list[int] = []
        for i, (text, lang) in enumerate(zip(full, langs, strict=True)):
            if not text.strip():
                out.append(ReviewLabels("empty_text", None))
            elif lang != UNDETERMINED and lang not in self.languages:
                out.append(ReviewLabels("skipped_language", lang))
            else:
                out.append(ReviewLabels("ok", lang))
                todo.append(i)
        if todo:
            self._label([out[i] for i in todo], [full[i] for i in todo],
                        [texts[i] for i in todo], [titles[i] for i in todo])
        return out

    # -- internals ---------------------------------------------------------------------------

    def features(self, full: Sequence[str], sentences: Sequence[Sequence[str]]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Head inputs for reviews and their sentences, from one encoder pass per review.

        Returns:
            (review features ``[review, sentmax]``, sentence features ``[s, s]``, sentence
            vectors); sentence rows follow the reviews' order.
        """
        x_rev, x_sent, sent_vecs, _ = self._features(full, sentences, ())
        return x_rev, x_sent, sent_vecs

    def _features(self, full: Sequence[str], sentences: Sequence[Sequence[str]],
                  alone: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`features`, plus vectors of the texts ``alone`` embedded on their own in the
        same batches (:func:`~analysis.classify.features.encode_features_and_alone`)."""
        x_rev, sent_vecs, alone_vecs = encode_features_and_alone(self.encoder, full, sentences,
                                                                 alone)
        return x_rev, sentence_features(sent_vecs), sent_vecs, alone_vecs

    def _label(self, labels: list[ReviewLabels], full: list[str], bodies: list[str],
               titles: list[str | None]) -> None:
        sents = [split_sentences(b, t) or [f] for b, t, f in zip(bodies, titles, full, strict=True)]
        offsets = np.cumsum([0, *(len(s) for s in sents)])
        flat = [s for ss in sents for s in ss]
        rev_langs = [lab.language for lab in labels]
        flat_langs = [lang for lang, ss in zip(rev_langs, sents, strict=True) for _ in ss]
        clauses = [split_clauses(s, lang) if self.aspect_clauses else [s]
                   for s, lang in zip(flat, flat_langs, strict=True)]
        turning = [c for cs in clauses if len(cs) > 1 for c in cs]
        x_rev, x_sent, sent_vecs, clause_vecs = self._features(full, sents, turning)
        # Sentiment and input types read vectors with their language's offset taken off; the
        # needs head reads them as they are (it learned from examples in those languages).
        x_rev, x_sent = self._offset_features(x_rev, x_sent, sent_vecs, offsets, rev_langs,
                                              flat_langs)
        sent_rev, sent_sen = self._sentiment(x_rev, full), self._sentiment(x_sent, flat)
        it_head = self.heads.heads["input_types"]
        it_rev, it_sen = it_head.predict_proba(x_rev), it_head.predict_proba(x_sent)
        yes_rev, yes_sen = it_head.decide(it_rev), it_head.decide(it_sen)
        # Also a question where the wording plainly asks one (the head misses questions asked
        # after a first clause; see analysis.classify.questions), each text by its language's rule.
        _or_question_rule(yes_rev, it_head.labels, full, rev_langs)
        _or_question_rule(yes_sen, it_head.labels, flat, flat_langs)
        # The complaint rule reads the heads' own requests whatever ``requests`` says: a mention
        # in a wish for a change counts against the need either way. ``asked`` changes only the
        # input types shown (review and sentence).
        s_types = _input_types(it_head.labels, it_sen, yes_sen)
        shown_rev, s_shown = yes_rev, s_types
        if self.requests == "asked":
            shown_rev, shown_sen = yes_rev.copy(), yes_sen.copy()
            _keep_asked_requests(shown_rev, it_head.labels, full, rev_langs)
            _keep_asked_requests(shown_sen, it_head.labels, flat, flat_langs)
            s_shown = _input_types(it_head.labels, it_sen, shown_sen)
        need_sen, need_part, part_sent, part_text = self._aspects(
            sent_vecs, flat, flat_langs, sent_sen, clauses, clause_vecs)
        ids = self.taxonomy.ids
        cuts = np.array([self.need_thresholds.get(lang or "", self.need_threshold)
                         for lang in flat_langs])
        mentioned = need_sen >= cuts[:, None]  # the sentence names the need (its language's cut)
        asks = self._asks(flat, flat_langs, s_types, np.repeat(np.diff(offsets) > 1,
                                                                np.diff(offsets)),
                          mentioned, need_part, part_sent, part_text)
        rev_types = _input_types(it_head.labels, it_rev, shown_rev)
        for i, lab in enumerate(labels):
            lab.sentiment, lab.sentiment_score = sent_rev[i]
            scores = dict(zip(it_head.labels, map(float, it_rev[i]), strict=True))
            lab.input_scores = {k: round(v, 4) for k, v in scores.items()}
            for j, name in enumerate(it_head.labels):
                setattr(lab, name, bool(shown_rev[i, j]))
            lab.other = not shown_rev[i].any()
            lab.input_type = rev_types[i]
            a, b = int(offsets[i]), int(offsets[i + 1])
            review_need = need_sen[a:b].max(axis=0) if b > a else np.zeros(len(ids))
            lab.need_scores = {k: round(float(v), 4) for k, v in zip(ids, review_need,
                                                                     strict=True)}
            cut = self.need_thresholds.get(lab.language or "", self.need_threshold)
            lab.needs = {k: v for k, v in lab.need_scores.items() if v >= cut}
            for k in range(a, b):
                s_needs = {nid: float(need_sen[k, j]) for j, nid in enumerate(ids)
                           if mentioned[k, j]}
                s_type = s_types[k]
                lab.sentences.append(SentenceLabels(
                    index=int(k - a), text=flat[k], needs=s_needs, sentiment=sent_sen[k][0],
                    sentiment_score=sent_sen[k][1], input_type=s_shown[k],
                    need_sentiment={nid: _complaint(part_sent[need_part[k, j]], s_type,
                                                    asks[k] and part_text[need_part[k, j]]
                                                    == flat[k])
                                    for j, nid in enumerate(ids) if nid in s_needs},
                    need_clause={nid: part_text[need_part[k, j]]
                                 for j, nid in enumerate(ids)
                                 if nid in s_needs and part_text[need_part[k, j]] != flat[k]}))

    def _asks(self, flat: list[str], langs: list[str | None], types: list[str],
              in_company: np.ndarray, mentioned: np.ndarray, need_part: np.ndarray,
              part_sent: list[tuple[str, float]], part_text: list[str]) -> np.ndarray:
        """Per sentence: does it ask for something on its own (see :func:`_complaint`)?

        A sentence read as a request is one; but one that shares its review with others
        (``in_company``) was read in their context, and there praise next to a request ("has
        every feature I need. Please add tags.") reads as a request too. Those that would turn a
        positive mention negative (read whole, a need ``mentioned``, its sentiment positive) are
        read again on their own, as a clause is; they ask only if they still read as requests.
        Others read as requests ask; the rest do not.
        """
        asks = np.array([t == "feature_request" for t in types], dtype=bool)
        again = [k for k in np.flatnonzero(asks & in_company)
                 if any(part_sent[need_part[k, j]][0] == "positive"
                        and part_text[need_part[k, j]] == flat[k]
                        for j in np.flatnonzero(mentioned[k]))]
        if again:
            _, alone = self._read_alone([flat[k] for k in again], [langs[k] for k in again])
            asks[again] = [t == "feature_request" for t in alone]
        return asks

    def _offset_features(self, x_rev: np.ndarray, x_sent: np.ndarray, sent_vecs: np.ndarray,
                         bounds: np.ndarray, rev_langs: list[str | None],
                         sent_langs: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """Review and sentence features with language offsets taken off (the heads'
        ``language_offsets``); the same arrays when no review is in such a language.
        ``bounds``: review i owns sentences ``bounds[i]:bounds[i + 1]``."""
        shift = self.heads.language_offsets or {}
        if not shift or not any(lang in shift for lang in rev_langs):
            return x_rev, x_sent
        dim = sent_vecs.shape[1]
        sen = take_off(sent_vecs, sent_langs, shift)
        rev = review_features(take_off(x_rev[:, :dim], rev_langs, shift), sen, bounds)
        return rev, sentence_features(sen)

    def _aspects(self, sent_vecs: np.ndarray, flat: list[str], langs: list[str | None],
                 sent_sen: list[tuple[str, float]], clauses: list[list[str]],
                 clause_vecs: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, list[tuple[str, float]], list[str]]:
        """Needs per sentence and the sentiment of each mention.

        A sentence of one clause is read as it is (its vector pooled in the review's context).
        A sentence that turns is read clause by clause: each clause embedded on its own, its
        needs and its sentiment read from that vector. ``clauses``: each sentence's clauses
        (:func:`~analysis.classify.sentences.split_clauses`; one when it does not turn);
        ``clause_vecs``: a vector per clause of the sentences that turn, in order.

        Returns:
            (need scores per sentence: its best clause's; per sentence and need, the row that
            holds that score; (sentiment, score) per row; text per row). Rows follow the
            sentences: one per one-clause sentence (its text), one per clause of the others.
        """
        turning = [c for cs in clauses if len(cs) > 1 for c in cs]
        turning_langs = [lang for cs, lang in zip(clauses, langs, strict=True) if len(cs) > 1
                         for _ in cs]
        # A clause's sentiment, like a sentence's, is read with its language's offset off.
        clause_sen = (self._sentiment(sentence_features(take_off(
            clause_vecs, turning_langs, self.heads.language_offsets)), turning)
            if turning else [])
        vecs: list[np.ndarray] = []
        texts: list[str] = []
        sentiment: list[tuple[str, float]] = []
        bounds = [0]
        c = 0  # next clause of ``turning``
        for k, cs in enumerate(clauses):
            if len(cs) > 1:
                vecs += list(clause_vecs[c : c + len(cs)])
                sentiment += clause_sen[c : c + len(cs)]
                texts += cs
                c += len(cs)
            else:
                vecs.append(sent_vecs[k])
                sentiment.append(sent_sen[k])
                texts.append(flat[k])
            bounds.append(len(texts))
        scores = self._needs(np.stack(vecs).astype(np.float32), texts)
        # First row holding each need's best score, per sentence.
        best = np.stack([a + scores[a:b].argmax(axis=0) for a, b in pairwise(bounds)])
        return np.take_along_axis(scores, best, axis=0), best, sentiment, texts

    def _sentiment(self, x: np.ndarray, texts: list[str]) -> list[tuple[str, float]]:
        if self.sentiment_model is not None:
            probs = self.sentiment_model.predict_proba(texts)
        else:
            probs = self.heads.heads["sentiment"].predict_proba(x)
        # Whole arrays at once: per-row numpy calls on scalars were 4 % of the stage.
        best = probs.argmax(axis=1).tolist()
        score = np.clip(probs[:, 2] - probs[:, 0], -1.0, 1.0).tolist()
        return [(SENTIMENT_LABELS[b], s) for b, s in zip(best, score, strict=True)]

    def _needs(self, sent_vecs: np.ndarray, texts: list[str]) -> np.ndarray:
        if self.needs_model is not None:
            return self.needs_model.scores(texts, self.taxonomy)
        return self._needs_head.predict_proba(sent_vecs)

    def sentence_labels(self, texts: Sequence[str],
                        languages: Sequence[str | None] | None = None
                        ) -> list[tuple[str, float, str]]:
        """(sentiment, sentiment_score, input_type) for stand-alone sentences.

        Args:
            texts: sentences (of reviews this classifier labelled: themes).
            languages: each sentence's review language, when known: its language offset is
                taken off and the question rule reads only the languages it knows. Unknown:
                read as English when this classifier labels English.
        """
        if not texts:
            return []
        x, types = self._read_alone(texts, languages, shown=True)
        return [(s, sc, t) for (s, sc), t in zip(self._sentiment(x, list(texts)), types,
                                                 strict=True)]

    def _read_alone(self, texts: Sequence[str], languages: Sequence[str | None] | None,
                    shown: bool = False) -> tuple[np.ndarray, list[str]]:
        """Stand-alone sentences' features (each embedded on its own, cached; language offsets
        off when ``languages`` are given) and input types (question rule applied; with
        ``shown``, as shown to the user: the ``requests = "asked"`` rule too); see
        :meth:`sentence_labels` for ``languages``."""
        vecs = self.encoder.encode_sentences(list(texts))
        if languages is not None:
            vecs = take_off(vecs, languages, self.heads.language_offsets)
        x = sentence_features(vecs)
        head = self.heads.heads["input_types"]
        probs = head.predict_proba(x)
        yes = head.decide(probs)
        langs = (list(languages) if languages is not None
                 else ["en" if "en" in self.languages else None] * len(texts))
        _or_question_rule(yes, head.labels, texts, langs)
        if shown and self.requests == "asked":
            _keep_asked_requests(yes, head.labels, texts, langs)
        return x, _input_types(head.labels, probs, yes)

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of stand-alone sentences (cached), e.g. for theme discovery."""
        return self.encoder.encode_sentences(list(texts))


def _join(title: str | None, text: str | None) -> str:
    text = (text or "").strip()
    if title and title.strip():
        sep = "" if title.strip()[-1:] in ".!?" else "."
        return f"{title.strip()}{sep} {text}".strip()
    return text


def version_need_threshold(model_version: str) -> str | None:
    """The need threshold a :attr:`ReviewClassifier.model_version` was made with, for display
    (``t0.6-fr0.5`` gives ``"0.6 (fr: 0.5)"``), or None when the version has none."""
    part = next((p for p in model_version.split("/")
                 if re.fullmatch(r"t[0-9.]+(-[a-z]+[0-9.]+)*", p)), None)
    if part is None:
        return None
    first, *per_lang = part[1:].split("-")
    langs = ", ".join(f"{m[1]}: {m[2]}" for m in (re.fullmatch(r"([a-z]+)([0-9.]+)", x)
                                                  for x in per_lang) if m)
    return f"{first} ({langs})" if langs else first


def _complaint(sentiment: tuple[str, float], input_type: str, asks: bool) -> tuple[str, float]:
    """The sentiment of a need's mention, given the (sentiment, score) of the clause carrying it,
    the input type of its sentence, and whether that clause asks for something on its own
    (:meth:`ReviewClassifier._asks`: a one-clause sentence that reads as a request out of its
    review's context; never a clause of a sentence that turns).

    A mention read as neutral in a problem report is a complaint: ("negative", same score).
    Faults told in plain words ("the send button sits behind the keyboard since the update")
    read neutral to a sentiment head learned from stars, and counted neither for nor against the
    need. Measured (default heads, aspect sentiment of found mentions): real Google Play and
    Trustpilot reviews 0.646 -> 0.681, written hold-out 0.800 -> 0.812, mixed 0.746 -> 0.782,
    hold-out 2 and dev unchanged.

    A mention in a request is a complaint too: it names what the product lacks. Requests are
    often worded kindly ("great app, a dark mode would make it perfect"), and the sentiment head
    read them positive, so a missing feature counted *for* the product. Read neutral in a
    sentence read as a feature request, the mention is negative; read positive, it is negative
    when its clause ``asks``. A positive clause of a sentence that turns ("the design is lovely,
    but please add a search bar") praises another need, and so does praise that read as a
    request only in a request's company. Measured in docs/classification.md ("A mention in a
    request is a complaint too"). The score stays the model's."""
    label = sentiment[0]
    if input_type == "problem_report" and label == "neutral":
        return ("negative", sentiment[1])
    if input_type == "feature_request" and (label == "neutral" or (label == "positive" and asks)):
        return ("negative", sentiment[1])
    return sentiment


COMPLAINT_RULE_VERSION = "complaint2"
"""Part of ``model_version``: mention sentiments made before :func:`_complaint` (``complaint1``:
problem reports only, not requests) are labelled again."""
QUESTION_RULE_VERSION = "q-rule1"
"""Part of ``model_version``: labels made before the question rule are labelled again."""
QUESTION_RULE_LATER_VERSION = "q-rule2"
QUESTION_RULE_LATER_LANGUAGES = ("zh", "ja")
"""``model_version``'s question part is :data:`QUESTION_RULE_LATER_VERSION` when one of these
languages is labelled: their rules (:func:`~analysis.classify.questions.asks_question_zh`,
``asks_question_ja``) came after ``q-rule1``; projects without them keep ``q-rule1`` and their
labels."""
ASPECT_VERSION = "clauses5"
"""Part of ``model_version``: needs and mention sentiment read per clause
(:func:`~analysis.classify.sentences.split_clauses`: English, French, German, Dutch, Spanish,
Japanese and Chinese contrast words; Portuguese, Italian and Korean ones under ``clauses6``);
labels made per sentence only, with English words only (``clauses1``), English and French ones
(``clauses2``), without Japanese (``clauses3``) or without Chinese (``clauses4``) are labelled
again."""
ASPECT_VERSION_LATER = "clauses6"
ASPECT_LATER_LANGUAGES = ("pt", "it", "ko")
"""``model_version``'s clause part is :data:`ASPECT_VERSION_LATER` when one of these languages
is labelled: their contrast words came after ``clauses5``; projects without them keep
``clauses5`` and their labels."""


def _or_question_rule(yes: np.ndarray, head_labels: Sequence[str], texts: Sequence[str],
                      languages: Sequence[str | None]) -> None:
    """Set the ``question`` column of ``yes`` (one row per text) where the question rule of
    the text's language (:data:`~analysis.classify.questions.QUESTION_RULES`; ``None`` or a
    language without one: not read) says it asks; heads without the label are left alone."""
    if "question" not in head_labels:
        return
    q = list(head_labels).index("question")
    for row, asks in _rule_verdicts(QUESTION_RULES, texts, languages, range(len(texts))):
        if asks:
            yes[row, q] = True


def _keep_asked_requests(yes: np.ndarray, head_labels: Sequence[str], texts: Sequence[str],
                         languages: Sequence[str | None]) -> None:
    """``requests = "asked"``: clear the ``feature_request`` column of ``yes`` (one row per text)
    where the request rule of the text's language
    (:data:`~analysis.classify.requests.REQUEST_RULES`) finds no ask in its wording, in place;
    texts in a language without a rule keep the heads' answer."""
    if "feature_request" not in head_labels:
        return
    f = list(head_labels).index("feature_request")
    for row, asks in _rule_verdicts(REQUEST_RULES, texts, languages, np.flatnonzero(yes[:, f])):
        if not asks:
            yes[row, f] = False


def _rule_verdicts(rules: Mapping[str, Callable[[str], bool]], texts: Sequence[str],
                   languages: Sequence[str | None], rows: Iterable[int]
                   ) -> Iterator[tuple[int, bool]]:
    """(row, what the rule of the text's language says) for each of ``rows`` whose language
    (``None``: unknown) has a rule in ``rules``; the others are skipped, unread."""
    if len(texts) != len(languages):
        raise ValueError(f"{len(texts)} texts but {len(languages)} languages")
    for row in rows:
        lang = languages[row]
        rule = rules.get(lang) if lang is not None else None
        if rule is not None:
            yield int(row), rule(texts[row])


def _input_types(labels: Sequence[str], probs: np.ndarray, yes: np.ndarray) -> list[str]:
    """The input type shown for each text (rows of ``probs`` and ``yes``, texts x labels): its
    most probable label among those decided yes, ``other`` when none is. Whole-array steps:
    per-row calls were 1 % of the stage."""
    best = np.where(yes, probs, -1.0).argmax(axis=1).tolist()
    return [labels[b] if any_yes else "other"
            for b, any_yes in zip(best, yes.any(axis=1).tolist(), strict=True)]


def build_classifier(cfg: ProjectConfig | None = None) -> ReviewClassifier:
    """Build the configured classifier (defaults when ``cfg`` is None).

    Raises:
        analysis.classify.hub.ModelLoadError: a configured model cannot be loaded offline; the
            message names the model and the config key.
        FileNotFoundError: ``[classification] heads`` is not a heads folder.
    """
    from analysis.classify.build import build

    return build(cfg)


def classify_pending(store: ReviewStore, clf: ReviewClassifier, *, batch_size: int = 256,
                     progress: bool = True, themes: bool = True,
                     product_names: Mapping[str, Iterable[str]] | None = None) -> dict[str, int]:
    """Label the reviews that have no row for ``clf.model_version``; returns counts.

    ``product_names`` (key -> name and aliases, from the config) are kept out of the discovered
    themes' words; without it, theme discovery uses the names stored with the reviews.

    Each batch is written in its own transaction, so an interrupted run keeps what it did and
    the next run continues from there.
    """
    from tqdm import tqdm

    version = clf.model_version
    pending = store.pending_uids(version)
    counts = {"pending": len(pending), "ok": 0, "skipped_language": 0, "empty_text": 0,
              "mentions": 0}
    bar = tqdm(total=len(pending), unit="review", disable=not progress, desc="classify")
    for start in range(0, len(pending), batch_size):
        rows = store.texts_for(pending[start : start + batch_size])
        labels = clf.classify([r["text"] or "" for r in rows], [r["rating"] for r in rows],
                              titles=[r["title"] for r in rows],
                              stated_languages=[r["language"] for r in rows])
        mentions = [m for r, lab in zip(rows, labels, strict=True)
                    for m in lab.mention_rows(r["uid"], version)]
        store.write_classifications(
            [lab.row(r["uid"], version) for r, lab in zip(rows, labels, strict=True)], mentions)
        for lab in labels:
            counts[lab.status] += 1
        counts["mentions"] += len(mentions)
        bar.update(len(rows))
    bar.close()
    counts["classified"] = counts["ok"] + counts["skipped_language"] + counts["empty_text"]
    if themes and counts["classified"]:
        from analysis.classify.themes import discover_themes

        counts["themes"] = len(discover_themes(store, clf, product_names=product_names))
    return counts
