"""A local HTTP server that serves the demo corpus in the sources' real wire formats.

Stage: demo (stands in for the internet during ``reviewgap demo`` and the demo tests).
In: a :class:`~analysis.demo.corpus.DemoCorpus`. Out: HTTP answers on ``127.0.0.1`` (port 0) to
exactly the requests the real spiders make, shaped as the real services answer them (see
``research/scrapers.md`` and the real samples under ``shared/fixtures/raw/``):

* Apple customer-reviews RSS JSON
  ``/{cc}/rss/customerreviews/page={n}/id={id}/sortby=mostrecent/json``: 50 entries a page,
  at most 10 pages, newest first, every value wrapped in ``{"label": ...}``, ``updated`` with a
  Pacific offset; ``entry`` is an object when a page has one review and absent when it has
  none (both as Apple does).
* iTunes lookup ``/lookup?id=a,b&country=cc``: ``resultCount`` + ``results``.
* Google Play ``POST /_/PlayStoreUi/data/batchexecute`` (``f.req`` form field, rpc ``UsvDTd`` or
  ``oCPfdb``): the ``)]}'`` envelope with a ``wrb.fr`` row whose payload is
  ``[reviews, [null, token]]``; the token is opaque and bound to the app, language and country.
* Google Play ``GET /store/apps/details?id=...``: JSON-LD ``SoftwareApplication`` plus an
  ``AF_initDataCallback`` ``ds:5`` block with score, counts and histogram at the real indices.
* Trustpilot ``GET /review/{domain}[?page=N]``: HTML whose ``<script id="__NEXT_DATA__">`` holds
  ``props.pageProps.{businessUnit, reviews, filters}``, 20 reviews a page; page 11 and later
  answer the login-wall redirect anonymous visitors get.
* ``/robots.txt`` allows everything.

Anything else gets 404 and is recorded in :attr:`DemoServer.unmatched`, so a test can assert the
spiders asked only for what they should. The builders are pure functions (corpus + request ->
body) so tests can call them without a socket.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

from analysis.demo.corpus import DemoCorpus, DemoReview
from analysis.demo.truth import DemoApp

APPLE_PAGE_SIZE, APPLE_MAX_PAGES = 50, 10
TRUSTPILOT_PAGE_SIZE, TRUSTPILOT_MAX_PAGES = 20, 10
PLAY_MAX_COUNT = 150
"""Google answers at most about 150 reviews per batchexecute call, whatever count is asked."""
RATINGS_PER_REVIEW = 9
"""Stores count star-only ratings too: the demo's rating counts are this many times the reviews."""
PACIFIC = ZoneInfo("America/Los_Angeles")
_TRUSTPILOT_BUILD = "businessunitprofile-consumersite-2.804.0"
_STAR_WORDS = ("one", "two", "three", "four", "five")


class BadRequest(ValueError):
    """The request is malformed the way the real service would refuse it (HTTP 400)."""


# -- shared helpers ----------------------------------------------------------------------------


def _label(value: Any) -> dict[str, Any]:
    return {"label": str(value)}


def _pacific(dt: datetime) -> str:
    return dt.astimezone(PACIFIC).isoformat(timespec="seconds")


def _zulu_ms(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _served_at(corpus: DemoCorpus) -> datetime:
    """A fixed "now" one hour after the window closes: same corpus, same bytes served."""
    return datetime.combine(corpus.end, time(23, 0), tzinfo=UTC)


def _app_by(corpus: DemoCorpus, attr: str, value: str) -> DemoApp | None:
    return next((a for a in corpus.apps if getattr(a, attr) == value), None)


def _description(demo_app: DemoApp) -> str:
    return f"{demo_app.name} is a fictional note-taking app made for the reviewgap demo."


def _mean(ratings: Sequence[int]) -> float:
    return sum(ratings) / len(ratings) if ratings else 0.0


# -- Apple ---------------------------------------------------------------------------------------

_APPLE_PATH = re.compile(
    r"^/(?P<cc>[a-z]{2})/rss/customerreviews/(?P<segs>(?:[A-Za-z]+=[^/]+/)+)json$")


def parse_apple_rss_path(path: str) -> tuple[str, str, int] | None:
    """``(country, app_id, page)`` from an RSS JSON path, or None when it is not one.

    Segment order and ``sortBy`` casing vary in the wild; both are accepted, as Apple does.
    """
    m = _APPLE_PATH.match(path)
    if not m:
        return None
    segs = dict(s.split("=", 1) for s in m.group("segs").strip("/").split("/"))
    segs = {k.lower(): v for k, v in segs.items()}
    if "id" not in segs or segs.get("sortby", "mostrecent").lower() != "mostrecent":
        return None
    try:
        page = int(segs.get("page", "1"))
    except ValueError:
        return None
    return m.group("cc"), segs["id"], page


def apple_rss_feed(corpus: DemoCorpus, country: str, app_id: str, page: int) -> dict[str, Any]:
    """The RSS JSON document for one page: ``{"feed": {...}}``.

    Pages past the last (or past 10) and unknown apps get Apple's empty envelope: HTTP 200,
    no ``entry`` key.
    """
    demo_app = _app_by(corpus, "apple_app_id", app_id)
    reviews = corpus.for_target("apple_app_store", demo_app.key, country) if demo_app else []
    reviews = reviews[: APPLE_PAGE_SIZE * APPLE_MAX_PAGES]  # the feed's hard cap
    chunk = reviews[(page - 1) * APPLE_PAGE_SIZE: page * APPLE_PAGE_SIZE] if page >= 1 else []
    self_url = (f"https://itunes.apple.com/{country}/rss/customerreviews/id={app_id}"
                "/sortby=mostrecent/json")
    feed: dict[str, Any] = {
        "author": {"name": _label("iTunes Store"),
                   "uri": _label(f"http://www.apple.com/{country}/itunes/")},
        "updated": _label(_pacific(_served_at(corpus))),
        "rights": _label("Copyright 2008 Apple Inc."),
        "title": _label("iTunes Store: Customer Reviews"),
        "icon": _label("http://itunes.apple.com/favicon.ico"),
        "link": _apple_links(country, app_id, page, bool(chunk)),
        "id": _label(self_url),
    }
    entries = [_apple_entry(r, country, app_id) for r in chunk]
    if len(entries) == 1:
        feed["entry"] = entries[0]  # Apple sends a lone entry as an object, not a list
    elif entries:
        feed["entry"] = entries
    # Apple puts "entry" second; keep its key order so the bytes look familiar.
    order = ["author", "entry", "updated", "rights", "title", "icon", "link", "id"]
    return {"feed": {k: feed[k] for k in order if k in feed}}


def _apple_links(country: str, app_id: str, page: int, has_entries: bool) -> list[dict[str, Any]]:
    def href(n: int) -> str:
        if not has_entries:
            return ""
        return (f"https://itunes.apple.com/{country}/rss/customerreviews/page={n}/id={app_id}"
                f"/sortby=mostrecent/xml?urlDesc=/customerreviews/id={app_id}/sortby=mostrecent/json")

    grouping = f"https://apps.apple.com/WebObjects/MZStore.woa/wa/viewGrouping?cc={country}&id=25109"
    self_url = (f"https://itunes.apple.com/{country}/rss/customerreviews/id={app_id}"
                "/sortby=mostrecent/json")
    return [
        {"attributes": {"rel": "alternate", "type": "text/html", "href": grouping}},
        {"attributes": {"rel": "self", "href": self_url}},
        {"attributes": {"rel": "first", "href": href(1)}},
        {"attributes": {"rel": "last", "href": href(APPLE_MAX_PAGES)}},
        {"attributes": {"rel": "previous", "href": href(max(1, page - 1))}},
        {"attributes": {"rel": "next", "href": href(min(APPLE_MAX_PAGES, page + 1))}},
    ]


def _apple_entry(r: DemoReview, country: str, app_id: str) -> dict[str, Any]:
    vote_count = r.helpful_count + (r.helpful_count // 3)
    return {
        "author": {
            "uri": _label(f"https://itunes.apple.com/{country}/reviews/id{r.review_id[-9:]}"),
            "name": _label(r.author),
            "label": "",
        },
        "updated": _label(_pacific(r.published_at)),
        "im:rating": _label(r.rating),
        "im:version": _label(r.version or ""),
        "id": _label(r.review_id),
        "title": _label(r.title or ""),
        "content": {"label": r.text, "attributes": {"type": "text"}},
        "link": {"attributes": {
            "rel": "related",
            "href": f"https://itunes.apple.com/{country}/review?id={app_id}&type=Purple%20Software",
        }},
        "im:voteSum": _label(r.helpful_count),
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "im:voteCount": _label(vote_count),
    }


def itunes_lookup(corpus: DemoCorpus, ids: str, country: str) -> dict[str, Any]:
    """The lookup API answer for comma-separated ``ids`` in one storefront."""
    results = []
    for app_id in [i.strip() for i in ids.split(",") if i.strip()]:
        demo_app = _app_by(corpus, "apple_app_id", app_id)
        if demo_app is None:
            continue  # Apple leaves unknown ids out (resultCount 0 when none is known)
        results.append(_lookup_result(corpus, demo_app, country))
    return {"resultCount": len(results), "results": results}


def _lookup_result(corpus: DemoCorpus, demo_app: DemoApp, country: str) -> dict[str, Any]:
    reviews = corpus.for_target("apple_app_store", demo_app.key, country)
    releases = corpus.releases[demo_app.key]
    current = [r for r in releases if r.released <= corpus.end][-1]
    on_current = [r.rating for r in reviews if r.version == current.version]
    slug = re.sub(r"[^a-z0-9]+", "-", demo_app.name.lower()).strip("-")
    result: dict[str, Any] = {
        "wrapperType": "software",
        "kind": "software",
        "trackId": int(demo_app.apple_app_id),
        "trackName": demo_app.name,
        "trackCensoredName": demo_app.name,
        "bundleId": f"com.example.{demo_app.key}",
        "artistId": int(demo_app.apple_app_id) // 7,
        "artistName": f"{demo_app.name} Labs",
        "sellerName": f"{demo_app.name} Labs",
        "primaryGenreName": "Productivity",
        "primaryGenreId": 6007,
        "genres": ["Productivity", "Utilities"],
        "genreIds": ["6007", "6002"],
        "price": 0.0,
        "currency": "GBP" if country == "gb" else "USD",
        "formattedPrice": "Free",
        "version": current.version,
        "currentVersionReleaseDate": f"{current.released.isoformat()}T07:00:00Z",
        "releaseDate": "2021-03-01T08:00:00Z",
        "releaseNotes": "Bug fixes and performance improvements.",
        "description": _description(demo_app),
        "minimumOsVersion": "16.0",
        "trackViewUrl":
            f"https://apps.apple.com/{country}/app/{slug}/id{demo_app.apple_app_id}?uo=4",
        "trackContentRating": "4+",
        "contentAdvisoryRating": "4+",
        "languageCodesISO2A": ["EN"],
    }
    if reviews:  # Apple omits the rating fields entirely for an app nobody rated
        result["averageUserRating"] = round(_mean([r.rating for r in reviews]), 5)
        result["userRatingCount"] = len(reviews) * RATINGS_PER_REVIEW
    if on_current:
        result["averageUserRatingForCurrentVersion"] = round(_mean(on_current), 5)
        result["userRatingCountForCurrentVersion"] = len(on_current) * RATINGS_PER_REVIEW
    return result


# -- Google Play ---------------------------------------------------------------------------------

PLAY_RPC_IDS = ("UsvDTd", "oCPfdb")


def parse_play_request(body: bytes) -> tuple[str, str, int, str | None]:
    """``(rpc_id, package, count, token)`` from a batchexecute form body.

    Raises:
        BadRequest: no ``f.req``, not the reviews RPC, or no ``["<package>", 7]`` in it.
    """
    form = parse_qs(body.decode("utf-8", "replace"))
    if "f.req" not in form:
        raise BadRequest("no f.req field")
    try:
        outer = json.loads(form["f.req"][0])
        rpc_id, inner_text = outer[0][0][0], outer[0][0][1]
        inner = json.loads(inner_text)
    except (ValueError, IndexError, TypeError) as exc:
        raise BadRequest(f"f.req is not a batchexecute request: {exc}") from exc
    if rpc_id not in PLAY_RPC_IDS:
        raise BadRequest(f"unknown rpc id {rpc_id!r}")
    package = count = None
    token: str | None = None
    # Both rpc shapes nest the same pieces at different depths: find them by shape.
    stack: list[Any] = [inner]
    while stack:
        node = stack.pop()
        if not isinstance(node, list):
            continue
        if len(node) == 2 and isinstance(node[0], str) and node[1] == 7:
            package = node[0]
        elif (len(node) == 3 and isinstance(node[0], int) and not isinstance(node[0], bool)
              and node[1] is None and (node[2] is None or isinstance(node[2], str))):
            count, token = node[0], node[2]
        stack.extend(node)
    if package is None or count is None:
        raise BadRequest("no app id / page size in f.req")
    return rpc_id, package, int(count), token or None


def _play_token(package: str, lang: str, country: str, offset: int) -> str:
    raw = json.dumps([package, lang, country, offset]).encode()
    return "Cs" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _play_offset(token: str, package: str, lang: str, country: str) -> int:
    try:
        text = token[2:]
        got = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError as exc:
        raise BadRequest("pagination token not recognised") from exc
    if got[:3] != [package, lang, country]:  # tokens are bound to the query that issued them
        raise BadRequest("pagination token belongs to another query")
    return int(got[3])


def play_batchexecute(corpus: DemoCorpus, body: bytes, lang: str, country: str) -> str:
    """The batchexecute response body (``)]}'`` envelope) for a reviews request."""
    rpc_id, package, count, token = parse_play_request(body)
    demo_app = _app_by(corpus, "google_play_package", package)
    if demo_app is None:
        return ")]}'\n\n" + json.dumps(
            [["wrb.fr", rpc_id, "[]", None, None, None, "generic"], ["di", 54]],
            separators=(",", ":"))
    reviews = corpus.for_target("google_play", demo_app.key, country, lang)
    offset = _play_offset(token, package, lang, country) if token else 0
    size = max(1, min(count, PLAY_MAX_COUNT))
    chunk = reviews[offset: offset + size]
    more = offset + size < len(reviews)
    paging = [None, _play_token(package, lang, country, offset + size)] if more else None
    payload: list[Any] = [[_play_review(r, demo_app) for r in chunk], paging]
    rows = [
        ["wrb.fr", rpc_id, json.dumps(payload, separators=(",", ":")), None, None, None, "generic"],
        ["di", 87],
        ["af.httprm", 86, "-4187309251306572288", 17],
    ]
    return ")]}'\n\n" + json.dumps(rows, separators=(",", ":"))


def _play_review(r: DemoReview, demo_app: DemoApp) -> list[Any]:
    avatar = [None, 2, None, [None, None, "https://play-lh.googleusercontent.com/a/demo-avatar"]]
    ts = [int(r.published_at.timestamp()), (int(r.review_id[:6], 16) % 1000) * 1_000_000]
    reply = None
    if r.reply_text and r.reply_at:
        reply = [f"{demo_app.name} Labs", r.reply_text, [int(r.reply_at.timestamp()), 0]]
    user_id = str(int(r.review_id.replace("-", "")[:15], 16))
    return [
        r.review_id,
        [r.author, avatar],
        r.rating,
        None,
        r.text,
        ts,
        r.helpful_count,
        reply,
        None,
        [user_id, r.author, None, [avatar, True], avatar],
        r.version,
        None,
        None,
        None,
        None,
        None,
        1,
    ]


def play_details(corpus: DemoCorpus, package: str) -> str | None:
    """The app details page (minimal: JSON-LD + ``ds:5``), or None for an unknown package."""
    demo_app = _app_by(corpus, "google_play_package", package)
    if demo_app is None:
        return None
    ratings = [r.rating for r in corpus.for_target("google_play", demo_app.key)]
    stars = Counter(ratings)
    score = round(_mean(ratings), 5)
    total = len(ratings) * RATINGS_PER_REVIEW
    hist = [None] + [[f"{stars[s] * RATINGS_PER_REVIEW:,}", stars[s] * RATINGS_PER_REVIEW]
                     for s in range(1, 6)]
    info: list[Any] = [None] * 146
    info[0] = [demo_app.name]
    info[13] = ["10,000+", 10000, 25000, "10K+"]
    info[51] = [[f"{score:.1f}", score], hist, [f"{total:,}", total],
                [f"{len(ratings):,}", len(ratings)], None, [None, []]]
    updated = datetime.combine(corpus.end, time(12, 0), tzinfo=UTC)
    info[145] = [[updated.strftime("%b %-d, %Y"), [int(updated.timestamp()), 0]]]
    ds5 = [[[[]]], [None, None, info]]
    ld = {
        "@context": "https://schema.org",
        "@type": "SoftwareApplication",
        "name": demo_app.name,
        "url": f"https://play.google.com/store/apps/details?id={package}",
        "description": _description(demo_app),
        "operatingSystem": "ANDROID",
        "applicationCategory": "PRODUCTIVITY",
        "contentRating": "Everyone",
        "author": {"@type": "Person", "name": f"{demo_app.name} Labs"},
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": str(score),
                            "ratingCount": str(total)},
        "offers": [{"@type": "Offer", "price": "0", "priceCurrency": "USD",
                    "availability": "https://schema.org/InStock"}],
    }
    return (
        '<!doctype html><html lang="en-US" dir="ltr"><head><meta charset="utf-8">'
        f"<title>{demo_app.name} - Apps on Google Play</title>"
        f'<script type="application/ld+json" nonce="demo">{json.dumps(ld)}</script>'
        "</head><body>"
        "<script nonce=\"demo\">AF_initDataCallback({key: 'ds:4', hash: '1', data:[null], "
        "sideChannel: {}});</script>"
        "<script nonce=\"demo\">AF_initDataCallback({key: 'ds:5', hash: '9', data:"
        f"{json.dumps(ds5, separators=(',', ':'))}, sideChannel: {{}}}});</script>"
        "</body></html>"
    )


# -- Trustpilot ----------------------------------------------------------------------------------


def trustpilot_page(corpus: DemoCorpus, domain: str,
                    query: dict[str, list[str]]) -> tuple[int, str]:
    """``(status, html)`` for ``/review/{domain}`` with the query's ``page``/``stars``/``sort``."""
    demo_app = _app_by(corpus, "trustpilot_domain", domain)
    if demo_app is None:
        return 404, "<!DOCTYPE html><html><body><h1>Page not found</h1></body></html>"
    try:
        page = int(query.get("page", ["1"])[0])
    except ValueError:
        return 400, "<!DOCTYPE html><html><body>Bad request</body></html>"
    everything = corpus.for_target("trustpilot", demo_app.key)
    stars = {int(s) for s in query.get("stars", []) if s.isdigit()}
    reviews = [r for r in everything if not stars or r.rating in stars]
    total_pages = max(1, math.ceil(len(reviews) / TRUSTPILOT_PAGE_SIZE))
    next_data: dict[str, Any]
    if page > TRUSTPILOT_MAX_PAGES:
        # Anonymous visitors are sent to log in past page 10 (Next.js redirect in the page data).
        target = quote(f"/review/{domain}?page={page}", safe="")
        next_data = _next_envelope(domain, query, {
            "__N_REDIRECT": f"/users/connect?redirect={target}",
            "__N_REDIRECT_STATUS": 307,
        })
        return 200, _trustpilot_html(demo_app.name, next_data, None)
    if page < 1 or page > total_pages:
        return 404, "<!DOCTYPE html><html><body><h1>Page not found</h1></body></html>"
    chunk = reviews[(page - 1) * TRUSTPILOT_PAGE_SIZE: page * TRUSTPILOT_PAGE_SIZE]
    counts = Counter(r.rating for r in everything)
    trust = round(_mean([r.rating for r in everything]), 1)
    unit = _business_unit(demo_app, domain, len(everything), trust)
    page_props = {
        "pageUrl": f"https://www.trustpilot.com/review/{domain}",
        "businessUnit": unit,
        "reviews": [_trustpilot_review(r, i) for i, r in enumerate(chunk)],
        "products": [],
        "filters": {
            "hasActiveFilters": bool(stars),
            "totalNumberOfReviews": len(everything),
            "totalNumberOfFilteredReviews": len(reviews),
            "pagination": {"currentPage": page, "perPage": TRUSTPILOT_PAGE_SIZE,
                           "totalCount": len(reviews), "totalPages": total_pages},
            "selected": {
                "languages": query.get("languages", ["en"])[0],
                "date": query.get("date", [None])[0],
                "stars": sorted(stars) or None,
                "aspects": None, "search": None, "locationId": None,
                "sort": query.get("sort", ["relevance"])[0],
                "verified": False, "replies": False,
            },
            "reviewStatistics": {
                "hasMultipleLanguages": False,
                "reviewLanguages": [
                    {"isoCode": "all", "reviewCount": len(everything), "displayName": "all"},
                    {"isoCode": "en", "reviewCount": len(everything), "displayName": "English"},
                ],
                "ratings": {"total": len(everything),
                            **{w: counts[i + 1] for i, w in enumerate(_STAR_WORDS)}},
            },
        },
        "seoData": {"locale": "en-US",
                    "canonicalUrl": f"https://www.trustpilot.com/review/{domain}"},
        "showAdvertisement": False,
        "showProductReviews": False,
        "similarBusinessUnits": [],
        "noIndex": False,
        "relevanceSortingEnabled": True,
        "sidebarData": None,
    }
    ld = _trustpilot_jsonld(demo_app, domain, chunk, len(everything), trust)
    return 200, _trustpilot_html(demo_app.name, _next_envelope(domain, query, page_props), ld)


def _business_unit(demo_app: DemoApp, domain: str, n: int, trust: float) -> dict[str, Any]:
    return {
        "id": f"{int(demo_app.apple_app_id):024x}",
        "displayName": demo_app.name,
        "identifyingName": domain,
        "numberOfReviews": n,
        "trustScore": trust,
        "websiteUrl": f"https://{domain}",
        "websiteTitle": domain,
        "stars": round(trust * 2) / 2,
        "categories": [{"id": "software_company", "name": "Software Company", "rank": "12",
                        "cardinality": "40", "isPrimary": True}],
        "isClaimed": True,
        "isClosed": False,
        "isTemporarilyClosed": False,
        "locationsCount": 0,
        "isCollectingReviews": True,
        "verification": {"verifiedByGoogle": False, "verifiedBusiness": True,
                         "verifiedPaymentMethod": False, "verifiedUserIdentity": False},
        "hasCollectedIncentivisedReviews": False,
        "consumerAlert": None,
        "isMerged": False,
        "contactInfo": {"email": "", "address": "", "city": "", "country": "US", "phone": "",
                        "zipCode": ""},
    }


def _trustpilot_review(r: DemoReview, i: int) -> dict[str, Any]:
    published = _zulu_ms(r.published_at)
    return {
        "id": r.review_id,
        "filtered": False,
        "pending": False,
        "text": r.text,
        "rating": r.rating,
        "labels": {"merged": None, "verification": {
            "isVerified": i % 3 == 0, "createdDateTime": published,
            "reviewSourceName": "Organic", "verificationSource": "invitation",
            "verificationLevel": "verified" if i % 3 == 0 else "not-verified",
            "hasDachExclusion": False}},
        "title": r.title or "",
        "likes": r.helpful_count,
        "dates": {"experiencedDate": r.published_at.strftime("%Y-%m-%dT00:00:00.000Z"),
                  "publishedDate": published, "updatedDate": None},
        "report": None,
        "hasUnhandledReports": False,
        "consumer": {"id": f"{int(r.review_id, 16) // 3:024x}"[-24:], "displayName": r.author,
                     "imageUrl": "", "numberOfReviews": 1 + len(r.author) % 5,
                     "countryCode": r.country.upper(), "hasImage": False, "isVerified": False},
        "reply": ({"message": r.reply_text, "publishedDate": _zulu_ms(r.reply_at),
                   "updatedDate": None} if r.reply_text and r.reply_at else None),
        "consumersReviewCountOnSameDomain": 1,
        "consumersReviewCountOnSameLocation": None,
        "productReviews": [],
        "language": r.language,
        "location": None,
    }


def _next_envelope(domain: str, query: dict[str, list[str]],
                   page_props: dict[str, Any]) -> dict[str, Any]:
    return {
        "props": {"pageProps": page_props, "locale": "en-US", "__N_SSP": True},
        "page": "/review/[businessUnit]",
        "query": {**{k: v[0] for k, v in query.items()}, "businessUnit": domain},
        "buildId": _TRUSTPILOT_BUILD,
        "isFallback": False,
        "gssp": True,
        "customServer": True,
        "appGip": True,
        "scriptLoader": [],
    }


def _trustpilot_jsonld(demo_app: DemoApp, domain: str, chunk: list[DemoReview], n: int,
                       trust: float) -> dict[str, Any]:
    org = f"https://www.trustpilot.com/#/schema/Organization/{domain}"
    graph: list[dict[str, Any]] = [{
        "@type": "LocalBusiness", "@id": org, "name": demo_app.name,
        "url": f"https://{domain}",
        "aggregateRating": {"@type": "AggregateRating", "bestRating": "5", "worstRating": "1",
                            "ratingValue": str(trust), "reviewCount": str(n)},
    }]
    for r in chunk:
        graph.append({
            "@type": "Review",
            "@id": f"https://www.trustpilot.com/#/schema/Review/{domain}/{r.review_id}",
            "itemReviewed": {"@id": org},
            "author": {"@type": "Person", "name": r.author},
            "datePublished": _zulu_ms(r.published_at),
            "headline": r.title or "",
            "reviewBody": r.text,
            "reviewRating": {"@type": "Rating", "bestRating": "5", "worstRating": "1",
                             "ratingValue": str(r.rating)},
            "inLanguage": r.language,
        })
    return {"@context": "https://schema.org", "@graph": graph}


def _script_json(data: Any) -> str:
    # "</" inside a JSON string would end the <script> element early; Next.js escapes it too.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _trustpilot_html(name: str, next_data: dict[str, Any], ld: dict[str, Any] | None) -> str:
    ld_tag = (f'<script type="application/ld+json" data-business-unit-json-ld="true">'
              f"{_script_json(ld)}</script>") if ld else ""
    return (
        '<!DOCTYPE html><html lang="en-US"><head><meta charSet="UTF-8"/>'
        f"<title>{name} Reviews | Read Customer Service Reviews</title>{ld_tag}</head>"
        f'<body><div id="__next"><main><h1>{name}</h1></main></div>'
        f'<script id="__NEXT_DATA__" type="application/json">{_script_json(next_data)}</script>'
        "</body></html>"
    )


# -- the server ----------------------------------------------------------------------------------


class DemoServer:
    """Threaded HTTP server on ``127.0.0.1`` (port 0) answering from a corpus.

    Use as a context manager; point the spiders' ``REVIEWGAP_*_BASE`` settings at :attr:`base`.
    Every request is recorded in :attr:`requests` (``"METHOD /path?query"``); requests no route
    answers are also in :attr:`unmatched`.
    """

    def __init__(self, corpus: DemoCorpus, host: str = "127.0.0.1", port: int = 0) -> None:
        self.corpus = corpus
        self.requests: list[str] = []
        self.unmatched: list[str] = []
        self._lock = threading.Lock()
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # the demo prints its own progress
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, ctype, data = owner.answer(self.command, self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True,
                                        name="reviewgap-demo-server")

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``: the value for every ``REVIEWGAP_*_BASE`` setting."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, method: str, raw_path: str, body: bytes) -> tuple[int, str, bytes]:
        """``(status, content type, body)`` for one request (no socket needed: tests call it)."""
        with self._lock:
            self.requests.append(f"{method} {raw_path}")
        parts = urlsplit(raw_path)
        path, query = parts.path, parse_qs(parts.query, keep_blank_values=True)
        js, html = "application/json; charset=utf-8", "text/html; charset=utf-8"
        try:
            if method in ("GET", "HEAD"):
                if path == "/robots.txt":
                    return 200, "text/plain", b"User-agent: *\nDisallow:\n"
                apple = parse_apple_rss_path(path)
                if apple:
                    feed = apple_rss_feed(self.corpus, *apple)
                    return 200, js, json.dumps(feed, ensure_ascii=False).encode()
                if path == "/lookup" and "id" in query:
                    doc = itunes_lookup(self.corpus, query["id"][0],
                                        query.get("country", ["us"])[0].lower())
                    return 200, "text/javascript; charset=utf-8", json.dumps(doc).encode()
                if path == "/store/apps/details" and "id" in query:
                    page = play_details(self.corpus, query["id"][0])
                    if page is not None:
                        return 200, html, page.encode()
                    return 404, html, b"<html><body>The requested URL was not found.</body></html>"
                m = re.fullmatch(r"/review/([A-Za-z0-9.\-]+)", path)
                if m:
                    status, page = trustpilot_page(self.corpus, m.group(1), query)
                    return status, html, page.encode()
            elif method == "POST" and path == "/_/PlayStoreUi/data/batchexecute":
                text = play_batchexecute(self.corpus, body, query.get("hl", ["en"])[0],
                                         query.get("gl", ["us"])[0].lower())
                return 200, js, text.encode()
        except BadRequest as exc:
            return 400, "text/plain", str(exc).encode()
        with self._lock:
            self.unmatched.append(f"{method} {raw_path}")
        return 404, "text/plain", b"not found"

    def start(self) -> DemoServer:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
