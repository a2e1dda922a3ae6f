"""Crawl stage of reviewgap: a Scrapy project with one spider per review source.

What goes in: spider arguments (``-a product=KEY -a app_id=...``) and ``REVIEWGAP_*`` settings.
What comes out: review items and ``app_meta`` items as plain dicts (see :mod:`spiders.items`).

This package never imports :mod:`analysis`; the store pipeline is injected by
``analysis.crawl`` through settings.

Adding a source:

1. ``spiders/pages/<source>.py``: pure parser functions (bytes in, items out; raise
   :class:`spiders.pages.PageFormatError` when the layout is not what it expects).
2. ``spiders/sources/<source>.py``: a :class:`spiders.base.ReviewSpider` subclass with a pydantic
   ``Params`` model; navigation only.
3. A ``REVIEWGAP_<SOURCE>_BASE`` setting in :mod:`spiders.settings` for each endpoint host.
4. Tests against the local replay server, and a row in the README's source table.
"""
