"""The market-gap report: metrics -> plain context -> Jinja2 HTML -> WeasyPrint PDF, CSV, XLSX.

Stage: report. Entry point: :func:`analysis.report.build.build_report`.
"""
