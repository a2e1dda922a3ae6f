"""Alerts: the digest, webhook and SMTP delivery, bounded retries with backoff, never failing."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from analysis.alerts import (
    Delivery,
    Digest,
    SmtpSettings,
    build_digest,
    deliver,
    post_webhook,
    send_email,
)
from analysis.config import AlertsSection
from tests.support.server import LocalServer, Resp

SINCE: dict[str, Any] = {
    "summary": "12 new review(s); 1 significant need change(s) of 8 tested",
    "previous_run": "R1",
    "window": {},
    "new_reviews": [{"product": "Acme", "new_reviews": 12, "total_reviews": 112},
                    {"product": "Rival <b>", "new_reviews": 0, "total_reviews": 40}],
    "need_changes": [{"product": "Acme", "need": "Sync and data", "measure": "share of reviews",
                      "before_pct": 5.0, "since_pct": 40.0, "change_pts": 35.0,
                      "count_before": "5/100", "count_since": "40/100", "p_adjusted": 1e-07}],
    "new_themes": [{"theme": "dark / mode", "size": 9, "words": "dark, mode"}],
    "rating_changes": [{"product": "Acme", "store": "apple_app_store:acme:us", "before": 4.5,
                        "now": 4.2, "change": -0.3, "ratings_before": 1, "ratings_now": 2},
                       {"product": "Rival", "store": "apple_app_store:rival:us", "before": 3.0,
                        "now": 3.0, "change": 0.0, "ratings_before": 1, "ratings_now": 1}],
    "failures": [],
    "method": "m",
}


def _digest(**kw: Any) -> Digest:
    args: dict[str, Any] = {"project": "Acme gaps", "run_id": "R2", "status": "ok",
                            "since": SINCE, "report_path": "/ws/reports/r.pdf"}
    return build_digest(**{**args, **kw})


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_digest_lists_changes_and_failures() -> None:
    d = _digest(status="failed", errors=["crawl: 1 job(s) failed: google_play:acme"],
                problems=["apple_app_store:x:us: likely broken - no reviews"])
    assert d.subject == "reviewgap: Acme gaps: run R2 FAILED"
    assert "- Acme: 12 new (112 in total)" in d.text
    assert ("- Acme / Sync and data: share of reviews 5.0% -> 40.0% (+35.0 pts; 5/100 -> 40/100;"
            " adjusted p 1e-07)") in d.text
    assert "- dark / mode (9 sentences)" in d.text
    assert "- Acme (apple_app_store:acme:us): 4.5 -> 4.2 (-0.3)" in d.text
    assert "Rival (apple_app_store:rival:us)" not in d.text  # unchanged ratings are left out
    assert "- crawl: 1 job(s) failed: google_play:acme" in d.text
    assert "- apple_app_store:x:us: likely broken" in d.text
    assert "- /ws/reports/r.pdf" in d.text
    payload = d.webhook_payload()
    assert payload["blocks"][0] == {"type": "header", "text": {"type": "plain_text",
                                                               "text": d.subject}}
    sections = [b["text"]["text"] for b in payload["blocks"][1:]]
    assert all(b["type"] == "section" for b in payload["blocks"][1:])
    assert any("Rival &lt;b&gt;" in s for s in sections)  # mrkdwn escaped
    assert payload["text"].startswith(d.subject)


def test_digest_without_comparison_still_reports_failures() -> None:
    d = build_digest(project="P", run_id="R", status="failed", errors=["classify: boom"])
    assert "Failures:\n- classify: boom" in d.text
    assert "New reviews" not in d.text


def test_webhook_retries_5xx_with_backoff_then_delivers(server: LocalServer) -> None:
    server.route("POST", "/hook", [(503, b"busy"), (429, b"slow down"), (200, b"ok")])
    sleeps = Sleeps()
    result = post_webhook(f"{server.base}/hook", {"text": "hi"}, sleep=sleeps, backoff=0.5)
    assert result == Delivery("webhook", ok=True, attempts=3)
    assert sleeps == [0.5, 1.0]
    assert server.count("/hook", "POST") == 3
    assert [json.loads(r.body) for r in server.requests] == [{"text": "hi"}] * 3
    assert server.requests[0].headers["content-type"].startswith("application/json")


def test_webhook_4xx_is_not_retried(server: LocalServer) -> None:
    server.route("POST", "/hook", (404, b"no such hook"))
    sleeps = Sleeps()
    result = post_webhook(f"{server.base}/hook", {"text": "hi"}, sleep=sleeps)
    assert (result.ok, result.attempts, sleeps) == (False, 1, [])
    assert result.error == "webhook answered HTTP 404 Not Found"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_webhook_down_is_bounded_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    sleeps = Sleeps()
    result = post_webhook(f"http://127.0.0.1:{_closed_port()}/hook", {"text": "x"},
                          sleep=sleeps, attempts=4, backoff=2.0)
    assert (result.ok, result.attempts) == (False, 4)
    assert sleeps == [2.0, 4.0, 8.0]
    assert "Connection refused" in (result.error or "")
    assert "alert webhook failed after 4 attempts" in caplog.text


def test_webhook_refuses_non_http_urls(tmp_path: Any) -> None:
    result = post_webhook(f"file://{tmp_path}/x", {"text": "x"}, sleep=Sleeps())
    assert result.ok is False
    assert "must be an http(s) URL" in (result.error or "")


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _check_login(server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login, auth_data.password) == (b"ops", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _closed_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port,
                            authenticator=_check_login, auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _env(port: int, **extra: str) -> dict[str, str]:
    return {"REVIEWGAP_SMTP_HOST": "127.0.0.1", "REVIEWGAP_SMTP_PORT": str(port),
            "REVIEWGAP_SMTP_FROM": "reviewgap@example.org", **extra}


def test_email_is_delivered_with_login(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    digest = _digest()
    result = send_email(["a@example.org", "b@example.org"], digest,
                        env=_env(port, REVIEWGAP_SMTP_USER="ops",
                                 REVIEWGAP_SMTP_PASSWORD="s3cret"),
                        sleep=Sleeps())
    assert result == Delivery("email", ok=True, attempts=1)
    (envelope,) = inbox.messages
    assert envelope.rcpt_tos == ["a@example.org", "b@example.org"]
    assert envelope.mail_from == "reviewgap@example.org"
    message = message_from_bytes(envelope.original_content or b"")
    assert message["Subject"] == digest.subject
    assert "Acme / Sync and data: share of reviews 5.0% -> 40.0%" in message.get_payload()


def test_email_bad_password_is_permanent(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    sleeps = Sleeps()
    result = send_email(["a@example.org"], _digest(),
                        env=_env(port, REVIEWGAP_SMTP_USER="ops",
                                 REVIEWGAP_SMTP_PASSWORD="wrong"), sleep=sleeps)
    assert (result.ok, result.attempts, sleeps) == (False, 1, [])
    assert "SMTP login as 'ops' refused: 535" in (result.error or "")
    assert inbox.messages == []


def test_email_server_down_is_retried_then_given_up() -> None:
    sleeps = Sleeps()
    result = send_email(["a@example.org"], _digest(), env=_env(_closed_port()), sleep=sleeps,
                        attempts=3, backoff=1.0)
    assert (result.ok, result.attempts, sleeps) == (False, 3, [1.0, 2.0])


@pytest.mark.parametrize(
    ("env", "error"),
    [({}, "REVIEWGAP_SMTP_HOST is not"),
     ({"REVIEWGAP_SMTP_HOST": "h", "REVIEWGAP_SMTP_PORT": "x"}, "REVIEWGAP_SMTP_PORT='x'"),
     ({"REVIEWGAP_SMTP_HOST": "h", "REVIEWGAP_SMTP_STARTTLS": "maybe"}, "STARTTLS")],
)
def test_email_misconfiguration_is_reported(env: dict[str, str], error: str) -> None:
    result = send_email(["a@example.org"], _digest(), env=env, sleep=Sleeps())
    assert result.ok is False
    assert error in (result.error or "")


def test_smtp_settings_from_env() -> None:
    s = SmtpSettings.from_env({"REVIEWGAP_SMTP_HOST": "mail", "REVIEWGAP_SMTP_PORT": "587",
                               "REVIEWGAP_SMTP_STARTTLS": "true",
                               "REVIEWGAP_SMTP_PASSWORD": "pw"})
    assert (s.host, s.port, s.starttls, s.password) == ("mail", 587, True, "pw")
    assert "pw" not in repr(s)


def test_deliver_never_raises_and_reports_each_channel(
    server: LocalServer, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp
    server.route("POST", "/hook", (200, b"ok"))
    alerts = AlertsSection(webhook_url=f"{server.base}/hook", email_to=["a@example.org"])
    results = deliver(alerts, _digest(), env=_env(port), sleep=Sleeps())
    assert [(r.channel, r.ok) for r in results] == [("webhook", True), ("email", True)]
    assert server.count("/hook") == 1
    assert len(inbox.messages) == 1

    def crash(*_: Any, **__: Any) -> Delivery:
        raise RuntimeError("bug")

    monkeypatch.setattr("analysis.alerts.post_webhook", crash)
    results = deliver(alerts, _digest(), env={}, sleep=Sleeps())
    assert [(r.channel, r.ok, r.error) for r in results] == [
        ("webhook", False, "RuntimeError: bug"),
        ("email", False, "alerts.email_to is set but REVIEWGAP_SMTP_HOST is not")]


def test_deliver_nothing_configured() -> None:
    assert deliver(AlertsSection(), _digest()) == []


def test_webhook_accepts_any_2xx() -> None:
    with LocalServer() as srv:
        srv.route("POST", "/h", Resp(204, b""))
        assert post_webhook(f"{srv.base}/h", {"text": "x"}, sleep=Sleeps()).ok
