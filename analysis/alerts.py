"""Alerts: a digest after each run, to a Slack-compatible webhook and/or by e-mail.

Stage: end of a run. In: the run's outcome (id, status, errors, report path), the
``since_last_run`` dict of :mod:`analysis.history`, the target health problems, the config's
``[alerts]`` (``webhook_url``, ``email_to``) and, for e-mail, the environment
(``REVIEWGAP_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_FROM``, ``_STARTTLS``; never
the config file, which is often committed). Out: one :class:`Delivery` per channel.

Delivery never fails the run: every error is logged and returned. Transient failures (network
errors, HTTP 429/5xx, SMTP 4xx, dropped connections) are retried a bounded number of times with
exponential backoff; permanent ones (HTTP 4xx, SMTP 5xx, bad credentials, no SMTP host) are not.
The webhook payload is ``{"text": ..., "blocks": [...]}`` (Slack's Block Kit; Mattermost,
Rocket.Chat and most chat webhooks read ``text``).
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from typing import Any

import attrs

from analysis.config import AlertsSection

logger = logging.getLogger(__name__)

ATTEMPTS = 4
"""Tries per channel (1 + 3 retries): a few minutes of outage is ridden out, no more."""
BACKOFF = 2.0
"""Seconds before the first retry; doubles each time (2, 4, 8), capped at :data:`MAX_WAIT`."""
MAX_WAIT = 60.0
TIMEOUT = 15.0
SECTION_LIMIT = 2900
"""Slack refuses a section text over 3000 characters."""

Sleep = Callable[[float], None]


@attrs.define
class Digest:
    """What an alert says, in plain text and in Slack blocks."""

    subject: str
    text: str
    blocks: list[dict[str, Any]]

    def webhook_payload(self) -> dict[str, Any]:
        return {"text": self.subject + "\n" + self.text, "blocks": self.blocks}


@attrs.define
class Delivery:
    """The outcome of one channel."""

    channel: str
    """``webhook`` or ``email``."""
    ok: bool
    attempts: int
    error: str | None = None


class PermanentError(Exception):
    """A delivery error that retrying cannot fix."""


# -- the digest ---------------------------------------------------------------------------


def build_digest(
    *,
    project: str,
    run_id: str,
    status: str,
    errors: Sequence[str] = (),
    report_path: str | None = None,
    since: Mapping[str, Any] | None = None,
    problems: Sequence[str] = (),
) -> Digest:
    """The digest of one run: headline, changes since last run, failures, report path.

    Args:
        project: the project/report title.
        run_id: the run.
        status: ``ok`` or ``failed``.
        errors: the run's stage errors.
        report_path: the PDF, when one was written.
        since: the :func:`analysis.history.since_last_run` dict, when computed.
        problems: target health problems (:func:`analysis.history.health_problems`).
    """
    subject = f"reviewgap: {project}: run {run_id} {'OK' if status == 'ok' else 'FAILED'}"
    parts: list[tuple[str, list[str]]] = []
    if since:
        parts.append(("Summary", [str(since.get("summary", ""))]))
        new = [f"{r['product']}: {r['new_reviews']} new ({r['total_reviews']} in total)"
               for r in since.get("new_reviews", [])]
        parts.append(("New reviews", new or ["none"]))
        changes = [
            f"{c['product']} / {c['need']}: {c['measure']} {c['before_pct']}% -> "
            f"{c['since_pct']}% ({c['change_pts']:+} pts; {c['count_before']} -> "
            f"{c['count_since']}; adjusted p {c['p_adjusted']})"
            for c in since.get("need_changes", [])
        ]
        parts.append(("Significant need changes", changes or ["none"]))
        themes = [f"{t['theme']} ({t['size']} sentences)" for t in since.get("new_themes", [])]
        if themes:
            parts.append(("New themes", themes))
        ratings = [
            f"{r['product']} ({r['store']}): {r['before']} -> {r['now']} ({r['change']:+})"
            for r in since.get("rating_changes", []) if r.get("change")
        ]
        if ratings:
            parts.append(("Store rating changes", ratings))
    failures = [*errors, *problems]
    parts.append(("Failures", failures or ["none"]))
    if report_path:
        parts.append(("Report", [report_path]))

    text = "\n\n".join(f"{title}:\n" + "\n".join(f"- {line}" for line in lines)
                       for title, lines in parts)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
    ]
    for title, lines in parts:
        body = f"*{_mrkdwn(title)}*\n" + "\n".join(f"• {_mrkdwn(line)}" for line in lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": _clip(body, SECTION_LIMIT)}})
    return Digest(subject=subject, text=text, blocks=blocks)


def _mrkdwn(text: str) -> str:
    """Escape the three characters Slack's mrkdwn requires escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- retries ------------------------------------------------------------------------------


def _with_retries(channel: str, send: Callable[[], None], *, attempts: int, backoff: float,
                  sleep: Sleep) -> Delivery:
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            send()
        except PermanentError as exc:
            logger.error("alert %s failed (not retried): %s", channel, exc)
            return Delivery(channel, ok=False, attempts=attempt, error=str(exc))
        except Exception as exc:  # transient by elimination: retried, never raised
            error = f"{type(exc).__name__}: {exc}"
            if attempt < attempts:
                wait = min(backoff * 2 ** (attempt - 1), MAX_WAIT)
                logger.warning("alert %s attempt %d/%d failed (%s); retrying in %.1fs",
                               channel, attempt, attempts, error, wait)
                sleep(wait)
        else:
            logger.info("alert %s delivered (attempt %d)", channel, attempt)
            return Delivery(channel, ok=True, attempts=attempt)
    logger.error("alert %s failed after %d attempts: %s", channel, attempts, error)
    return Delivery(channel, ok=False, attempts=attempts, error=error)


# -- webhook ------------------------------------------------------------------------------


def post_webhook(url: str, payload: dict[str, Any], *, attempts: int = ATTEMPTS,
                 backoff: float = BACKOFF, timeout: float = TIMEOUT,
                 sleep: Sleep = time.sleep) -> Delivery:
    """POST ``payload`` as JSON to ``url``; retries on network errors, 429 and 5xx."""
    if not url.lower().startswith(("https://", "http://")):
        # urllib would happily open file:// or ftp://; a webhook is HTTP(S) only.
        return _with_retries("webhook", _raise(PermanentError(
            f"alerts.webhook_url must be an http(s) URL, not {url.split(':', 1)[0]}:")),
            attempts=1, backoff=0, sleep=sleep)
    body = json.dumps(payload).encode("utf-8")

    def send() -> None:
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "reviewgap"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise  # transient: retried
            raise PermanentError(f"webhook answered HTTP {exc.code} {exc.reason}") from None

    return _with_retries("webhook", send, attempts=attempts, backoff=backoff, sleep=sleep)


def _raise(exc: Exception) -> Callable[[], None]:
    def send() -> None:
        raise exc

    return send


# -- e-mail -------------------------------------------------------------------------------


@attrs.define
class SmtpSettings:
    """SMTP server and credentials, from the environment only."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    sender: str = "reviewgap@localhost"
    starttls: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read ``REVIEWGAP_SMTP_*``; raise :class:`PermanentError` naming what is wrong."""
        env = os.environ if env is None else env
        host = env.get("REVIEWGAP_SMTP_HOST", "").strip()
        if not host:
            raise PermanentError("alerts.email_to is set but REVIEWGAP_SMTP_HOST is not")
        port_text = env.get("REVIEWGAP_SMTP_PORT", "").strip()
        starttls_text = env.get("REVIEWGAP_SMTP_STARTTLS", "").strip().lower()
        if starttls_text not in ("", "0", "1", "true", "false", "yes", "no"):
            raise PermanentError(f"REVIEWGAP_SMTP_STARTTLS={starttls_text!r}: use true or false")
        try:
            port = int(port_text) if port_text else 25
        except ValueError:
            raise PermanentError(f"REVIEWGAP_SMTP_PORT={port_text!r} is not a number") from None
        return cls(host=host, port=port, user=env.get("REVIEWGAP_SMTP_USER") or None,
                   password=env.get("REVIEWGAP_SMTP_PASSWORD") or None,
                   sender=env.get("REVIEWGAP_SMTP_FROM") or f"reviewgap@{socket.getfqdn()}",
                   starttls=starttls_text in ("1", "true", "yes"))


def send_email(to: Sequence[str], digest: Digest, *, env: Mapping[str, str] | None = None,
               attempts: int = ATTEMPTS, backoff: float = BACKOFF, timeout: float = TIMEOUT,
               sleep: Sleep = time.sleep) -> Delivery:
    """Send the digest as a plain-text e-mail; retries on dropped connections and SMTP 4xx."""
    try:
        smtp = SmtpSettings.from_env(env)
    except PermanentError as exc:
        return _with_retries("email", _raise(exc), attempts=1, backoff=0, sleep=sleep)
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = smtp.sender
    message["To"] = ", ".join(to)
    message.set_content(digest.text + "\n")

    def send() -> None:
        # Port 465 is TLS from the first byte (SMTPS); others start plain and may STARTTLS.
        cls = smtplib.SMTP_SSL if smtp.port == 465 else smtplib.SMTP
        try:
            with cls(smtp.host, smtp.port, timeout=timeout) as client:
                if smtp.starttls and cls is smtplib.SMTP:
                    client.starttls()
                if smtp.user:
                    client.login(smtp.user, smtp.password or "")
                client.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentError(f"SMTP login as {smtp.user!r} refused: {exc.smtp_code}"
                                 ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentError(f"SMTP refused recipients {sorted(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise PermanentError(f"SMTP error {exc.smtp_code}: {exc.smtp_error!r}"
                                     ) from None
            raise

    return _with_retries("email", send, attempts=attempts, backoff=backoff, sleep=sleep)


# -- both -------------------------------------------------------------------------------


def deliver(alerts: AlertsSection, digest: Digest, *, env: Mapping[str, str] | None = None,
            sleep: Sleep = time.sleep, attempts: int = ATTEMPTS,
            backoff: float = BACKOFF) -> list[Delivery]:
    """Send the digest on every configured channel; never raises (see module docstring)."""
    out: list[Delivery] = []
    if alerts.webhook_url:
        out.append(_guard("webhook", lambda: post_webhook(
            alerts.webhook_url or "", digest.webhook_payload(), attempts=attempts,
            backoff=backoff, sleep=sleep)))
    if alerts.email_to:
        out.append(_guard("email", lambda: send_email(
            alerts.email_to, digest, env=env, attempts=attempts, backoff=backoff, sleep=sleep)))
    return out


def _guard(channel: str, body: Callable[[], Delivery]) -> Delivery:
    try:
        return body()
    except Exception as exc:  # a bug in building the message must not fail the run either
        logger.exception("alert %s crashed", channel)
        return Delivery(channel, ok=False, attempts=0, error=f"{type(exc).__name__}: {exc}")
