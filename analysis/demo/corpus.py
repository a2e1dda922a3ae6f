"""Generate the demo's review corpus: seeded, reproducible, with the planted gaps of truth.py.

Stage: demo (before the crawl: the corpus is what :class:`analysis.demo.server.DemoServer`
serves in the real sources' wire formats).
In: a seed, reviews per app, the window's last day. Out: a :class:`DemoCorpus` of
:class:`DemoReview` (one per review, with the statements it was built from as ground truth).

How a review is built: for each need the generator draws "complains about it" with the rate
:func:`analysis.demo.truth.complaint_rate` gives for this app, month and version, and "praises it"
likewise; a feature request and a question are drawn at their own rates. Each statement becomes
one sentence from :mod:`analysis.demo.phrases`; the star rating starts high and each complaint
pulls it down, so stars and text agree. Same seed, same corpus: every random draw comes from a
``random.Random`` seeded with the seed and the app key (string seeds hash with SHA-512, not with
Python's per-process ``hash``).
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from analysis.demo import phrases, truth
from analysis.demo.truth import DemoApp, Release

DEFAULT_SEED = 7
DEFAULT_REVIEWS_PER_APP = 300

# Star effect of each statement: complaints about losing work or access hurt most.
_COMPLAINT_EFFECT = {"reliability": -1.9, "sync_data": -1.9, "account_login": -1.8}
_DEFAULT_COMPLAINT_EFFECT = -1.5
_PRAISE_EFFECT, _REQUEST_EFFECT, _QUESTION_EFFECT = 0.25, -0.35, -0.2
_STAR_START, _STAR_NOISE = 4.7, 0.45

_COUNTRY_WEIGHTS = (("us", 0.6), ("gb", 0.4))
_OPENER_RATE, _CLOSER_RATE = 0.25, 0.2
_OLD_VERSION_RATE = 0.15
"""Share of reviewers still on the previous version (people update late)."""
_SWITCH_IN_RATE = 0.05
"""Share of the destination app's reviews that say they came from the app people leave."""
_REPLY_RATE = {"google_play": 0.3, "trustpilot": 0.45}
"""Share of reviews of 3 stars or fewer that get a developer/company reply (Apple RSS has none)."""


@dataclass(frozen=True)
class Statement:
    """One thing a review says: a need and what it does about it (ground truth)."""

    need: str
    polarity: str


@dataclass
class DemoReview:
    """One generated review with the fields every source needs, plus its ground truth."""

    source: str
    product: str
    review_id: str
    rating: int
    title: str | None
    text: str
    published_at: datetime
    """UTC."""
    version: str | None
    country: str
    language: str
    helpful_count: int
    author: str
    statements: tuple[Statement, ...]
    reply_text: str | None = None
    reply_at: datetime | None = None
    switch_to: str | None = None
    """App key this review says it is moving to."""
    switch_from: str | None = None
    """App key this review says it came from."""

    def has(self, need: str, polarity: str = "complaint") -> bool:
        """Whether the review was built with this statement."""
        return Statement(need, polarity) in self.statements


@dataclass
class DemoCorpus:
    """The generated reviews of every demo app, and how they were made."""

    seed: int
    end: date
    start: date
    apps: tuple[DemoApp, ...]
    reviews: list[DemoReview]
    releases: dict[str, list[Release]] = field(default_factory=dict)

    def for_target(self, source: str, product: str, country: str | None = None,
                   language: str | None = None) -> list[DemoReview]:
        """One app's reviews at one source (optionally one country/language), newest first."""
        out = [
            r for r in self.reviews
            if r.source == source and r.product == product
            and (country is None or r.country == country)
            and (language is None or r.language == language)
        ]
        return sorted(out, key=lambda r: (r.published_at, r.review_id), reverse=True)

    def by_product(self, product: str) -> list[DemoReview]:
        """All of one app's reviews, any source."""
        return [r for r in self.reviews if r.product == product]

    def month_key(self, r: DemoReview) -> str:
        """``YYYY-MM`` of a review (UTC)."""
        return r.published_at.strftime("%Y-%m")

    @property
    def last_month(self) -> str:
        """``YYYY-MM`` of the window's newest month."""
        return self.end.strftime("%Y-%m")

    def complaint_share(self, product: str | None, need: str, *,
                        months: Iterable[str] | None = None,
                        version: str | None = None) -> float:
        """Share of reviews (of one product, or all when None) built with a complaint about
        ``need``; optionally only in ``months`` or on ``version``. 0.0 when no review matches."""
        month_set = set(months) if months is not None else None
        pool = [
            r for r in self.reviews
            if (product is None or r.product == product)
            and (month_set is None or self.month_key(r) in month_set)
            and (version is None or r.version == version)
        ]
        if not pool:
            return 0.0
        return sum(r.has(need) for r in pool) / len(pool)


def month_starts(end: date, months: int) -> list[date]:
    """First days of the ``months`` calendar months ending with ``end``'s month, oldest first."""
    y, m = end.year, end.month
    out = []
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def _month_end(start: date) -> date:
    nxt = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def generate_corpus(seed: int = DEFAULT_SEED,
                    reviews_per_app: int = DEFAULT_REVIEWS_PER_APP,
                    end: date = truth.DEMO_END,
                    months: int = truth.MONTHS) -> DemoCorpus:
    """Generate the demo corpus.

    Args:
        seed: Same seed, same corpus (byte for byte once served).
        reviews_per_app: Reviews per app over the window (all sources together).
        end: Last day of the window; the newest month is ``end``'s month.
        months: Length of the window in calendar months.

    Returns:
        The corpus; reviews of each app spread over months with slowly growing volume, and a
        burst in the month of a planted price jump.

    Raises:
        ValueError: ``reviews_per_app`` is below 24 (too few to spread over a year with gaps
            that mean anything) or ``months`` is below 2.
    """
    if reviews_per_app < 24:
        raise ValueError(f"reviews_per_app must be at least 24, got {reviews_per_app}")
    if months < 2:
        raise ValueError(f"months must be at least 2, got {months}")
    starts = month_starts(end, months)
    releases = {a.key: truth.releases(a, starts[0], end) for a in truth.APPS}
    reviews: list[DemoReview] = []
    for demo_app in truth.APPS:
        rng = random.Random(f"reviewgap-demo:{seed}:{demo_app.key}")
        gen = _AppGenerator(demo_app, rng, releases[demo_app.key])
        reviews.extend(gen.generate(reviews_per_app, starts, end))
    return DemoCorpus(seed=seed, end=end, start=starts[0], apps=truth.APPS, reviews=reviews,
                      releases=releases)


class _AppGenerator:
    """Draws one app's reviews; all randomness from one seeded ``random.Random``."""

    def __init__(self, demo_app: DemoApp, rng: random.Random, releases: list[Release]) -> None:
        self.app = demo_app
        self.rng = rng
        self.releases = releases
        self.others = [a for a in truth.APPS if a.key != demo_app.key]
        self.switch_out = truth.switching(demo_app.key)
        self.switch_in = next(
            (g for g in truth.GAPS if g.kind == "switching" and g.to_product == demo_app.key), None
        )
        self.used_ids: set[str] = set()

    # -- volume and time ---------------------------------------------------------------------

    def _month_counts(self, total: int, starts: list[date]) -> list[int]:
        jump = any(g.kind == "recent_jump" and g.product == self.app.key for g in truth.GAPS)
        weights = [1.0 + 0.04 * i for i in range(len(starts))]  # slowly growing audience
        if jump:
            weights[-1] *= truth.JUMP_VOLUME_FACTOR
        for g in truth.GAPS:
            if g.kind != "bad_release" or g.product != self.app.key:
                continue
            versions = [r.version for r in self.releases]
            if g.version not in versions:
                raise ValueError(f"gap {g.gap_id}: {self.app.key} never releases {g.version}")
            i = versions.index(g.version)
            first = self.releases[i].released
            last = self.releases[i + 1].released if i + 1 < len(versions) else starts[-1]
            for m, month_start in enumerate(starts):
                if month_start <= last and _month_end(month_start) >= first:
                    weights[m] *= truth.BAD_RELEASE_VOLUME_FACTOR
        raw = [total * w / sum(weights) for w in weights]
        counts = [int(x) for x in raw]
        # Hand the rounding remainder to the months with the largest fractions: total is exact.
        for i in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True):
            if sum(counts) >= total:
                break
            counts[i] += 1
        return counts

    def _when(self, month_start: date, end: date) -> datetime:
        last = min(_month_end(month_start), end)
        day = month_start + timedelta(days=self.rng.randrange((last - month_start).days + 1))
        seconds = self.rng.randrange(6 * 3600, 24 * 3600)  # people write in the waking hours
        return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)

    def _version(self, when: datetime) -> str:
        current = [r for r in self.releases if r.released <= when.date()]
        if not current:
            return self.releases[0].version
        if len(current) > 1 and self.rng.random() < _OLD_VERSION_RATE:
            return current[-2].version
        return current[-1].version

    # -- one review ----------------------------------------------------------------------------

    def generate(self, total: int, starts: list[date], end: date) -> list[DemoReview]:
        out = []
        counts = self._month_counts(total, starts)
        for i, (month_start, n) in enumerate(zip(starts, counts, strict=True)):
            for _ in range(n):
                out.append(self._review(month_start, end, last_month=i == len(starts) - 1))
        return out

    def _statements(self, version: str, last_month: bool) -> list[Statement]:
        rng, key = self.rng, self.app.key
        out: list[Statement] = []
        for need in truth.NEEDS:
            if rng.random() < truth.complaint_rate(key, need, last_month=last_month,
                                                   version=version):
                out.append(Statement(need, "complaint"))
            elif rng.random() < truth.praise_rate(key, need):
                out.append(Statement(need, "praise"))
        if rng.random() < truth.REQUEST_RATE:
            needs, weights = zip(*truth.REQUEST_WEIGHTS.items(), strict=True)
            out.append(Statement(rng.choices(needs, weights)[0], "request"))
        if rng.random() < truth.QUESTION_RATE:
            out.append(Statement(rng.choice(truth.NEEDS), "question"))
        if not out:  # a review says something: a short happy one
            needs, weights = zip(*truth.BASE_PRAISE.items(), strict=True)
            out.append(Statement(rng.choices(needs, weights)[0], "praise"))
        rng.shuffle(out)
        # Complaints lead: an unhappy reviewer opens with the problem (and titles after it).
        out.sort(key=lambda s: s.polarity != "complaint")
        return out

    def _stars(self, statements: list[Statement]) -> int:
        score = _STAR_START + self.app.star_bias + self.rng.gauss(0.0, _STAR_NOISE)
        for s in statements:
            if s.polarity == "complaint":
                score += _COMPLAINT_EFFECT.get(s.need, _DEFAULT_COMPLAINT_EFFECT)
            elif s.polarity == "praise":
                score += _PRAISE_EFFECT
            elif s.polarity == "request":
                score += _REQUEST_EFFECT
            else:
                score += _QUESTION_EFFECT
        return max(1, min(5, round(score)))

    def _review(self, month_start: date, end: date, *, last_month: bool) -> DemoReview:
        rng = self.rng
        when = self._when(month_start, end)
        version = self._version(when)
        statements = self._statements(version, last_month)
        sentences = [self._fill(rng.choice(phrases.SENTENCES[s.need][s.polarity]), version)
                     for s in statements]
        switch_to = switch_from = None
        if (self.switch_out and Statement(self.switch_out.need, "complaint") in statements
                and rng.random() < self.switch_out.rate):
            switch_to = self.switch_out.to_product
            other = truth.app(switch_to or "").name
            sentences.append(self._fill(rng.choice(phrases.SWITCH_AWAY), version, other=other))
        elif self.switch_in and rng.random() < _SWITCH_IN_RATE:
            switch_from = self.switch_in.product
            other = truth.app(switch_from or "").name
            sentences.append(self._fill(rng.choice(phrases.SWITCH_FROM), version, other=other))
            if Statement(self.switch_in.need, "praise") not in statements:
                statements.append(Statement(self.switch_in.need, "praise"))
        stars = self._stars(statements)
        if rng.random() < _OPENER_RATE:
            sentences.insert(0, self._fill(rng.choice(phrases.OPENERS), version))
        if rng.random() < _CLOSER_RATE:
            sentences.append(rng.choice(phrases.CLOSERS["good" if stars >= 4 else "bad"]))
        source = self._source()
        title = self._title(statements[0]) if source != "google_play" else None
        reply_text, reply_at = self._reply(source, stars, statements[0], when)
        return DemoReview(
            source=source,
            product=self.app.key,
            review_id=self._id(source),
            rating=stars,
            title=title,
            text=" ".join(sentences),
            published_at=when,
            # Trustpilot reviews are of the company, not an app build: no version there.
            version=None if source == "trustpilot" else version,
            country=rng.choices(*zip(*_COUNTRY_WEIGHTS, strict=True))[0],
            language="en",
            helpful_count=int(rng.expovariate(0.6)) if rng.random() < 0.4 else 0,
            author=f"{rng.choice(phrases.AUTHOR_FIRST)}_{rng.choice(phrases.AUTHOR_SUFFIX)}"
                   f"{rng.randrange(10, 100)}",
            statements=tuple(statements),
            reply_text=reply_text,
            reply_at=reply_at,
            switch_to=switch_to,
            switch_from=switch_from,
        )

    def _source(self) -> str:
        sources, weights = zip(*self.app.source_weights.items(), strict=True)
        return self.rng.choices(sources, weights)[0]

    def _title(self, main: Statement) -> str:
        specific = phrases.TITLES.get(main.need, {}).get(main.polarity)
        if specific and self.rng.random() < 0.7:
            return self.rng.choice(specific)
        return self.rng.choice(phrases.GENERIC_TITLES[main.polarity])

    def _reply(self, source: str, stars: int, main: Statement,
               when: datetime) -> tuple[str | None, datetime | None]:
        rate = _REPLY_RATE.get(source, 0.0)
        if stars > 3 or self.rng.random() >= rate:
            return None, None
        kind = main.polarity if main.polarity in ("complaint", "praise") else "other"
        at = when + timedelta(hours=self.rng.randrange(2, 96))
        return self.rng.choice(phrases.REPLIES[kind]), at

    def _id(self, source: str) -> str:
        while True:
            if source == "apple_app_store":
                rid = str(self.rng.randrange(10**10, 10**11))  # Apple: long numeric strings
            elif source == "google_play":
                rid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            else:
                rid = f"{self.rng.getrandbits(96):024x}"  # Trustpilot: 24 hex digits
            if rid not in self.used_ids:
                self.used_ids.add(rid)
                return rid

    def _fill(self, template: str, version: str, other: str | None = None) -> str:
        """Fill ``{slot}`` fields; ``{x2}`` differs from ``{x}`` in the same sentence."""
        chosen: dict[str, str] = {}

        def pick(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "app":
                return self.app.name
            if name == "other":
                return other or self.rng.choice(self.others).name
            if name == "version":
                return version
            base = name[:-1] if name.endswith("2") else name
            options = [v for v in phrases.SLOTS[base] if v != chosen.get(base)]
            value = self.rng.choice(options)
            chosen.setdefault(base, value)
            return value

        text = re.sub(r"\{(\w+)\}", pick, template)
        return text[:1].upper() + text[1:]
