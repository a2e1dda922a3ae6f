"""HTML -> PDF with WeasyPrint, fetching nothing but our own template assets.

Stage: report (last step). In: the rendered HTML, the template folders, a fixed timestamp. Out:
the PDF file.

Safety: :class:`RestrictedFetcher` serves ``file:`` URLs that resolve inside the template
folders and ``data:`` URIs; anything else (http, https, ftp, ``file:`` elsewhere such as
``/etc/passwd``) is refused and the refusal logged, so a hostile review can neither reach the
network nor read local files even if markup slipped past escaping.

Reproducibility: the PDF identifier is derived from the HTML (sha256) and the document dates
come from ``<meta name="dcterms.created">`` in the HTML (the report's own time), so the same
data and time give the same bytes (as ``SOURCE_DATE_EPOCH`` would).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)


class FetchRefused(ValueError):
    """A resource outside the allowed folders was asked for."""


class RestrictedFetcher(URLFetcher):
    """A WeasyPrint URL fetcher limited to files under ``roots`` and ``data:`` URIs."""

    def __init__(self, roots: list[Path]) -> None:
        super().__init__(timeout=1, allowed_protocols={"file", "data"}, allow_redirects=False)
        self.roots = [r.resolve() for r in roots]
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if any(path.is_relative_to(root) for root in self.roots) and path.is_file():
                return URLFetcherResponse(url, path.read_bytes(), status=200)
        self.refused.append(url)
        log.warning("report: refused to fetch %s (only template assets are allowed)", url)
        raise FetchRefused(f"refused to fetch {url}")


@contextmanager
def source_date_epoch(epoch: int | None) -> Iterator[None]:
    """Set ``$SOURCE_DATE_EPOCH`` while rendering: fontTools stamps the font subsets it embeds
    with the current time unless it is set, which would change the bytes on every run."""
    if epoch is None:
        yield
        return
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(int(epoch))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


def write_pdf(html: str, out: Path, *, roots: list[Path], epoch: int | None = None) -> list[str]:
    """Render ``html`` to ``out``; relative URLs resolve in ``roots[0]``.

    ``epoch`` (seconds, the report time) fixes the timestamps inside embedded fonts.

    Returns:
        The URLs that were refused (also logged), for the caller's summary.
    """
    fetcher = RestrictedFetcher(roots)
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    doc = weasyprint.HTML(string=html, base_url=str(roots[0]) + "/", url_fetcher=fetcher)
    out.parent.mkdir(parents=True, exist_ok=True)
    with source_date_epoch(epoch):
        doc.write_pdf(str(out), pdf_identifier=identifier, custom_metadata=False)
    return fetcher.refused
