"""``reviewgap classify``: label the store's unlabelled reviews, or a CSV file.

Store mode (no ``--input``): classifies the reviews that have no labels for the current model
version (a re-run classifies only what is new), then rediscovers themes. File mode
(``--input in.csv --output out.csv``) needs no config file: it uses the defaults unless one
is given or ``./reviewgap.toml`` exists.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from analysis.commands.common import EXIT_CONFIG, config_option, load_or_exit

if TYPE_CHECKING:
    from analysis.classify.pipeline import ReviewClassifier
    from analysis.config import ProjectConfig

OUTPUT_COLUMNS = ("id", "sentiment", "sentiment_score", "problem_report", "feature_request",
                  "praise", "question", "other", "input_type", "needs", "language", "status")


def optional_config(path: Path) -> ProjectConfig | None:
    """The config when one was named with -c or ``./reviewgap.toml`` exists; else None."""
    ctx = click.get_current_context()
    explicit = ctx.get_parameter_source("config_path") not in (
        click.core.ParameterSource.DEFAULT, None)
    if explicit or path.exists():
        return load_or_exit(path)
    return None


def build_or_exit(cfg: ProjectConfig | None) -> ReviewClassifier:
    """Build the classifier; a model/heads problem is a configuration error (exit 2)."""
    from analysis.classify.hub import ModelLoadError
    from analysis.classify.pipeline import build_classifier

    try:
        return build_classifier(cfg)
    except (ModelLoadError, FileNotFoundError, ValueError) as exc:
        where = f"{cfg.path}: " if cfg is not None and cfg.path else ""
        click.echo(f"error: {where}{exc}", err=True)
        raise SystemExit(EXIT_CONFIG) from None


def fail_input(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(EXIT_CONFIG)


def read_labelled_or_exit(path: Path) -> Any:
    """A labelled file as a frame (``train``/``evaluate``); exit 2 naming the file if unusable."""
    from analysis.classify.evaluate import LabelledFileError, read_labelled

    if not path.exists():
        fail_input(f"{path}: file not found")
    try:
        return read_labelled(path)
    except LabelledFileError as exc:
        fail_input(str(exc))
        raise  # fail_input exits; this keeps type checkers aware of it


def check_need_ids_or_exit(frame: Any, clf: Any, path: Path) -> None:
    """Exit 2 naming the file, row and id when ``frame``'s needs name an id ``clf`` lacks."""
    from analysis.classify.evaluate import LabelledFileError, check_need_ids

    try:
        check_need_ids(frame, clf.taxonomy.ids, str(path))
    except LabelledFileError as exc:
        fail_input(str(exc))


def read_input_rows(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """Rows of an input CSV (text, id, rating, title); errors name the file, column and row."""
    if not path.exists():
        fail_input(f"{path}: file not found")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            if "text" not in fields:
                fail_input(f"{path}: no 'text' column (columns: {', '.join(fields) or 'none'})")
            rows = []
            for n, raw in enumerate(reader, start=1):
                rating = (raw.get("rating") or "").strip()
                value: int | None = None
                if rating:
                    try:
                        value = round(float(rating))
                    except ValueError:
                        value = None
                    if value is None or not 1 <= value <= 5:
                        fail_input(f"{path}: column 'rating', row {n + 1}: expected 1-5, "
                                   f"got {rating!r}")
                rows.append({"id": raw.get("id") if "id" in fields else str(n),
                             "text": raw.get("text") or "", "title": raw.get("title"),
                             "rating": value})
    except UnicodeDecodeError as exc:
        fail_input(f"{path}: not UTF-8 text ({exc})")
    return rows, "id" in fields


def classify_file(clf: ReviewClassifier, src: Path, dst: Path, *, batch_size: int = 256,
                  progress: bool = True) -> dict[str, int]:
    """Classify a CSV into another CSV; returns counts per status."""
    from tqdm import tqdm

    rows, _ = read_input_rows(src)
    counts = {"rows": len(rows), "ok": 0, "skipped_language": 0, "empty_text": 0}
    dst.parent.mkdir(parents=True, exist_ok=True)
    with dst.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(OUTPUT_COLUMNS))
        writer.writeheader()
        with tqdm(total=len(rows), unit="review", disable=not progress, desc="classify") as bar:
            for start in range(0, len(rows), batch_size):
                chunk = rows[start : start + batch_size]
                labels = clf.classify([r["text"] for r in chunk], [r["rating"] for r in chunk],
                                      titles=[r["title"] for r in chunk])
                for r, lab in zip(chunk, labels, strict=True):
                    counts[lab.status] += 1
                    ok = lab.status == "ok"
                    writer.writerow({
                        "id": r["id"], "sentiment": lab.sentiment or "",
                        "sentiment_score": "" if lab.sentiment_score is None
                        else f"{lab.sentiment_score:.4f}",
                        **{k: int(getattr(lab, k)) if ok else "" for k in
                           ("problem_report", "feature_request", "praise", "question", "other")},
                        "input_type": lab.input_type or "",
                        "needs": ";".join(sorted(lab.needs, key=lambda k: -lab.needs[k])),
                        "language": lab.language or "", "status": lab.status,
                    })
                bar.update(len(chunk))
    return counts


@click.command("classify")
@config_option
@click.option("--input", "input_path", type=click.Path(dir_okay=False, path_type=Path),
              help="CSV with a 'text' column (optional 'id', 'rating', 'title') to classify "
                   "instead of the store.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where file mode writes its CSV (required with --input).")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=256, show_default=True,
              help="Reviews per batch (and per store transaction).")
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
def command(config_path: Path, input_path: Path | None, output_path: Path | None,
            batch_size: int, progress: bool) -> None:
    """Classify reviews by sentiment, input type and need.

    Without --input, labels the reviews in the workspace store that have no labels for the
    current model version yet (a re-run classifies only new reviews), then rediscovers themes.

    Example:

        reviewgap classify

        reviewgap classify --input reviews.csv --output labelled.csv
    """
    if input_path is not None:
        if output_path is None:
            fail_input("--input needs --output (the CSV to write)")
        if not input_path.exists():  # before loading any model: fail fast
            fail_input(f"{input_path}: file not found")
        cfg = optional_config(config_path)
        clf = build_or_exit(cfg)
        counts = classify_file(clf, input_path, output_path,  # type: ignore[arg-type]
                               batch_size=batch_size, progress=progress)
        click.echo(f"classified {counts['rows']} rows -> {output_path}: {counts['ok']} ok, "
                   f"{counts['skipped_language']} skipped (language), "
                   f"{counts['empty_text']} empty")
        _language_note(counts, clf)
        click.echo(f"model_version: {clf.model_version}")
        return
    if output_path is not None:
        fail_input("--output is for file mode; give --input too")
    from analysis.classify.pipeline import classify_pending
    from analysis.store import ReviewStore
    from analysis.workspace import Workspace

    cfg = load_or_exit(config_path)
    clf = build_or_exit(cfg)
    store = ReviewStore(Workspace.from_config(cfg).store_path)
    try:
        counts = classify_pending(store, clf, batch_size=batch_size, progress=progress,
                                  product_names=cfg.product_names())
    finally:
        store.close()
    click.echo(f"classified {counts['classified']} of {counts['pending']} pending reviews: "
               f"{counts['ok']} ok, {counts['skipped_language']} skipped (language), "
               f"{counts['empty_text']} empty; {counts['mentions']} need mentions"
               + (f"; {counts['themes']} themes" if "themes" in counts else ""))
    _language_note(counts, clf)
    click.echo(f"model_version: {clf.model_version}")


def _language_note(counts: dict[str, int], clf: ReviewClassifier) -> None:
    if counts.get("skipped_language"):
        click.echo(
            f"note: {counts['skipped_language']} reviews are not in "
            f"{', '.join(clf.languages)} and were not classified; name a multilingual encoder "
            "in [classification] encoder and list its languages to include them")
