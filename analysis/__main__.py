"""``python -m analysis`` runs the ``reviewgap`` CLI."""

from analysis.cli import main

main()
