"""Synthetic Apple App Store payloads for tests: RSS feed pages, lookup answers, web-API pages.

Written by us in the shapes documented in ``research/scrapers.md`` section 1 (and seen in the
real samples under ``../shared/fixtures/raw/appstore_rss``); the review texts are generated, no
third-party text. Builders return plain dicts; :func:`dumps` makes a response body.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

APP_ID = "1234567890"
"""A fictional app id used throughout the Apple tests."""
PACIFIC = timezone(timedelta(hours=-7))
"""The offset Apple's feed dates carry in summer (PDT)."""


def dumps(payload: Any) -> bytes:
    """A response body (UTF-8 JSON)."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def pacific(dt: datetime) -> str:
    """``dt`` written as Apple writes feed dates: ISO 8601 with the -07:00 Pacific offset."""
    return dt.astimezone(PACIFIC).isoformat(timespec="seconds")


def rss_entry(
    review_id: str,
    rating: int = 4,
    *,
    title: str = "A title",
    text: str = "Some review text",
    updated: str | None = "2026-10-01T10:00:00-07:00",
    version: str | None = "1.0.0",
    vote_sum: int = 0,
    vote_count: int = 0,
    cc: str = "us",
    app_id: str = APP_ID,
) -> dict[str, Any]:
    """One review entry of the RSS JSON feed (every value wrapped in ``{"label": ...}``)."""
    entry: dict[str, Any] = {
        "author": {"uri": {"label": f"https://itunes.apple.com/{cc}/reviews/id1"},
                   "name": {"label": "Synthetic Reviewer"}, "label": ""},
        "im:rating": {"label": str(rating)},
        "id": {"label": review_id},
        "title": {"label": title},
        "content": {"label": text, "attributes": {"type": "text"}},
        "link": {"attributes": {"rel": "related",
                                "href": f"https://itunes.apple.com/{cc}/review?id={app_id}"}},
        "im:voteSum": {"label": str(vote_sum)},
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "im:voteCount": {"label": str(vote_count)},
    }
    if updated is not None:
        entry["updated"] = {"label": updated}
    if version is not None:
        entry["im:version"] = {"label": version}
    return entry


def app_entry(app_id: str = APP_ID, name: str = "Synthetic App") -> dict[str, Any]:
    """The app-metadata entry pre-2019 feeds put first (``im:name``, no ``im:rating``)."""
    return {
        "im:name": {"label": name},
        "im:price": {"label": "Get", "attributes": {"amount": "0.00", "currency": "USD"}},
        "id": {"label": f"https://itunes.apple.com/us/app/id{app_id}",
               "attributes": {"im:id": app_id}},
    }


def rss_feed(
    entries: list[dict[str, Any]] | dict[str, Any] | None,
    *,
    cc: str = "us",
    app_id: str = APP_ID,
) -> dict[str, Any]:
    """A feed envelope; ``entries`` None leaves ``entry`` out (Apple's empty answer)."""
    self_url = f"https://itunes.apple.com/{cc}/rss/customerreviews/id={app_id}/sortby=mostrecent/json"
    feed: dict[str, Any] = {
        "author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/itunes/"}},
        "updated": {"label": "2026-10-31T00:00:00-07:00"},
        "rights": {"label": "Copyright 2008 Apple Inc."},
        "title": {"label": "iTunes Store: Customer Reviews"},
        "icon": {"label": "http://itunes.apple.com/favicon.ico"},
        "link": [{"attributes": {"rel": "self", "href": self_url}}],
        "id": {"label": self_url},
    }
    if entries is not None:
        feed["entry"] = entries
    return {"feed": feed}


def generated_reviews(
    n: int,
    *,
    first_id: int = 10_000,
    newest: datetime = datetime(2026, 10, 30, 12, 0, tzinfo=UTC),
    step: timedelta = timedelta(hours=5),
    cc: str = "us",
) -> list[dict[str, Any]]:
    """``n`` RSS entries, newest first, ids descending, ratings cycling 1..5, ``step`` apart."""
    return [
        rss_entry(
            str(first_id + n - i),
            rating=1 + i % 5,
            title=f"Generated title {first_id + n - i}",
            text=f"Generated review number {first_id + n - i} about sync and pricing.",
            updated=pacific(newest - i * step),
            version=f"2.{i % 3}.0",
            vote_sum=i % 4,
            vote_count=i % 7,
            cc=cc,
        )
        for i in range(n)
    ]


def lookup_answer(
    app_id: str = APP_ID,
    *,
    name: str = "Synthetic App",
    average: float | None = 4.5,
    rating_count: int | None = 1234,
    found: bool = True,
) -> dict[str, Any]:
    """An iTunes Lookup answer; ``rating_count`` None omits the key (as Apple does at 0 ratings)."""
    if not found:
        return {"resultCount": 0, "results": []}
    result: dict[str, Any] = {
        "wrapperType": "software", "kind": "software", "trackId": int(app_id), "trackName": name,
        "trackViewUrl": f"https://apps.apple.com/us/app/synthetic/id{app_id}?uo=4",
        "version": "2.1.0",
    }
    if average is not None:
        result["averageUserRating"] = average
    if rating_count is not None:
        result["userRatingCount"] = rating_count
    return {"resultCount": 1, "results": [result]}


def web_review(
    review_id: str,
    rating: int = 3,
    *,
    date: str = "2026-10-03T12:26:58Z",
    title: str = "Web title",
    review: str = "Web review body",
    reply: str | None = None,
    reply_modified: str = "2026-10-04T08:00:00Z",
) -> dict[str, Any]:
    """One review of the apps.apple.com web API (``data[]`` element)."""
    attributes: dict[str, Any] = {
        "date": date, "rating": rating, "title": title, "review": review,
        "userName": "Synthetic Reviewer", "isEdited": False,
    }
    if reply is not None:
        attributes["developerResponse"] = {"id": 1, "body": reply, "modified": reply_modified}
    return {"id": review_id, "type": "user-reviews", "attributes": attributes}


def web_page(reviews: list[dict[str, Any]], next_offset: int | None, *, cc: str = "us",
             app_id: str = APP_ID) -> dict[str, Any]:
    """A web-API page; ``next`` is the relative ``/v1/...`` path Apple sends (None: last page)."""
    page: dict[str, Any] = {"data": reviews}
    if next_offset is not None:
        page["next"] = f"/v1/catalog/{cc}/apps/{app_id}/reviews?l=en-US&offset={next_offset}"
    return page
