"""``reviewgap train``: fit heads to your own labelled reviews.

In: a CSV with ``text`` and any of ``sentiment`` (negative/neutral/positive) or ``rating``
(1-5, used as weak sentiment), ``problem_report``, ``feature_request``, ``praise``,
``question`` (0/1), ``needs`` (semicolon-separated need ids). Out: a heads folder for
``[classification] heads``. Heads for labels the file does not have are copied from the heads
in use (the shipped ones by default), so a file with only feature requests is enough.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from analysis.commands.classify import (
    build_or_exit,
    check_need_ids_or_exit,
    fail_input,
    optional_config,
    read_labelled_or_exit,
)
from analysis.commands.common import config_option

MIN_POSITIVES = 5


@click.command("train")
@config_option
@click.option("--input", "input_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Labelled CSV.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Heads folder to write (default: <workspace>/heads, or ./reviewgap-heads "
                   "without a config).")
def command(config_path: Path, input_path: Path, out_dir: Path | None) -> None:
    """Fit classification heads to your labelled reviews.

    Example:

        reviewgap train --input labelled.csv --out my-heads

    then set `heads = "my-heads"` under [classification] in reviewgap.toml.
    """
    import attrs

    from analysis.classify.heads import INPUT_TYPES, HeadSet
    from analysis.classify.sentences import split_sentences
    from analysis.classify.training import (
        fit_input_types,
        fit_needs,
        fit_sentiment,
        needs_training_set,
        stars_to_sentiment,
    )

    frame = read_labelled_or_exit(input_path)
    cfg = optional_config(config_path)
    clf = build_or_exit(cfg)
    check_need_ids_or_exit(frame, clf, input_path)
    texts = frame["text"].fillna("").tolist()
    sents = [split_sentences(t) or [t] for t in texts]
    click.echo(f"embedding {len(texts)} reviews ({sum(map(len, sents))} sentences)...")
    x, _, _ = clf.features(texts, sents)
    dim = clf.encoder.dim
    heads = dict(clf.heads.heads)
    report: dict[str, object] = {}
    if "sentiment" in frame or "rating" in frame:
        if "sentiment" in frame:
            y3 = frame["sentiment"].map({"negative": 0, "neutral": 1, "positive": 2})
            y3 = y3.fillna(-1).astype(int).to_numpy()
        else:
            y3 = stars_to_sentiment(frame["rating"])
        col = "sentiment" if "sentiment" in frame else "rating"
        if min((y3 == 0).sum(), (y3 == 2).sum()) < MIN_POSITIVES:
            fail_input(f"{input_path}: column {col!r}: need at least {MIN_POSITIVES} negative "
                       "and positive rows")
        heads["sentiment"], report["sentiment"] = fit_sentiment(x, y3)
    present = [k for k in INPUT_TYPES if k in frame]
    if present:
        for k in present:
            if not MIN_POSITIVES <= int(frame[k].sum()) <= len(frame) - MIN_POSITIVES:
                fail_input(f"{input_path}: column {k!r}: need at least {MIN_POSITIVES} rows "
                           "with 1 and with 0")
        new, info = fit_input_types(x, {k: frame[k].to_numpy(dtype=float) for k in present})
        report.update(info)
        old = heads["input_types"]
        rows = {lab: i for i, lab in enumerate(old.labels)}
        coef, icpt = old.coef.copy(), old.intercept.copy()
        thr = (old.thresholds.copy() if old.thresholds is not None
               else np.full(len(old.labels), 0.5, dtype=np.float32))
        for j, lab in enumerate(new.labels):
            coef[rows[lab]], icpt[rows[lab]] = new.coef[j], new.intercept[j]
            thr[rows[lab]] = new.thresholds[j]  # type: ignore[index]
        heads["input_types"] = attrs.evolve(old, coef=coef, intercept=icpt, thresholds=thr)
    if "needs" in frame:
        ex_texts, ex_labels = needs_training_set(clf.taxonomy.needs,
                                                 clf.heads.example_languages)
        sent_vecs = clf.encoder.encode_sentences(ex_texts)
        # A labelled review is a positive for each of its needs (whole-review embedding).
        all_vecs = np.vstack([sent_vecs, x[:, :dim]])
        heads["needs"] = fit_needs(all_vecs, [*ex_labels, *frame["needs"]], clf.taxonomy.ids)
        report["needs"] = {"n": len(texts)}
    if not report:
        fail_input(f"{input_path}: nothing to train")
    if out_dir is None:
        from analysis.workspace import Workspace

        out_dir = (Workspace.from_config(cfg).root / "heads") if cfg else Path("reviewgap-heads")
    manifest = {**clf.heads.manifest, "trained_from": str(input_path), "n": len(texts),
                "user_fit": report}
    HeadSet(heads, manifest, clf.heads.adapter).save(out_dir)
    for label, info in report.items():
        click.echo(f"{label}: {info}")
    click.echo(f"wrote heads to {out_dir}; use them with [classification] heads = "
               f"\"{out_dir}\"")
