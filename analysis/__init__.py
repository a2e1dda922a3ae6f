"""Everything after the crawl, and the ``reviewgap`` CLI.

Stages (see docs/architecture.md): :mod:`analysis.config` (reviewgap.toml) ->
:mod:`analysis.crawl` (runs the spiders into :mod:`analysis.store`) / :mod:`analysis.ingest`
(own feedback) -> :mod:`analysis.classify` (labels) -> :mod:`analysis.metrics` (pure pandas) ->
:mod:`analysis.report` (HTML, PDF, CSV, XLSX).
"""

__version__ = "0.1.0"
