"""The demo's ground truth: the fictional products and the gaps planted in their reviews.

Stage: demo (input to :mod:`analysis.demo.corpus`, and to the tests that check the report).
In: nothing (constants). Out: :data:`APPS` (four fictional note-taking apps with their store ids),
:data:`GAPS` (the planted gaps as data) and :func:`complaint_rate` / :func:`praise_rate`, the
per-review probabilities the generator draws from.

Keeping the truth as data, apart from the generator, lets a test say "the report must rank
``quillbyte`` first on ``sync_data`` complaints" by reading :data:`GAPS` instead of repeating
numbers that could drift from what the generator does.

Every name, id and domain here is invented. Domains use the reserved ``.example`` TLD and
packages the ``com.example`` prefix so that nothing points at a real business.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

NEEDS: tuple[str, ...] = (
    "reliability",
    "performance",
    "usability",
    "compatibility",
    "pricing",
    "privacy_security",
    "support",
    "sync_data",
    "account_login",
    "features",
    "content",
    "updates",
)
"""The default taxonomy ids (analysis/classify/taxonomy.py) that the demo writes sentences for."""

POLARITIES: tuple[str, ...] = ("complaint", "praise", "request", "question")
"""What a sentence does about a need: complain, praise, ask for something, ask a question."""

DEMO_END = date(2026, 10, 31)
"""Last day of the demo window (a month end, so the newest month is complete)."""

MONTHS = 12
"""Months of reviews generated, ending with :data:`DEMO_END`'s month."""


@dataclass(frozen=True)
class Release:
    """An app version and the date it reached users."""

    version: str
    released: date


@dataclass(frozen=True)
class DemoApp:
    """A fictional product: its key in the demo reviewgap.toml and its ids at each source.

    ``source_weights`` says how the app's reviews are split across sources (the demo shows
    multi-source data); a source without an id here gets no reviews.
    """

    key: str
    name: str
    ours: bool
    apple_app_id: str
    google_play_package: str | None = None
    trustpilot_domain: str | None = None
    aliases: tuple[str, ...] = ()
    source_weights: dict[str, float] = field(default_factory=dict)
    major: int = 1
    """First component of the app's version numbers."""
    star_bias: float = 0.0
    """Shifts every star rating (an app's general reputation)."""


APPS: tuple[DemoApp, ...] = (
    DemoApp(
        key="margin",
        name="Margin Notes",
        ours=True,
        apple_app_id="1587204316",
        google_play_package="com.example.marginnotes",
        trustpilot_domain="marginnotes.example",
        aliases=("Margin",),
        source_weights={"apple_app_store": 0.55, "google_play": 0.30, "trustpilot": 0.15},
        major=4,
        star_bias=0.1,
    ),
    DemoApp(
        key="quillbyte",
        name="Quillbyte",
        ours=False,
        apple_app_id="1493820557",
        google_play_package="com.example.quillbyte",
        aliases=("Quill Byte",),
        source_weights={"apple_app_store": 0.6, "google_play": 0.4},
        major=7,
    ),
    DemoApp(
        key="jotterly",
        name="Jotterly",
        ours=False,
        apple_app_id="1620558843",
        trustpilot_domain="jotterly.example",
        aliases=("Jotterly Notes",),
        source_weights={"apple_app_store": 0.75, "trustpilot": 0.25},
        major=2,
        star_bias=0.1,
    ),
    DemoApp(
        key="scribbet",
        name="Scribbet",
        ours=False,
        apple_app_id="1538471902",
        aliases=("Scribbet Notes",),
        source_weights={"apple_app_store": 1.0},
        major=3,
    ),
)


def app(key: str) -> DemoApp:
    """The demo app with this key (KeyError if unknown)."""
    for a in APPS:
        if a.key == key:
            return a
    raise KeyError(key)


# -- planted gaps --------------------------------------------------------------------------------

BASE_COMPLAINT: dict[str, float] = {
    "reliability": 0.06,
    "performance": 0.05,
    "usability": 0.06,
    "compatibility": 0.04,
    "pricing": 0.05,
    "privacy_security": 0.03,
    "support": 0.05,
    "sync_data": 0.05,
    "account_login": 0.04,
    "features": 0.06,
    "content": 0.03,
    "updates": 0.04,
}
"""Share of an app's reviews that complain about each need, unless a gap below says otherwise."""

BASE_PRAISE: dict[str, float] = {
    "reliability": 0.07,
    "performance": 0.07,
    "usability": 0.12,
    "compatibility": 0.04,
    "pricing": 0.05,
    "privacy_security": 0.03,
    "support": 0.04,
    "sync_data": 0.07,
    "account_login": 0.02,
    "features": 0.12,
    "content": 0.04,
    "updates": 0.03,
}
"""Share of reviews that praise each need."""

REQUEST_RATE = 0.18
"""Share of reviews with a feature request (need drawn from :data:`REQUEST_WEIGHTS`)."""

REQUEST_WEIGHTS: dict[str, float] = {
    "features": 6.0, "compatibility": 1.5, "sync_data": 1.0, "pricing": 1.0,
    "privacy_security": 1.0, "usability": 1.0, "content": 1.0, "support": 0.5,
    "account_login": 0.5, "performance": 0.5, "reliability": 0.3, "updates": 0.3,
}

QUESTION_RATE = 0.06
"""Share of reviews that ask a question (need drawn uniformly)."""


@dataclass(frozen=True)
class PlantedGap:
    """One gap the report must find. ``kind`` says which check applies:

    * ``competitor_weakness``: ``product`` complains about ``need`` far more than the rest.
    * ``ours_lags``: our product complains about ``need`` far more than the market.
    * ``white_space``: every product complains about ``need`` at a high rate, praise is rare.
    * ``recent_jump``: ``product``'s complaints about ``need`` jump in the last month.
    * ``switching``: reviews of ``product`` say they moved to ``to_product`` (share ``rate``).
    * ``bad_release``: ``product``'s version ``version`` breaks ``need``.
    """

    gap_id: str
    kind: str
    need: str
    product: str | None
    rate: float
    """The planted complaint share (or switching share) where the gap applies."""
    baseline: float
    """The share elsewhere (other products, earlier months, other versions)."""
    description: str
    to_product: str | None = None
    version: str | None = None


GAPS: tuple[PlantedGap, ...] = (
    PlantedGap(
        gap_id="a_sync_competitor",
        kind="competitor_weakness",
        need="sync_data",
        product="quillbyte",
        rate=0.26,
        baseline=BASE_COMPLAINT["sync_data"],
        description="Quillbyte's reviews complain about sync and lost data about five times as "
        "often as the other apps'.",
    ),
    PlantedGap(
        gap_id="b_ours_lags",
        kind="ours_lags",
        need="performance",
        product="margin",
        rate=0.24,
        baseline=BASE_COMPLAINT["performance"],
        description="Margin Notes (ours) lags the market on performance: slow start, laggy "
        "typing, battery drain.",
    ),
    PlantedGap(
        gap_id="c_white_space",
        kind="white_space",
        need="support",
        product=None,
        rate=0.22,
        baseline=0.22,
        description="Every app fails on customer support (unanswered tickets, no human "
        "contact): a white space nobody serves.",
    ),
    PlantedGap(
        gap_id="d_pricing_jump",
        kind="recent_jump",
        need="pricing",
        product="jotterly",
        rate=0.38,
        baseline=BASE_COMPLAINT["pricing"],
        description="Jotterly raised its price: pricing complaints jump from about 5% to "
        "nearly 40% of its reviews in the last month, with a burst of reviews.",
    ),
    PlantedGap(
        gap_id="e_switching",
        kind="switching",
        need="sync_data",
        product="quillbyte",
        rate=0.35,
        baseline=0.0,
        to_product="margin",
        description="About a third of Quillbyte's sync complaints say they are moving to "
        "Margin Notes; some Margin Notes reviews say they came from Quillbyte.",
    ),
    PlantedGap(
        gap_id="f_bad_release",
        kind="bad_release",
        need="reliability",
        product="scribbet",
        rate=0.45,
        baseline=BASE_COMPLAINT["reliability"],
        version="3.6.0",
        description="Scribbet 3.6.0 crashed on launch for many users until 3.7.0 fixed it.",
    ),
)

WHITE_SPACE_PRAISE = 0.01
"""Praise share of the white-space need (nobody gets it right)."""

OURS_LAG_PRAISE = 0.02
"""Praise share of the need ours lags on."""

JUMP_VOLUME_FACTOR = 2.5
"""The jump month brings this many times the usual number of reviews (people react)."""


def gap(gap_id: str) -> PlantedGap:
    """The planted gap with this id."""
    for g in GAPS:
        if g.gap_id == gap_id:
            return g
    raise KeyError(gap_id)


def complaint_rate(product: str, need: str, *, last_month: bool, version: str | None) -> float:
    """Probability that a review of ``product`` complains about ``need``.

    Args:
        product: App key.
        need: Taxonomy id.
        last_month: Whether the review falls in the newest month of the window.
        version: The app version the review was written on.

    Returns:
        The planted rate where a gap applies, else the base rate.
    """
    rate = BASE_COMPLAINT[need]
    for g in GAPS:
        if g.need == need and _applies(g, product, last_month=last_month, version=version):
            rate = g.rate
    return rate


def _applies(g: PlantedGap, product: str, *, last_month: bool, version: str | None) -> bool:
    """Whether gap ``g`` sets the complaint rate of a review of ``product`` (month, version)."""
    if g.kind == "white_space":
        return True  # every product fails it
    if g.product != product:
        return False
    if g.kind in ("competitor_weakness", "ours_lags"):
        return True
    if g.kind == "recent_jump":
        return last_month
    if g.kind == "bad_release":
        return version == g.version
    return False  # switching changes what reviews say, not how often they complain


def praise_rate(product: str, need: str) -> float:
    """Probability that a review of ``product`` praises ``need`` (low where a gap is planted)."""
    for g in GAPS:
        if g.need != need:
            continue
        if g.kind == "white_space":
            return WHITE_SPACE_PRAISE
        if g.kind in ("ours_lags", "competitor_weakness") and g.product == product:
            return OURS_LAG_PRAISE
    return BASE_PRAISE[need]


def switching(product: str) -> PlantedGap | None:
    """The switching gap whose reviews leave ``product``, if any."""
    for g in GAPS:
        if g.kind == "switching" and g.product == product:
            return g
    return None


RELEASE_EVERY_DAYS = 42
"""A new minor version every six weeks."""

BAD_RELEASE_VOLUME_FACTOR = 1.6
"""Months the bad release is current in bring this many times the usual reviews (angry users
write), so that the version has enough reviews for the report's minimum sample."""


def releases(demo_app: DemoApp, start: date, end: date) -> list[Release]:
    """The app's releases from a month before ``start`` to ``end``, oldest first.

    Minor versions every :data:`RELEASE_EVERY_DAYS`, staggered per app so that releases do not
    all land on the same day (the bad release of gap ``f`` is one of them; the next fixes it).
    """
    from datetime import timedelta

    offset = sum(ord(c) for c in demo_app.key) % 21  # stagger: deterministic, per app
    day = start - timedelta(days=30 - offset)
    out: list[Release] = []
    minor = 0
    while day <= end:
        version = f"{demo_app.major}.{minor}.0"
        out.append(Release(version, day))
        minor += 1
        day += timedelta(days=RELEASE_EVERY_DAYS)
    return out
