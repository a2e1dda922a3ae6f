"""Theme discovery: cluster substantive sentences that match no need into labelled themes.

Stage: classify (after labelling). In: the store's reviews classified ``ok`` under a model
version and their need mentions. Out: ``themes`` rows (label from characteristic words by
class-based TF-IDF, as BERTopic does, plus the sentences nearest the centre) and ``theme:<n>``
mention rows, replaced together on each discovery.

Clustering is KMeans on the (unit-length) sentence embeddings; members far from their centre
(cosine under ``min_similarity``) and clusters with fewer than ``min_size`` members are dropped,
so a theme is a coherent group, not a leftover bin.
"""

from __future__ import annotations

import hashlib
import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.classify.sentences import split_sentences

if TYPE_CHECKING:
    from analysis.classify.pipeline import ReviewClassifier
    from analysis.store import ReviewStore

log = logging.getLogger(__name__)
MIN_WORDS = 5
"""Shorter unmatched sentences ("Love it", "Thanks") carry no theme."""


def class_tfidf_words(docs: list[list[str]], top: int = 6) -> list[list[str]]:
    """Characteristic words per cluster (c-TF-IDF: term frequency in the cluster times
    log(1 + average words per cluster / frequency over all clusters)).

    Args:
        docs: one list of sentences per cluster.
        top: words to return per cluster.
    """
    from sklearn.feature_extraction.text import CountVectorizer

    joined = [" ".join(d) for d in docs]
    vec = CountVectorizer(stop_words="english", ngram_range=(1, 2), min_df=1,
                          token_pattern=r"(?u)\b[^\W\d_][\w'-]+\b")
    try:
        counts = vec.fit_transform(joined).toarray().astype(float)
    except ValueError:  # only stop words
        return [[] for _ in docs]
    tf = counts / np.clip(counts.sum(axis=1, keepdims=True), 1, None)
    avg = counts.sum() / len(docs)
    idf = np.log1p(avg / np.clip(counts.sum(axis=0), 1, None))
    scores = tf * idf
    vocab = vec.get_feature_names_out()
    return [[vocab[j] for j in np.argsort(-row)[:top] if row[j] > 0] for row in scores]


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


def _sample_key(uid: str, index: int) -> str:
    return hashlib.sha1(f"{uid}\x1f{index}".encode()).hexdigest()


def discover_themes(store: ReviewStore, clf: ReviewClassifier, *, min_size: int = 5,
                    max_sentences: int = 20_000, max_themes: int = 20) -> list[dict[str, Any]]:
    """Cluster unmatched sentences of ``clf.model_version`` and store themes + theme mentions.

    At most ``max_sentences`` sentences (a deterministic sample by hash) are clustered, so the
    cost stays bounded on large stores; theme sizes then count the sample.

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
    cands: list[tuple[str, int, str]] = []
    for row in store.texts_for(uids):
        for i, sent in enumerate(split_sentences(row["text"] or "", row["title"])):
            if (row["uid"], i) not in matched and len(sent.split()) >= MIN_WORDS:
                cands.append((row["uid"], i, sent))
    if len(cands) > max_sentences:
        cands = sorted(cands, key=lambda c: _sample_key(c[0], c[1]))[:max_sentences]
        log.info("themes: clustering a sample of %d unmatched sentences", max_sentences)
    texts = [c[2] for c in cands]
    vecs = clf.sentence_vectors(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    labels, sim = cluster_sentences(vecs, min_size=min_size, max_themes=max_themes)
    clusters = sorted({int(c) for c in labels if c >= 0}, key=lambda c: -(labels == c).sum())
    words = class_tfidf_words([[texts[i] for i in np.flatnonzero(labels == c)]
                               for c in clusters])
    themes: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    member_idx = np.flatnonzero(labels >= 0)
    per_sentence = clf.sentence_labels([texts[i] for i in member_idx])
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
