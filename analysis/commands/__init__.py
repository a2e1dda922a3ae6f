"""One module per ``reviewgap`` verb; :mod:`analysis.commands.common` has the shared options."""
