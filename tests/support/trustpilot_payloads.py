"""Synthetic Trustpilot pages for paging and fault tests (written for this project).

The shape follows the real pages in ``../shared/fixtures/raw/trustpilot/`` (a Next.js
``__NEXT_DATA__`` script with ``props.pageProps.{businessUnit, reviews, filters}``); the review
text is generated here, so nothing third-party is copied. :class:`FakeTrustpilot` answers the
``/review/<domain>`` route of :class:`tests.support.server.LocalServer` like the site does:
20 reviews a page, newest first, page 1 without a ``page`` parameter, a login redirect past
``anonymous_pages``.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from tests.support.server import Req, Resp

PER_PAGE = 20
HTML_TYPE = "text/html; charset=utf-8"

_WORDS = ("sync", "pricing", "support", "login", "speed", "export", "billing", "mobile app")


def review(index: int, published: datetime, *, reply: bool = False) -> dict[str, Any]:
    """One review object as ``__NEXT_DATA__`` carries it; ids are ``r0000``, ``r0001``, ..."""
    topic = _WORDS[index % len(_WORDS)]
    return {
        "id": f"r{index:04d}",
        "filtered": False,
        "pending": False,
        "text": f"Review number {index} is about {topic}.\nSecond line & more.",
        "rating": index % 5 + 1,
        "labels": {"verification": {"isVerified": index % 2 == 0}},
        "title": f"About {topic} #{index}",
        "likes": index % 3,
        "dates": {
            "experiencedDate": None,
            "publishedDate": published.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "updatedDate": None,
        },
        "consumer": {"id": f"c{index}", "displayName": f"Consumer {index}", "countryCode": "GB"},
        "reply": (
            {
                "message": f"Thanks for review {index}.",
                "updatedDate": None,
                "publishedDate": (published + timedelta(hours=2)).strftime(
                    "%Y-%m-%dT%H:%M:%S.000Z"
                ),
            }
            if reply
            else None
        ),
        "language": "en",
        "location": None,
    }


def next_data_page(props: dict[str, Any], *, title: str = "Acme Reviews") -> str:
    """An HTML page carrying ``props`` as ``__NEXT_DATA__.props.pageProps`` (plus JSON-LD)."""
    data = {
        "props": {"pageProps": props},
        "page": "/review/[businessUnit]",
        "buildId": "businessunitprofile-consumersite-test",
    }
    # Inside <script>, "</" must not appear raw; Next.js escapes it the same way.
    payload = json.dumps(data).replace("</", "<\\/")
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>{html.escape(title)}</title></head>'
        f'<body><div id="__next"><h1>{html.escape(title)}</h1></div>'
        f'<script id="__NEXT_DATA__" type="application/json">{payload}</script>'
        f"</body></html>"
    )


def review_page(
    domain: str, reviews: list[dict[str, Any]], page: int, total_pages: int, total_count: int
) -> str:
    """A complete review page (business unit, reviews, pagination, histogram)."""
    return next_data_page(
        {
            "pageUrl": f"https://www.trustpilot.com/review/{domain}",
            "businessUnit": {
                "id": "bu1",
                "displayName": "Acme",
                "identifyingName": domain,
                "numberOfReviews": total_count,
                "trustScore": 3.1,
                "stars": 3,
            },
            "reviews": reviews,
            "filters": {
                "pagination": {
                    "currentPage": page,
                    "perPage": PER_PAGE,
                    "totalCount": total_count,
                    "totalPages": total_pages,
                },
                "reviewStatistics": {
                    "ratings": {
                        "total": total_count,
                        "one": 5,
                        "two": 4,
                        "three": 3,
                        "four": 2,
                        "five": 1,
                    }
                },
            },
        }
    )


def login_redirect_page(domain: str, page: int) -> str:
    """The Next.js answer past the anonymous limit: ``pageProps.__N_REDIRECT`` to the login."""
    target = f"/users/connect?redirect=%2Freview%2F{domain}%3Fpage%3D{page}"
    return next_data_page({"__N_REDIRECT": target, "__N_REDIRECT_STATUS": 307})


def interstitial_page() -> str:
    """The bot-protection interstitial: HTTP 200 HTML without page data."""
    return (
        "<!DOCTYPE html><html><head><title>trustpilot.com</title></head><body>"
        "<h1>Verifying your connection...</h1>"
        "<p>Please wait while we verify your browser.</p></body></html>"
    )


def layout_changed_page() -> str:
    """Valid HTML with neither ``__NEXT_DATA__`` nor JSON-LD (a redesign)."""
    return (
        "<!DOCTYPE html><html><head><title>Acme Reviews</title></head><body>"
        '<main><article class="review-card"><p>Good product</p></article></main>'
        "</body></html>"
    )


@attrs.define
class FakeTrustpilot:
    """A company with ``n_reviews`` reviews, one every ``step`` back from ``newest``.

    ``login_as`` chooses how page ``anonymous_pages + 1`` refuses: ``"http"`` (a 307 to the
    login page, what a browser sees) or ``"next_data"`` (``pageProps.__N_REDIRECT``).
    """

    domain: str = "acme.example"
    n_reviews: int = 45
    newest: datetime = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
    step: timedelta = timedelta(days=1)
    anonymous_pages: int = 10
    login_as: str = "http"
    replies_every: int = 4
    pages_asked: list[int] = attrs.field(factory=list)

    @property
    def total_pages(self) -> int:
        return -(-self.n_reviews // PER_PAGE)

    def reviews(self) -> list[dict[str, Any]]:
        """All reviews, newest first."""
        return [
            review(i, self.newest - i * self.step, reply=i % self.replies_every == 0)
            for i in range(self.n_reviews)
        ]

    def page_reviews(self, page: int) -> list[dict[str, Any]]:
        return self.reviews()[(page - 1) * PER_PAGE : page * PER_PAGE]

    def __call__(self, req: Req) -> Resp:
        """The route handler for ``/review/<domain>``."""
        if req.query.get("languages") != ["all"] or req.query.get("sort") != ["recency"]:
            return Resp(400, "missing languages=all&sort=recency", content_type="text/plain")
        if req.query.get("page") == ["1"]:
            return Resp(
                400, "page=1 resets the filters; the spider must omit it", content_type="text/plain"
            )
        page = int(req.query.get("page", ["1"])[0])
        self.pages_asked.append(page)
        if page > self.anonymous_pages:
            if self.login_as == "http":
                location = f"/users/connect?redirect=%2Freview%2F{self.domain}%3Fpage%3D{page}"
                return Resp(307, "", headers={"Location": location}, content_type=HTML_TYPE)
            return Resp(200, login_redirect_page(self.domain, page), content_type=HTML_TYPE)
        if page > self.total_pages:
            return Resp(404, "no such page", content_type=HTML_TYPE)
        body = review_page(
            self.domain, self.page_reviews(page), page, self.total_pages, self.n_reviews
        )
        return Resp(200, body, content_type=HTML_TYPE)
