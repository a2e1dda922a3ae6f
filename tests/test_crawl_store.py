"""``reviewgap crawl`` into the store: incremental re-crawls and a crawl killed with SIGKILL.

The CLI runs in a subprocess (Scrapy's reactor starts once per process) against a LocalServer
that speaks the App Store RSS and lookup formats (synthetic payloads, tests/support).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.apple_payloads import APP_ID, dumps, generated_reviews, lookup_answer, rss_feed
from tests.support.server import LocalServer, Req, Resp

REPO = Path(__file__).resolve().parent.parent
RSS_PATH = rf"/us/rss/customerreviews/page=(\d+)/id={APP_ID}/sortby=mostrecent/json"


class Feed:
    """A mutable newest-first review list served 50 per page; ``slow_from`` delays later pages."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self.entries = entries
        self.slow_from: int | None = None
        self.release = threading.Event()

    def page(self, req: Req) -> Resp:
        n = int(req.path.split("page=")[1].split("/")[0])
        if self.slow_from is not None and n >= self.slow_from:
            self.release.wait(60)
        chunk = self.entries[(n - 1) * 50 : n * 50]
        return Resp(200, dumps(rss_feed(chunk or None)))


def serve(server: LocalServer, feed: Feed) -> None:
    server.route("GET", RSS_PATH, feed.page)
    server.route("GET", "/lookup", Resp(200, dumps(lookup_answer())))


def write_config(tmp: Path) -> Path:
    path = tmp / "reviewgap.toml"
    path.write_text(
        f"""[project]\nworkspace = "ws"\n[[products]]\nkey = "acme"\nname = "Acme"\nours = true\n"""
        f"""[products.apple_app_store]\napp_id = "{APP_ID}"\ncountries = ["us"]\n""",
        "utf-8",
    )
    return path


def crawl_cmd(config: Path, base: str) -> list[str]:
    return [
        sys.executable, "-m", "analysis", "crawl", "--config", str(config),
        "-s", f"REVIEWGAP_APPLE_RSS_BASE={base}", "-s", f"REVIEWGAP_APPLE_LOOKUP_BASE={base}",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "REVIEWGAP_BACKOFF_BASE=0.01", "-s", "REVIEWGAP_STORE_BATCH=20",
    ]


def run_crawl(config: Path, base: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(crawl_cmd(config, base), cwd=REPO, capture_output=True, text=True,
                          timeout=180, check=False)


def store_rows(tmp: Path) -> set[tuple[str, str, str]]:
    conn = sqlite3.connect(tmp / "ws" / "reviewgap.sqlite")
    try:
        return set(conn.execute("SELECT source, review_id, content_hash FROM reviews"))
    finally:
        conn.close()


def test_second_crawl_fetches_only_what_is_new(tmp_path: Path, server: LocalServer) -> None:
    feed = Feed(generated_reviews(120))
    serve(server, feed)
    config = write_config(tmp_path)
    first = run_crawl(config, server.base)
    assert first.returncode == 0, first.stderr + first.stdout
    assert "120 new, 0 updated, 0 unchanged" in first.stdout
    assert server.count(RSS_PATH) == 3  # 50 + 50 + 20: the short page ends paging
    assert len(store_rows(tmp_path)) == 120

    newest = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    feed.entries = generated_reviews(30, first_id=20_000, newest=newest,
                                     step=timedelta(minutes=30)) + feed.entries
    before = server.count(RSS_PATH)
    second = run_crawl(config, server.base)
    assert second.returncode == 0, second.stderr + second.stdout
    # Page 1 now holds the 30 new reviews and 20 stored ones: paging stops there.
    assert server.count(RSS_PATH) - before == 1
    assert "30 new, 0 updated, 20 unchanged" in second.stdout
    assert len(store_rows(tmp_path)) == 150
    assert server.unmatched == []


def test_crawl_killed_mid_way_then_rerun_equals_a_clean_crawl(
    tmp_path: Path, server: LocalServer
) -> None:
    entries = generated_reviews(230)
    # Reference: a clean crawl of the same feed in its own workspace.
    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    with LocalServer() as clean_server:
        serve(clean_server, Feed(entries))
        done = run_crawl(write_config(clean_dir), clean_server.base)
        assert done.returncode == 0, done.stderr
    reference = store_rows(clean_dir)
    assert len(reference) == 230

    killed_dir = tmp_path / "killed"
    killed_dir.mkdir()
    feed = Feed(entries)
    feed.slow_from = 2  # page 1 arrives, page 2 hangs: the crawl is mid-way
    serve(server, feed)
    config = write_config(killed_dir)
    proc = subprocess.Popen(crawl_cmd(config, server.base), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            db = killed_dir / "ws" / "reviewgap.sqlite"
            if db.exists() and server.count(RSS_PATH) >= 2:
                try:
                    # Batches of 20 are committed: at least 40 of page 1's 50 are stored.
                    if len(store_rows(killed_dir)) >= 40:
                        break
                except sqlite3.OperationalError:
                    pass  # the schema is being created
            time.sleep(0.2)
        else:
            raise AssertionError("the crawl never reached page 2")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        feed.release.set()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    partial = store_rows(killed_dir)
    assert 0 < len(partial) < 230
    feed.slow_from = None
    rerun = run_crawl(config, server.base)
    assert rerun.returncode == 0, rerun.stderr + rerun.stdout
    # Page 1 holds reviews the killed crawl stored, but that crawl never completed the target:
    # the re-run must page past them to the end.
    assert store_rows(killed_dir) == reference
    assert server.unmatched == []
