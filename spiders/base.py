"""Base class for reviewgap spiders: typed arguments, stop conditions, counted stats.

A concrete spider declares ``name``, a pydantic ``Params`` model (its ``-a`` arguments) and does
navigation only; parsing lives in :mod:`spiders.pages`. This class gives it:

* argument validation (a typo or a bad value raises ``ValueError`` naming the argument);
* the incremental stop: :meth:`ReviewSpider.keep_paging` says whether to fetch the next page after
  the spider has emitted a page's reviews (stop at a review id stored by a completed crawl, at a
  review older than ``since``, or at ``max_pages``);
* stats under ``reviewgap/``: per target pages and reviews, errors by kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pydantic
import scrapy
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from spiders.pages import PageFormatError


class CommonParams(pydantic.BaseModel):
    """Arguments every spider takes (``-a key=value``)."""

    model_config = pydantic.ConfigDict(extra="forbid", str_strip_whitespace=True)

    product: str | None = None
    """Product key from reviewgap.toml; defaults to the app id / domain."""
    since: str | None = None
    """ISO date: reviews published before it are not fetched (paging stops there)."""
    known_ids: str | None = None
    """Path to a file of review ids (one per line) stored by a completed crawl of the target."""
    max_pages: int | None = pydantic.Field(default=None, ge=1)
    """Pages per target at most (default: as far as the source allows)."""


def split_list(value: Any) -> Any:
    """``"us,gb"`` -> ``["us", "gb"]``; lists pass through (for pydantic ``mode="before"``)."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


class ReviewSpider(scrapy.Spider):
    """Shared behaviour of every review spider (see the module docstring)."""

    Params: ClassVar[type[CommonParams]] = CommonParams
    params: CommonParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args)
        try:
            self.params = self.Params.model_validate(kwargs)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"-a {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"spider {self.name}: bad arguments: {problems}") from exc
        self.product = self.params.product or self.default_product()
        self.since_iso = _since_iso(self.params.since)
        self.known: frozenset[str] = _read_known(self.params.known_ids)
        self.pages_seen: dict[str, int] = {}

    def default_product(self) -> str:
        """Product key when ``-a product`` is absent (the spider's main id)."""
        return self.name

    # -- helpers for subclasses ------------------------------------------------------------

    def now_iso(self) -> str:
        """Download time, ISO UTC; ``REVIEWGAP_FIXED_NOW`` pins it for tests and the demo."""
        fixed = self.settings.get("REVIEWGAP_FIXED_NOW") if hasattr(self, "settings") else None
        if fixed:
            return str(fixed)
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def setting(self, key: str) -> str:
        """A base-URL setting with any trailing slash removed."""
        return str(self.settings.get(key)).rstrip("/")

    def count(self, key: str, n: int = 1) -> None:
        """Increment stat ``reviewgap/<key>``."""
        if self.crawler and self.crawler.stats:
            self.crawler.stats.inc_value(f"reviewgap/{key}", n)

    def page_limit(self) -> int | None:
        """Max pages per target: ``-a max_pages``, else ``REVIEWGAP_MAX_PAGES`` (0 = no limit)."""
        if self.params.max_pages:
            return self.params.max_pages
        setting = self.settings.getint("REVIEWGAP_MAX_PAGES", 0) if hasattr(self, "settings") else 0
        return setting or None

    def emit(self, target: str, items: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Yield a page's review items, counting them; record what the stop rule needs.

        Reviews older than ``since`` are not yielded. After iterating, call
        :meth:`keep_paging` with the same target.
        """
        self.pages_seen[target] = self.pages_seen.get(target, 0) + 1
        self.count(f"{target}/pages")
        state = self._page_state.setdefault(target, {"known": False, "old": False})
        state["known"] = False
        state["old"] = False
        for item in items:
            published = item.get("published_at")
            if self.since_iso and published and published < self.since_iso:
                state["old"] = True
                self.count(f"{target}/skipped_before_since")
                continue
            if item["review_id"] in self.known:
                state["known"] = True
            self.count(f"{target}/reviews")
            yield item

    @property
    def _page_state(self) -> dict[str, dict[str, bool]]:
        if not hasattr(self, "_page_state_store"):
            self._page_state_store: dict[str, dict[str, bool]] = {}
        return self._page_state_store

    def keep_paging(self, target: str) -> bool:
        """Whether to fetch the next page of ``target`` after the page just emitted."""
        state = self._page_state.get(target, {})
        if state.get("known"):
            self.logger.info("%s: reached reviews stored by the last completed crawl", target)
            self.count(f"{target}/stopped_at_known")
            return False
        if state.get("old"):
            self.logger.info("%s: reached reviews older than since=%s", target, self.since_iso)
            return False
        limit = self.page_limit()
        if limit is not None and self.pages_seen.get(target, 0) >= limit:
            self.logger.info("%s: reached max_pages=%d", target, limit)
            return False
        return True

    def fail(
        self, target: str, kind: str, message: str, *args: Any, count_global: bool = True
    ) -> None:
        """Log an error for ``target``, count it and mark the crawl failed (exit non-zero).

        Counts ``reviewgap/<target>/errors/<kind>`` and, unless ``count_global`` is False (the
        retry middleware already counted it), ``reviewgap/errors/<kind>``.
        """
        self.logger.error("%s: " + message, target, *args)
        if count_global:
            self.count(f"errors/{kind}")
        self.count(f"{target}/errors/{kind}")
        if self.crawler and self.crawler.stats:
            self.crawler.stats.set_value("reviewgap/failed", True)

    def format_error(self, target: str, error: PageFormatError) -> None:
        """Log and count a page that no longer parses (the site changed); the target stops."""
        self.count("page_format_errors")
        self.fail(target, "page_format", "page format error: %s", error, count_global=False)


def failure_text(failure: Failure) -> str:
    """A failed request's cause in a few words: ``HTTP 503`` or ``TimeoutError: ...``."""
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{type(failure.value).__name__}: {failure.value}"


def _since_iso(since: str | None) -> str | None:
    if not since:
        return None
    try:
        dt = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"-a since: {since!r} is not an ISO date (YYYY-MM-DD)") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_known(path: str | None) -> frozenset[str]:
    if not path:
        return frozenset()
    p = Path(path)
    if not p.exists():
        raise ValueError(f"-a known_ids: file {path} does not exist")
    return frozenset(line.strip() for line in p.read_text("utf-8").splitlines() if line.strip())
