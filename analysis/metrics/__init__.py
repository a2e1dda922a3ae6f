"""Market-gap metrics: pure pandas functions over tidy tables (one module per family).

Stage: analyse. In: store frames turned into tidy tables by :mod:`.frames`. Out: frames the
report (:mod:`analysis.report`) turns into plain data. Every module documents its columns and
the formula of each metric.
"""
