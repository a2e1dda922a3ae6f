"""A threaded HTTP server on 127.0.0.1 (port 0) that answers from a route table.

Tests point the spiders' ``REVIEWGAP_*_BASE`` settings at :attr:`LocalServer.base`. Every request
is recorded in :attr:`LocalServer.requests`; a request no route answers gets status 599 and is
recorded in :attr:`LocalServer.unmatched`, so a test can assert the crawl asked only for what it
should (``assert server.unmatched == []``).

A route is ``(method, path_regex) -> handler``; the handler gets a :class:`Req` and returns a
:class:`Resp`, a ``(status, body)`` tuple, or a list of those to answer in turn (the last one
repeats), which is how tests script "503 twice, then 200".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs


@attrs.define
class Req:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def url_path(self) -> str:
        return self.path


@attrs.define
class Resp:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = attrs.field(factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def as_bytes(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


Handler = Callable[[Req], Any]


class LocalServer:
    """See the module docstring. Use as a context manager or call :meth:`start`/:meth:`stop`."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[Req] = []
        self.unmatched: list[str] = []
        self._scripts: dict[int, list[Any]] = {}
        self._lock = threading.Lock()
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                req = Req(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                          {k.lower(): v for k, v in self.headers.items()}, body)
                resp = server.dispatch(req, self.path)
                data = resp.as_bytes()
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, method: str, path_regex: str, handler: Handler | Any) -> None:
        """Answer ``method`` requests whose path (no query) fully matches ``path_regex``.

        ``handler`` is a callable, a :class:`Resp`, a ``(status, body)`` tuple, or a list of
        those answered in turn (the last repeats).
        """
        self.routes.append((method.upper(), re.compile(path_regex), handler))

    def dispatch(self, req: Req, raw_path: str) -> Resp:
        with self._lock:
            self.requests.append(req)
        for i, (method, pattern, handler) in enumerate(self.routes):
            if method == req.method and pattern.fullmatch(req.path):
                answer = handler
                if isinstance(handler, list):
                    with self._lock:
                        queue = self._scripts.setdefault(i, list(handler))
                        answer = queue.pop(0) if len(queue) > 1 else queue[0]
                if callable(answer) and not isinstance(answer, Resp):
                    answer = answer(req)
                return _as_resp(answer)
        if req.path == "/robots.txt":  # no robots.txt unless a test routes one: allowed
            return Resp(404, b"", content_type="text/plain")
        with self._lock:
            self.unmatched.append(f"{req.method} {raw_path}")
        return Resp(599, b"no route", content_type="text/plain")

    def count(self, path_regex: str, method: str | None = None) -> int:
        """How many requests matched ``path_regex`` (and ``method``)."""
        pat = re.compile(path_regex)
        return sum(
            1 for r in self.requests
            if pat.fullmatch(r.path) and (method is None or r.method == method.upper())
        )

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _as_resp(answer: Any) -> Resp:
    if isinstance(answer, Resp):
        return answer
    if isinstance(answer, tuple):
        status, body, *rest = answer
        headers = rest[0] if rest else {}
        return Resp(status=status, body=body, headers=headers)
    if answer is None:
        return Resp(404, b"not found", content_type="text/plain")
    return Resp(200, answer)
