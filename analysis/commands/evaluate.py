"""``reviewgap evaluate``: measure the classifier on your labelled reviews.

Prints precision/recall/F1 and a confusion matrix per label and the sentiment accuracy, and
writes them to ``<workspace>/evaluation/latest.json`` for the report's methodology appendix.
"""

from __future__ import annotations

from pathlib import Path

import click

from analysis.commands.classify import (
    build_or_exit,
    fail_input,
    optional_config,
    read_labelled_or_exit,
)
from analysis.commands.common import config_option


@click.command("evaluate")
@config_option
@click.option("--input", "input_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Labelled CSV.")
@click.option("--workspace", "workspace_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Workspace to write evaluation/latest.json into (default: the config's, or "
                   "./data without a config).")
def command(config_path: Path, input_path: Path, workspace_dir: Path | None) -> None:
    """Measure precision, recall and F1 per label on a labelled CSV.

    Columns: text, and any of sentiment (negative/neutral/positive) or rating (1-5),
    problem_report, feature_request, praise, question (0/1), needs (ids separated by ';',
    each optionally with the mention's polarity: pricing:negative;support:positive).

    Example:

        reviewgap evaluate --input labelled.csv
    """
    from analysis.classify.evaluate import LabelledFileError, evaluate, write_evaluation

    frame = read_labelled_or_exit(input_path)
    cfg = optional_config(config_path)
    clf = build_or_exit(cfg)
    try:  # evaluate() checks the need ids before classifying anything
        result = evaluate(clf, frame, input_name=str(input_path))
    except LabelledFileError as exc:
        fail_input(str(exc))
        raise  # fail_input exits; this keeps type checkers aware of it
    if workspace_dir is None:
        workspace_dir = cfg.workspace if cfg else Path("data")
    path = write_evaluation(result, workspace_dir / "evaluation")
    click.echo(f"{result['n_classified']} of {result['n']} rows classified "
               f"(model_version {result['model_version']})")
    click.echo(f"{'label':<24}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"
               "   confusion [[tn fp] [fn tp]]")
    for label, m in result["labels"].items():
        (tn, fp), (fn, tp) = result["confusion"][label]
        click.echo(f"{label:<24}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}"
                   f"{m['support']:>9}   [[{tn} {fp}] [{fn} {tp}]]")
    if result["sentiment_accuracy"] is not None:
        click.echo(f"sentiment accuracy (negative vs positive): "
                   f"{result['sentiment_accuracy']:.3f}")
    mentions = result.get("need_mentions")
    if mentions:
        found = ", ".join(f"{p} {v['found']}/{v['n']}"
                          for p, v in mentions["recall_by_polarity"].items())
        click.echo(f"need mentions found, by labelled polarity: {found}")
        if mentions["aspect_sentiment_accuracy"] is not None:
            click.echo(f"aspect sentiment of found mentions: "
                       f"{mentions['aspect_sentiment_accuracy']:.3f} "
                       f"(n={mentions['aspect_n']})")
    click.echo(f"wrote {path}")
