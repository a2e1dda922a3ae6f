"""The needs taxonomy: what customers need from a product, with descriptions and examples.

Stage: classify (configuration part). In: the config's ``[needs]`` section. Out: a
:class:`Taxonomy` (ordered needs with stable ids and a content digest that is part of the
classifier's ``model_version``).

The example sentences below were written for this project (no third-party review text). They
train the shipped needs heads (see :mod:`analysis.classify.fit_defaults`) and a user's own
needs (``[[needs.custom]]`` examples) at start-up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from analysis.config import NeedsSection


@attrs.frozen
class Need:
    """One need: a stable id (stored, never shown), a label (shown), a description, examples."""

    id: str
    label: str
    description: str
    examples: tuple[str, ...] = ()


DEFAULT_NEEDS: tuple[Need, ...] = (
    Need("reliability", "Reliability",
         "The app crashes, freezes, hangs, loses work or stops working.", (
        "The app crashes every time I open it.",
        "It keeps freezing on the loading screen.",
        "Since yesterday it just shows a blank white screen.",
        "It force closes whenever I try to save.",
        "The app stopped working after a few days.",
        "Constant errors, nothing loads anymore.",
        "It randomly logs me out and loses what I was doing.",
        "The widget is broken and never refreshes.",
        "I get an unknown error message every single time.",
        "Notifications stopped working completely.",
        "It hangs for minutes and then closes itself",
        "buggy mess, half the buttons do nothing",
        "It has never crashed on me.",
        "Stable and dependable, it just works.",
        "Works every time without a hiccup.",
        "No glitches at all since I installed it.",
        "Reliable enough that I trust it with my work.",
        "The bugs from last year are all gone.",
        "Tapping save does nothing and my changes are lost.",
        "Error after error when I try to upload.",
        "Videos stop playing halfway through.",
        "It occasionally glitches but mostly works.",
    )),
    Need("performance", "Speed and performance",
         "Slow, laggy, heavy on battery, memory or storage.", (
        "The app is painfully slow to start.",
        "Scrolling is laggy and choppy.",
        "It drains my battery in a few hours.",
        "Loading the dashboard takes forever.",
        "It uses way too much storage for what it does.",
        "My phone gets hot when this app runs in the background.",
        "Pages take ten seconds to load even on wifi.",
        "Since the update everything is sluggish.",
        "The app eats up all my mobile data.",
        "It is so heavy that my older phone can barely run it.",
        "super fast and smooth, opens instantly",
        "Blazing fast, pages open in a blink.",
        "Runs smoothly even on a cheap phone.",
        "Light on battery, I barely notice it running.",
        "Small download and it doesn't hog memory.",
        "Scrolling through thousands of items stays fluid.",
        "Much quicker than the competition.",
        "Everything takes a few seconds too long.",
        "The animations stutter on my tablet.",
        "Uploading a photo takes forever on mobile data.",
        "Speed is acceptable, nothing special.",
    )),
    Need("usability", "Ease of use",
         "Design, navigation, clarity and how easy the app is to use.", (
        "The new layout is confusing and cluttered.",
        "I can never find the settings menu.",
        "Too many taps to do something simple.",
        "The interface is clean and easy to understand.",
        "The font is tiny and hard to read.",
        "Buttons are too small and I keep pressing the wrong one.",
        "Navigation makes no sense after the redesign.",
        "Very intuitive, my parents figured it out in minutes.",
        "Dark mode makes the text unreadable.",
        "The charts are hard to interpret.",
        "The onboarding is long and annoying.",
        "simple to use and nicely designed",
        "Really easy to get started with.",
        "The layout is tidy and logical.",
        "Everything is one tap away.",
        "Clear menus and helpful labels.",
        "A pleasure to use, well thought out.",
        "Anyone can figure it out without instructions.",
        "The settings are buried three menus deep.",
        "Gestures are inconsistent and hard to discover.",
        "The colours make it hard to tell buttons apart.",
        "Takes a little while to learn where things are.",
    )),
    Need("compatibility", "Device and platform support",
         "Works (or not) with a device, OS version, watch, browser or other app.", (
        "It does not support my Android tablet.",
        "Not compatible with the latest iOS version.",
        "My watch will not pair with the app.",
        "Please make a version for iPad.",
        "It doesn't connect to my Bluetooth scale.",
        "The app won't install on my phone model.",
        "Works great with my smartwatch.",
        "No support for Wear OS devices.",
        "It doesn't work with Google Fit or Apple Health.",
        "After the OS upgrade the app is incompatible.",
        "the desktop version doesn't run on Linux",
        "Connects to my smartwatch without any issues.",
        "Works on all my devices, phone, tablet and laptop.",
        "Integrates smoothly with my calendar and email.",
        "Supports every Bluetooth speaker I have tried.",
        "Runs fine on older Android versions too.",
        "Plays nicely with Apple Health.",
        "The app doesn't detect my headphones.",
        "Not available on my TV.",
        "Stopped working with my router after the firmware change.",
        "Only available on Android for now.",
    )),
    Need("pricing", "Price and subscription",
         "Cost, subscriptions, paywalls, ads, billing and value for money.", (
        "Way too expensive for what you get.",
        "Everything useful is now behind a paywall.",
        "They charged me after I cancelled my subscription.",
        "The monthly fee keeps going up.",
        "Too many ads, I can't use it without paying.",
        "Great value, the free version is enough for me.",
        "I want a refund for the yearly plan.",
        "A one-time purchase would be better than a subscription.",
        "The free trial automatically turned into a paid plan.",
        "Premium is not worth the money.",
        "hidden charges on my credit card",
        "Reasonably priced subscription.",
        "Worth every cent I pay for it.",
        "The free version has everything I need.",
        "No annoying ads, which I really appreciate.",
        "Affordable compared to similar apps.",
        "Great deal for a family plan.",
        "The in-app purchases are a rip-off.",
        "Too many pop-up adverts.",
        "I can't find how to cancel my membership.",
        "I pay for the monthly plan.",
    )),
    Need("privacy_security", "Privacy and security",
         "Personal data, permissions, tracking, account security and trust.", (
        "Why does it need access to my contacts and location?",
        "I don't trust what they do with my health data.",
        "They share your data with advertisers.",
        "There is no two-factor authentication.",
        "My account was hacked and someone changed my password.",
        "Too many permissions for a simple app.",
        "I want to delete my data but there is no option.",
        "It tracks my location even when it's closed.",
        "Please add a PIN or fingerprint lock.",
        "The privacy policy is vague and worrying.",
        "I got spam emails right after signing up",
        "I trust them with my personal data.",
        "Great privacy settings that are easy to find.",
        "Asks for only the permissions it needs.",
        "Secure login with a PIN and biometrics.",
        "My data stays on my phone, which I love.",
        "Glad it offers two-step verification.",
        "It asks for access to my camera for no reason.",
        "They sell your information to marketers.",
        "Someone got into my account and the app didn't warn me.",
        "I read the privacy policy before signing up.",
    )),
    Need("support", "Customer support",
         "Help from the company: responses, refunds, service quality.", (
        "Customer service never answered my emails.",
        "Support was quick and solved my problem.",
        "I have been waiting two weeks for a reply.",
        "The chat bot is useless and there is no human to talk to.",
        "They closed my ticket without fixing anything.",
        "The help pages don't explain anything.",
        "Support keeps giving me the same copy-paste answer.",
        "Friendly staff who really tried to help.",
        "No phone number to call when something goes wrong.",
        "I contacted support three times with no response.",
        "the developer replied and fixed it the next day",
        "Customer service was fantastic.",
        "They replied within a day and solved everything.",
        "Support staff are kind and knowledgeable.",
        "The help centre answered my question.",
        "Got a refund quickly after contacting them.",
        "Kudos to the support team for their patience.",
        "Nobody from the company ever gets back to you.",
        "The support email bounces.",
        "I asked for help and got a generic reply.",
        "I contacted support about my order.",
    )),
    Need("sync_data", "Sync and data",
         "Syncing between devices, data loss, import, export and backups.", (
        "My data doesn't sync between my phone and the website.",
        "All my history disappeared after the update.",
        "Sync takes hours or fails completely.",
        "I lost months of records.",
        "Please let me export my data to CSV.",
        "Steps are not syncing from my watch.",
        "There is no way to back up or restore my data.",
        "Data from yesterday is missing.",
        "It duplicates entries every time it syncs.",
        "I can't import my data from my old app.",
        "the numbers on the app and the web don't match",
        "Syncs perfectly between my phone and computer.",
        "My data is always backed up and safe.",
        "Easy to download all my records as a file.",
        "Moving my history to a new phone was painless.",
        "Cloud backup works like a charm.",
        "Everything stays in sync across devices.",
        "My saved items disappeared overnight.",
        "The web version shows different data than the app.",
        "Import from my old app failed halfway.",
        "I use it on both my phone and laptop.",
    )),
    Need("account_login", "Account and login",
         "Signing up, logging in, passwords, verification codes, account access.", (
        "I can't log in, it says my password is wrong.",
        "The verification code never arrives.",
        "It keeps asking me to sign in again.",
        "Creating an account is mandatory just to try the app.",
        "I was locked out of my account.",
        "Password reset link doesn't work.",
        "Login with Google fails every time.",
        "I can't change the email address on my account.",
        "My account was deleted without warning.",
        "Registration fails with a server error.",
        "stuck on the sign in page",
        "Signing up took seconds.",
        "Login with Google works smoothly.",
        "Staying logged in is convenient.",
        "Password reset was quick and easy.",
        "Getting into my account is hassle free.",
        "Creating an account was simple.",
        "It won't accept my password even after a reset.",
        "The two-step code expires before it arrives.",
        "My account got suspended for no reason.",
        "You need an account to use it.",
    )),
    Need("features", "Features and functionality",
         "What the product can do: missing, wanted, removed or appreciated features.", (
        "Please add a dark mode.",
        "It would be great to have a weekly summary.",
        "I wish I could set custom goals.",
        "They removed the feature I used the most.",
        "It lacks basic features other apps have.",
        "The sleep tracking feature is excellent.",
        "Please bring back the old statistics page.",
        "An option to edit entries would be nice.",
        "Add support for more workout types.",
        "Can you add a widget for the home screen?",
        "The reminders feature is exactly what I needed.",
        "missing a way to share with family members",
        "It has all the features I need.",
        "Comes with lots of clever options.",
        "The new budgeting tool is great.",
        "Love the ability to share lists.",
        "Offline access saved me on a long flight.",
        "Lots of handy features for free.",
        "It's missing a search function.",
        "I can't filter my entries by tag.",
        "Would be nice to have a tablet widget.",
        "It only does the basics.",
    )),
    Need("content", "Content and accuracy",
         "Quality, accuracy and amount of the content or measurements the product provides.", (
        "The step count is way off.",
        "Heart rate readings are inaccurate.",
        "The calorie numbers make no sense.",
        "Great workouts and useful articles.",
        "The map shows the wrong route.",
        "Translations are poor and full of mistakes.",
        "The information is outdated.",
        "The sleep data is not accurate at all.",
        "There is not enough content for beginners.",
        "Recommendations are spot on.",
        "it counted steps while I was sitting in the car",
        "The recipes are delicious and well explained.",
        "Accurate measurements every time.",
        "Huge library of songs and podcasts.",
        "The lessons are well made and fun.",
        "Its suggestions are really relevant to me.",
        "High quality articles and videos.",
        "The prices listed are often out of date.",
        "The audiobooks have poor narration.",
        "The weather forecast is always wrong.",
        "It shows news from several sources.",
    )),
    Need("updates", "Updates and changes",
         "Effects of updates and redesigns; how the product changes over time.", (
        "The latest update ruined the app.",
        "Ever since the last update nothing works properly.",
        "Please roll back the new version.",
        "Every update makes it worse.",
        "The new update is great, thanks for listening.",
        "They keep changing things for no reason.",
        "No updates in months, it feels abandoned.",
        "The update removed my favourite screen.",
        "Waiting for a fix in the next update.",
        "The redesign was a step backwards.",
        "updated today and now it won't open",
        "The latest update made it even better.",
        "They ship fixes and improvements every month.",
        "Glad they keep improving it with every release.",
        "The redesign looks fantastic.",
        "The recent update fixed the bugs I had.",
        "Developers keep adding features in updates.",
        "This release is a step down from the last one.",
        "Each update brings new bugs.",
        "Since updating, the app feels slower.",
        "An update came out last week.",
    )),
)
"""The default needs, in report order. Ids are stable: they key stored mentions."""

GENERIC_SENTENCES: tuple[str, ...] = (
    "I love it.", "Great app!", "Five stars.", "Terrible.", "Good", "Not bad.", "Thanks!",
    "Best app ever", "Very useful app", "I use it every day.", "Awesome", "Nice",
    "I hate this app.", "Worst app ever.", "Highly recommend.", "Okay I guess.",
    "Keep up the good work.", "Amazing!!!", "Do not download.", "Just what I wanted.",
    "Useless.", "Pretty good overall.", "Love it 😍", "meh", "It is fine.",
    "My wife uses it too.", "I have been using it for years.", "Thank you developers.",
    "I downloaded it yesterday.", "Would give zero stars if I could.",
    "Really happy with it.", "Excellent app, well done.", "So good!", "Disappointing.",
    "Very pleased with it.", "I would recommend it to anyone.", "Been using it for a month now.",
    "Solid app.", "Could be worse.", "Brilliant.", "Hate it.", "My friend suggested it.",
    "Everything is perfect.", "Nothing to complain about.",
)
"""Sentences that name no need: negatives for every needs head."""


@attrs.frozen
class Taxonomy:
    """The needs in use for one project (defaults minus disabled, renamed, plus custom)."""

    needs: tuple[Need, ...]

    def __iter__(self) -> Iterator[Need]:
        return iter(self.needs)

    def __len__(self) -> int:
        return len(self.needs)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.needs)

    def label(self, need_id: str) -> str:
        """The label shown for a need id (the id itself for unknown ids such as themes)."""
        return next((n.label for n in self.needs if n.id == need_id), need_id)

    @property
    def digest(self) -> str:
        """12 hex digits over ids, descriptions and examples (labels are display only)."""
        payload = [[n.id, n.description, list(n.examples)] for n in self.needs]
        return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()[:12]


def build_taxonomy(needs_section: NeedsSection | None = None) -> Taxonomy:
    """Apply a config ``[needs]`` section to the default needs.

    Args:
        needs_section: ``disable`` (ids to drop), ``rename`` (id -> label), ``custom`` (extra
            needs with label, description and examples). ``None`` gives the defaults.

    Returns:
        The taxonomy in report order: remaining defaults first, then custom needs.

    Raises:
        ValueError: an unknown id in ``disable``/``rename``, or a custom need without examples
            or description (its head would have nothing to learn from).
    """
    if needs_section is None:
        return Taxonomy(DEFAULT_NEEDS)
    known = {n.id for n in DEFAULT_NEEDS}
    for key in ("disable", "rename"):
        unknown = sorted(set(getattr(needs_section, key)) - known)
        if unknown:
            raise ValueError(f"needs.{key}: {unknown[0]!r} is not a default need id")
    needs = [
        attrs.evolve(n, label=needs_section.rename.get(n.id, n.label))
        for n in DEFAULT_NEEDS
        if n.id not in set(needs_section.disable)
    ]
    for custom in needs_section.custom:
        if not custom.examples and not custom.description:
            raise ValueError(
                f"needs.custom: need {custom.id!r} has neither examples nor a description"
            )
        needs.append(Need(custom.id, custom.label, custom.description, tuple(custom.examples)))
    return Taxonomy(tuple(needs))


def training_sentences(needs: Sequence[Need]) -> tuple[list[str], list[set[str]]]:
    """Example sentences with their need ids (description counts as an example too).

    Generic sentences come with an empty set: they are negatives for every need.
    """
    texts: list[str] = []
    labels: list[set[str]] = []
    for need in needs:
        for sentence in (*need.examples, need.description):
            if sentence:
                texts.append(sentence)
                labels.append({need.id})
    for sentence in GENERIC_SENTENCES:
        texts.append(sentence)
        labels.append(set())
    return texts, labels
