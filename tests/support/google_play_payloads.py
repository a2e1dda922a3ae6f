"""Synthetic Google Play ``batchexecute`` answers for paging and fault tests (written by us).

Builders of the wire format described in ``research/scrapers.md`` §2: review arrays, envelopes
(plain and length-prefixed framing), the ``PlayDataError`` error envelope, and a decoder of the
``f.req`` form body the spider sends. :class:`PlayReviewsEndpoint` is a LocalServer handler that
pages through a generated corpus by token and can inject seeded faults.

Everything here is generated; no third-party review text. The decoder is written independently
of :mod:`spiders.pages.google_play` so that tests check the spider's requests, not echo them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import attrs

from tests.support.server import Req, Resp

RPC = "UsvDTd"
PLAY_DATA_ERROR = (
    "type.googleapis.com/wireless.android.finsky.boq.web.data.store.error.PlayDataError"
)
T0 = 1_780_000_000  # 2026-05-28T20:26:40Z: newest generated review


def review_array(review_id: str, rating: int, text: str | None, seconds: int, *,
                 helpful: int = 0, version: str | None = None,
                 reply: tuple[str, int] | None = None, nanos: int = 0) -> list[Any]:
    """One review as Play encodes it (17 slots; author slots hold a made-up name)."""
    arr: list[Any] = [None] * 17
    arr[0] = review_id
    arr[1] = ["Generated Reviewer", [None, 2, None, [None, None, "https://example.invalid/a.png"]]]
    arr[2] = rating
    arr[4] = text
    arr[5] = [seconds, nanos]
    arr[6] = helpful
    arr[7] = None if reply is None else ["Dev Team", reply[0], [reply[1], 0]]
    arr[9] = ["1234567890", "Generated Reviewer", None, None]
    arr[10] = version
    arr[16] = 1
    return arr


def envelope(payload_json: str | None, *, chunked: bool = False,
             error: bool = False) -> bytes:
    """A batchexecute body around a payload JSON string (``None`` + ``error`` = error row)."""
    if error:
        row: list[Any] = ["wrb.fr", RPC, None, None, None, [5, None, [[PLAY_DATA_ERROR, [1]]]],
                          "generic"]
    else:
        row = ["wrb.fr", RPC, payload_json, None, None, None, "generic"]
    chunks = [[row, ["di", 42], ["af.httprm", 41, "-1", 7]]]
    if not chunked:
        return b")]}'\n\n" + json.dumps(chunks[0], separators=(",", ":")).encode()
    # Older framing: each array preceded by its length on a line of its own.
    parts = [json.dumps([r], separators=(",", ":")) for r in chunks[0]]
    return b")]}'\n\n" + "".join(f"{len(p.encode())}\n{p}\n" for p in parts).encode()


def reviews_body(reviews: list[list[Any]], token: str | None, *, chunked: bool = False) -> bytes:
    """A page of reviews with the continuation token (None on the last page)."""
    payload = [reviews, [None, token] if token else None]
    return envelope(json.dumps(payload, separators=(",", ":")), chunked=chunked)


def empty_body() -> bytes:
    """The ``"[]"`` payload: unknown app or no reviews in that language."""
    return envelope("[]")


def error_body() -> bytes:
    """The intermittent ``PlayDataError`` envelope inside an HTTP 200."""
    return envelope(None, error=True)


@attrs.frozen
class PlayQuery:
    """What a reviews POST asked for, decoded from its ``f.req`` form field."""

    rpc: str
    package: str
    sort: int
    count: int
    token: str | None
    hl: str | None
    gl: str | None
    cookie: str


def decode_query(req: Req) -> PlayQuery:
    """Decode a batchexecute POST (form body ``f.req=...``); ValueError when it is not one."""
    form = parse_qs(req.body.decode("utf-8"), strict_parsing=True)
    outer = json.loads(form["f.req"][0])
    rpc, inner_json = outer[0][0][0], outer[0][0][1]
    inner = json.loads(inner_json)
    sort, (count, _, token) = inner[2][1], inner[2][2]
    return PlayQuery(rpc=rpc, package=inner[3][0], sort=sort, count=count, token=token,
                     hl=(req.query.get("hl") or [None])[0], gl=(req.query.get("gl") or [None])[0],
                     cookie=req.headers.get("cookie", ""))


def make_corpus(n: int, *, seed: int = 7, newest: int = T0, step: int = 3600) -> list[list[Any]]:
    """``n`` generated reviews, newest first, one per ``step`` seconds; ids ``r00000``..."""
    rng = random.Random(seed)
    words = ["sync", "crash", "slow", "love", "price", "login", "update", "offline"]
    out = []
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(2, 12)))
        reply = ("Thanks for the feedback", newest - i * step + 60) if i % 4 == 0 else None
        out.append(review_array(f"r{i:05d}", rng.randint(1, 5), text, newest - i * step,
                                helpful=rng.randint(0, 9), version=f"1.{i % 7}.0", reply=reply))
    return out


class PlayReviewsEndpoint:
    """LocalServer handler serving a corpus page by page: token ``tok-<offset>``.

    Honours the requested count up to ``max_page`` (Google cuts at ~150). ``faults`` is the
    share of answers replaced (seeded) by 429, 503, a truncated body or an error envelope.
    Every decoded query is kept in :attr:`queries`; a token it never issued is recorded in
    :attr:`problems` (tests assert it stays empty) and answered with 400.
    """

    FAULTS: tuple[str, ...] = ("429", "503", "truncated", "play_data_error")

    def __init__(self, corpus: list[list[Any]], *, max_page: int = 150, faults: float = 0.0,
                 seed: int = 1, fault_kinds: tuple[str, ...] = FAULTS,
                 on_page: Callable[[int, PlayQuery], dict[str, str]] | None = None) -> None:
        self.corpus = corpus
        self.max_page = max_page
        self.faults = faults
        self.fault_kinds = fault_kinds
        self.rng = random.Random(seed)
        self.on_page = on_page
        self.queries: list[PlayQuery] = []
        self.injected: list[str] = []
        self.problems: list[str] = []

    def __call__(self, req: Req) -> Resp:
        query = decode_query(req)
        self.queries.append(query)
        if self.faults and self.rng.random() < self.faults:
            kind = self.rng.choice(self.fault_kinds)
            self.injected.append(kind)
            return self._fault(kind, query)
        offset = 0
        if query.token is not None:
            if not query.token.startswith("tok-"):
                self.problems.append(f"unknown token {query.token!r}")
                return Resp(400, b"bad token", content_type="text/plain")
            offset = int(query.token[4:])
        size = min(query.count, self.max_page)
        page = self.corpus[offset:offset + size]
        more = offset + size < len(self.corpus)
        headers = self.on_page(offset // max(size, 1), query) if self.on_page else {}
        return Resp(200, reviews_body(page, f"tok-{offset + size}" if more else None),
                    headers=headers)

    def _fault(self, kind: str, query: PlayQuery) -> Resp:
        if kind == "429":
            return Resp(429, b"slow down", headers={"Retry-After": "0"}, content_type="text/plain")
        if kind == "503":
            return Resp(503, b"unavailable", content_type="text/plain")
        if kind == "play_data_error":
            return Resp(200, error_body())
        full = reviews_body(self.corpus[:3], "tok-3")
        return Resp(200, full[: len(full) // 2])  # truncated mid-JSON
