"""Scheduled ``reviewgap run`` end to end: incremental second run, since-last-run section,
alerts (webhook + SMTP), retention, a killed run taken over, a concurrent run refused.

The CLI runs in a subprocess (Scrapy's reactor starts once per process) against LocalServers
speaking the App Store RSS and lookup formats (synthetic payloads, tests/support), a local
webhook server and a local SMTP server (aiosmtpd).

Classifier: the shipped default model (bundled MiniLM + default heads) when its heads are in
the package; the plumbing-only tests (kill, lock) and the ``tiny`` variant use a tiny random
model built in a fixture, because their point is what gets classified, not how well.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from tests.support.apple_payloads import dumps, lookup_answer, pacific, rss_entry, rss_feed
from tests.support.server import LocalServer, Req, Resp

REPO = Path(__file__).resolve().parent.parent
APPS = {"acme": "1111111111", "rival": "2222222222"}
NAMES = {"acme": "Acme Notes", "rival": "Rival Pad"}


def rss_path(app_id: str) -> str:
    return rf"/us/rss/customerreviews/page=(\d+)/id={app_id}/sortby=mostrecent/json"


PHRASES = {
    "acme": ["Sync keeps failing and my notes vanish between phone and laptop.",
             "Love the editor, it is fast and clean.",
             "The app crashes every time I open a large notebook.",
             "Please add a dark mode, my eyes hurt at night.",
             "Support never answered my ticket about lost data."],
    "rival": ["Way too expensive for what it does, the subscription doubled.",
              "Great app, works perfectly every day.",
              "Login fails after the last update, I cannot get in.",
              "It is slow to load and the search lags.",
              "Wonderful design and very easy to use."],
}


def reviews(product: str, n: int, *, first_id: int, newest: datetime) -> list[dict[str, Any]]:
    """``n`` newest-first RSS entries with varied texts (seeded), ids descending."""
    rng = random.Random(f"{product}{first_id}")
    out = []
    for i in range(n):
        rid = first_id + n - i
        phrase = rng.choice(PHRASES[product])
        out.append(rss_entry(str(rid), rating=rng.randint(1, 5), title=f"Review {rid}",
                             text=f"{phrase} (review {rid})",
                             updated=pacific(newest - timedelta(hours=7 * i)),
                             app_id=APPS[product]))
    return out


class Store:
    """One fictional App Store: per-app feeds (50 per page) and lookups; page n >= slow_from
    waits for ``release`` (a crawl that is mid-way)."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.entries: dict[str, list[dict[str, Any]]] = {p: [] for p in APPS}
        self.average = {"acme": 4.5, "rival": 3.9}
        self.ratings = {"acme": 1200, "rival": 300}
        self.slow_from: int | None = None
        self.release = threading.Event()
        for product, app_id in APPS.items():
            server.route("GET", rss_path(app_id), self._page_handler(product))
        server.route("GET", "/lookup", self.lookup)

    def _page_handler(self, product: str) -> Any:
        def page(req: Req) -> Resp:
            n = int(req.path.split("page=")[1].split("/")[0])
            if self.slow_from is not None and n >= self.slow_from:
                self.release.wait(120)
            chunk = self.entries[product][(n - 1) * 50 : n * 50]
            return Resp(200, dumps(rss_feed(chunk or None, app_id=APPS[product])))
        return page

    def lookup(self, req: Req) -> Resp:
        app_id = req.query["id"][0]
        product = next(p for p, a in APPS.items() if a == app_id)
        return Resp(200, dumps(lookup_answer(app_id, name=NAMES[product],
                                             average=self.average[product],
                                             rating_count=self.ratings[product])))

    def rss_count(self, product: str) -> int:
        return self.server.count(rss_path(APPS[product]))


# -- classifier configuration ---------------------------------------------------------------


def default_heads_present() -> bool:
    from analysis.classify.heads import DEFAULT_HEADS_DIR

    return (DEFAULT_HEADS_DIR / "heads.npz").exists()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    pytest.importorskip("transformers")
    from analysis.classify.hub import resolve_model
    from tests.support.tiny_models import build_tiny_encoder, build_tiny_heads

    folder = tmp_path_factory.mktemp("tiny")
    enc = build_tiny_encoder(folder / "encoder")
    heads = build_tiny_heads(folder / "heads", resolve_model(str(enc), "x").id)
    return {"encoder": str(enc), "heads": str(heads)}


def write_config(folder: Path, *, products: tuple[str, ...] = ("acme", "rival"),
                 classification: dict[str, str] | None = None, webhook: str | None = None,
                 email_to: tuple[str, ...] = ()) -> Path:
    lines = ['[project]', 'workspace = "ws"', 'name = "Acme market gaps"', "",
             "[report]", "min_sample = 5", "", "[retention]", "raw_days = 30", ""]
    if classification:
        lines += ["[classification]"] + [f"{k} = {json.dumps(v)}"
                                         for k, v in classification.items()] + [""]
    if webhook or email_to:
        lines += ["[alerts]"]
        if webhook:
            lines.append(f"webhook_url = {json.dumps(webhook)}")
        if email_to:
            lines.append(f"email_to = {json.dumps(list(email_to))}")
        lines.append("")
    for p in products:
        lines += ["[[products]]", f'key = "{p}"', f'name = "{NAMES[p]}"',
                  f"ours = {'true' if p == 'acme' else 'false'}",
                  "[products.apple_app_store]", f'app_id = "{APPS[p]}"', 'countries = ["us"]',
                  ""]
    path = folder / "reviewgap.toml"
    path.write_text("\n".join(lines), "utf-8")
    return path


def run_cmd(config: Path, base: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "analysis", "run", "--config", str(config), *extra,
        "-s", f"REVIEWGAP_APPLE_RSS_BASE={base}", "-s", f"REVIEWGAP_APPLE_LOOKUP_BASE={base}",
        "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "REVIEWGAP_BACKOFF_BASE=0.01", "-s", "REVIEWGAP_STORE_BATCH=20",
    ]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWGAP_SMTP_")}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **extra}


def run(config: Path, base: str, *extra: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(run_cmd(config, base, *extra), cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False, env=env or child_env())


def db(folder: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(folder / "ws" / "reviewgap.sqlite")
    conn.row_factory = sqlite3.Row
    return conn


def query(folder: Path, sql: str, *args: Any) -> list[sqlite3.Row]:
    conn = db(folder)
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


def review_rows(folder: Path) -> set[tuple[Any, ...]]:
    return {tuple(r) for r in query(folder, "SELECT source, review_id, product, rating, title, "
                                    "text, published_at, content_hash FROM reviews")}


def last_run(folder: Path) -> dict[str, Any]:
    row = query(folder, "SELECT * FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1")[0]
    return {**dict(row), "stats": json.loads(row["stats_json"])}


# -- local webhook and SMTP servers ---------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def hook() -> Iterator[LocalServer]:
    with LocalServer() as srv:
        srv.route("POST", "/hook", (200, b"ok"))
        yield srv


def _section_text(html: str) -> str:
    """The visible text of the report's "Since last run" section."""
    match = re.search(r'<section[^>]*id="since-last-run".*?</section>', html, re.S)
    assert match, "the report has no since-last-run section"
    text = re.sub(r"<[^>]+>", " ", match.group(0))
    return re.sub(r"\s+", " ", text)


# -- the monthly scenario -------------------------------------------------------------------


def _monthly_scenario(tmp_path: Path, server: LocalServer, hook: LocalServer,
                      smtp: tuple[Inbox, int], classification: dict[str, str] | None) -> None:
    inbox, smtp_port = smtp
    shop = Store(server)
    t0 = datetime(2026, 9, 30, 12, 0, tzinfo=UTC)
    shop.entries["acme"] = reviews("acme", 60, first_id=10_000, newest=t0)
    shop.entries["rival"] = reviews("rival", 40, first_id=50_000, newest=t0)
    config = write_config(tmp_path, classification=classification,
                          webhook=f"{hook.base}/hook", email_to=("pm@example.org",))
    env = child_env(REVIEWGAP_SMTP_HOST="127.0.0.1", REVIEWGAP_SMTP_PORT=str(smtp_port),
                    REVIEWGAP_SMTP_FROM="reviewgap@example.org")

    first = run(config, server.base, env=env)
    assert first.returncode == 0, first.stderr[-3000:] + first.stdout[-3000:]
    assert (shop.rss_count("acme"), shop.rss_count("rival")) == (2, 1)  # 50 + 10; 40
    assert query(tmp_path, "SELECT COUNT(*) FROM classifications")[0][0] == 100
    assert hook.count("/hook") == 1
    assert len(inbox.messages) == 1

    # A month later: 15 + 5 new reviews; Acme's store rating dropped.
    t1 = t0 + timedelta(days=30)
    shop.entries["acme"] = reviews("acme", 15, first_id=20_000, newest=t1) + shop.entries["acme"]
    shop.entries["rival"] = reviews("rival", 5, first_id=60_000, newest=t1) + shop.entries[
        "rival"]
    shop.average["acme"], shop.ratings["acme"] = 4.1, 1350
    old_raw = tmp_path / "ws" / "raw" / "20200101T000000Z-dead"
    old_raw.mkdir(parents=True)
    (old_raw / "apple_app_store__acme.jsonl").write_text("{}\n")
    requests_before = {p: shop.rss_count(p) for p in APPS}
    lookups_before = server.count("/lookup")
    log_template = str(tmp_path / "ws" / "logs" / "run-{yyyymm}.log")

    second = run(config, server.base, "--log-file", log_template, env=env)
    assert second.returncode == 0, second.stderr[-3000:]

    # Fetched only what is new: page 1 of each feed holds stored reviews, so paging stops.
    assert {p: shop.rss_count(p) - requests_before[p] for p in APPS} == {"acme": 1, "rival": 1}
    assert server.count("/lookup") - lookups_before == 2
    assert server.unmatched == []
    stats = last_run(tmp_path)["stats"]
    assert stats["totals"]["new"] == 20
    # Classified only what is new.
    assert stats["classify"]["pending"] == 20
    assert stats["classify"]["classified"] == 20
    assert query(tmp_path, "SELECT COUNT(*) FROM classifications")[0][0] == 120
    assert stats["targets"]["apple_app_store:acme:us"]["new"] == 15
    assert stats["targets"]["apple_app_store:rival:us"]["new"] == 5

    since = stats["since_last_run"]
    assert since["new_reviews"] == [
        {"product": "Acme Notes", "new_reviews": 15, "total_reviews": 75},
        {"product": "Rival Pad", "new_reviews": 5, "total_reviews": 45}]
    acme_rating = [r for r in since["rating_changes"] if r["product"] == "Acme Notes"]
    assert acme_rating == [{"product": "Acme Notes", "store": "apple_app_store:acme:us",
                            "before": 4.5, "now": 4.1, "change": -0.4,
                            "ratings_before": 1200, "ratings_now": 1350}]

    # The report shows the section with those numbers.
    report = Path(last_run(tmp_path)["report_path"])
    html = report.with_suffix(".html").read_text("utf-8")
    section = _section_text(html)
    assert "Since last run" in section
    assert re.search(r"Acme Notes 15 75", section), section[:2000]
    assert re.search(r"Rival Pad 5 45", section), section[:2000]
    assert re.search(r"Acme Notes apple_app_store:acme:us 4\.5 4\.1 -0\.4 1200 1350", section)
    for change in since["need_changes"]:
        assert f"{change['count_before']} {change['count_since']}" in section
    if shutil.which("pdftotext"):
        pdf_text = subprocess.run(["pdftotext", "-layout", str(report), "-"],
                                  capture_output=True, text=True, check=True).stdout
        assert "Since last run" in pdf_text
        assert re.search(r"Acme Notes\s+15\s+75", pdf_text)

    # Exactly one digest per run, with the numbers.
    assert hook.count("/hook") == 2
    digest = json.loads(hook.requests[-1].body)
    assert set(digest) == {"text", "blocks"}
    assert "run " + last_run(tmp_path)["run_id"] + " OK" in digest["text"]
    assert "Acme Notes: 15 new (75 in total)" in digest["text"]
    assert "Rival Pad: 5 new (45 in total)" in digest["text"]
    assert "Acme Notes (apple_app_store:acme:us): 4.5 -> 4.1 (-0.4)" in digest["text"]
    assert len(inbox.messages) == 2
    mail = inbox.messages[-1].original_content.decode("utf-8")  # type: ignore[union-attr]
    assert "Acme Notes: 15 new (75 in total)" in mail
    assert inbox.messages[-1].rcpt_tos == ["pm@example.org"]
    assert [a["ok"] for a in stats["alerts"]] == [True, True]

    # Retention pruned the old raw folder and kept this run's.
    assert not old_raw.exists()
    assert stats["retention"]["removed"] == ["20200101T000000Z-dead"]
    assert (tmp_path / "ws" / "raw" / last_run(tmp_path)["run_id"]).is_dir()

    # --log-file: progress went to the month's log, not to the terminal.
    log = Path(log_template.replace("{yyyymm}", datetime.now().strftime("%Y%m"))).read_text()
    assert "since last run: 20 new review(s)" in log
    assert "since last run" not in second.stdout + second.stderr

    # reviewgap status: both runs ok, targets healthy.
    status = subprocess.run([sys.executable, "-m", "analysis", "status", "--config",
                             str(config)], cwd=REPO, capture_output=True, text=True,
                            timeout=120, check=True, env=child_env()).stdout
    assert len(re.findall(r" run +ok +", status)) == 2, status
    assert "new 20, classified 20" in status
    assert re.search(r"apple_app_store:acme:us +last completed \S+ +ok", status), status


@pytest.mark.skipif(not default_heads_present(),
                    reason="the default heads are not fitted into analysis/classify/default_heads "
                           "yet (python -m analysis.classify.fit_defaults)")
def test_monthly_runs_with_default_model(tmp_path: Path, server: LocalServer,
                                         hook: LocalServer, smtp: tuple[Inbox, int]) -> None:
    _monthly_scenario(tmp_path, server, hook, smtp, classification=None)


def test_monthly_runs_with_tiny_model(tmp_path: Path, server: LocalServer, hook: LocalServer,
                                      smtp: tuple[Inbox, int], tiny_model: dict[str, str]
                                      ) -> None:
    _monthly_scenario(tmp_path, server, hook, smtp, classification=tiny_model)


# -- killed run, concurrent run -------------------------------------------------------------


def _wait_for(predicate: Any, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except sqlite3.OperationalError:
            pass  # the store is being created
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _start(config: Path, base: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(run_cmd(config, base, *extra), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=child_env())


def _stored(folder: Path) -> int:
    path = folder / "ws" / "reviewgap.sqlite"
    return len(review_rows(folder)) if path.exists() else 0


def test_killed_run_is_taken_over_and_ends_like_a_clean_run(
    tmp_path: Path, server: LocalServer, tiny_model: dict[str, str]
) -> None:
    entries = reviews("acme", 230, first_id=10_000, newest=datetime(2026, 10, 30, tzinfo=UTC))
    clean_dir, killed_dir = tmp_path / "clean", tmp_path / "killed"
    clean_dir.mkdir()
    killed_dir.mkdir()
    with LocalServer() as clean_server:
        Store(clean_server).entries["acme"] = entries
        done = run(write_config(clean_dir, products=("acme",), classification=tiny_model),
                   clean_server.base, "--skip", "report")
        assert done.returncode == 0, done.stderr[-3000:]
    reference = review_rows(clean_dir)
    assert len(reference) == 230

    shop = Store(server)
    shop.entries["acme"] = entries
    shop.slow_from = 2  # page 1 arrives, page 2 hangs: the crawl is mid-way
    config = write_config(killed_dir, products=("acme",), classification=tiny_model)
    proc = _start(config, server.base, "--skip", "report")
    try:
        _wait_for(lambda: _stored(killed_dir) >= 40 and shop.rss_count("acme") >= 2,
                  "the first run to store page 1")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        shop.release.set()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    killed_id = query(killed_dir, "SELECT run_id FROM runs")[0][0]
    lock = json.loads((killed_dir / "ws" / "reviewgap.lock").read_text())
    assert (lock["pid"], lock["run_id"]) == (proc.pid, killed_id)  # left behind by the kill
    assert 0 < _stored(killed_dir) < 230

    shop.slow_from = None
    rerun = run(config, server.base, "--skip", "report")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"took over the stale lock of run {killed_id} (pid {proc.pid}" in rerun.stdout
    assert f"pid {proc.pid} is no longer running" in rerun.stdout
    assert review_rows(killed_dir) == reference
    uids = {r[0] for r in query(killed_dir, "SELECT uid FROM classifications")}
    assert uids == {r[0] for r in query(clean_dir, "SELECT uid FROM classifications")}
    assert len(uids) == 230
    runs = {r["run_id"]: r for r in query(killed_dir, "SELECT * FROM runs")}
    assert runs[killed_id]["status"] == "killed"
    assert "lock taken over by" in runs[killed_id]["error"]
    assert not (killed_dir / "ws" / "reviewgap.lock").exists()
    assert server.unmatched == []


def test_concurrent_run_is_refused_with_exit_1(tmp_path: Path, server: LocalServer) -> None:
    shop = Store(server)
    shop.entries["acme"] = reviews("acme", 120, first_id=10_000,
                                   newest=datetime(2026, 10, 30, tzinfo=UTC))
    shop.slow_from = 2
    config = write_config(tmp_path, products=("acme",))
    lock_path = tmp_path / "ws" / "reviewgap.lock"
    first = _start(config, server.base, "--skip", "classify", "--skip", "report")
    try:
        _wait_for(lambda: lock_path.exists() and shop.rss_count("acme") >= 2,
                  "the first run to hold the lock")
        holder = json.loads(lock_path.read_text())
        second = run(config, server.base, "--skip", "classify", "--skip", "report")
        assert second.returncode == 1
        assert "another reviewgap run is in progress" in second.stderr
        assert str(lock_path) in second.stderr
        assert f"run {holder['run_id']} (pid {first.pid} on {socket.gethostname()}" in \
            second.stderr
    finally:
        shop.release.set()
    _out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    # The refused run recorded nothing; the first one finished and released the lock.
    assert [r["status"] for r in query(tmp_path, "SELECT status FROM runs")] == ["ok"]
    assert not lock_path.exists()
    assert len(review_rows(tmp_path)) == 120
