"""Sentence material for the demo corpus, written for this project (no third-party text).

Stage: demo (input to :mod:`analysis.demo.corpus`).
In: nothing (constants). Out: :data:`SENTENCES` (need -> polarity -> templates), :data:`TITLES`,
slot vocabularies (:data:`SLOTS`), openers, switching sentences and developer replies.

Templates carry ``{slot}`` fields that the generator fills from :data:`SLOTS` (or with the app's
own name for ``{app}`` and a competitor's for ``{other}``). Each need has several phrasings per
polarity, using the words real users reach for (synonyms, product nouns, devices), so that a
sentence-embedding classifier has to recognise the need rather than a fixed string.
"""

from __future__ import annotations

SLOTS: dict[str, tuple[str, ...]] = {
    "item": ("note", "notebook", "checklist", "draft", "journal entry", "meeting note", "page",
             "to-do list", "sketch", "lecture note"),
    "items": ("notes", "notebooks", "checklists", "drafts", "journal entries", "meeting notes",
              "pages", "to-do lists", "sketches", "lecture notes"),
    "device": ("iPhone", "iPad", "Mac", "Android phone", "Pixel", "Galaxy tablet",
               "Windows laptop", "Chromebook", "MacBook", "work PC"),
    "feature": ("handwriting mode", "tags", "templates", "a web clipper", "dark mode",
                "Markdown export", "voice memos", "shared folders", "backlinks",
                "PDF annotation", "reminders", "a table editor", "nested folders",
                "OCR search in images", "a calendar view", "version history"),
    "price": ("$4.99 a month", "$7.99 a month", "£5.99 a month", "$59 a year", "£49 a year",
              "$9.99 a month"),
    "duration": ("two weeks", "a month", "ten days", "three weeks", "six weeks"),
    "platform": ("Linux", "Windows", "the web", "Apple Watch", "Android tablets", "Kindle Fire"),
    "os": ("iOS 26", "Android 16", "macOS", "iPadOS", "Windows 11", "ChromeOS"),
}
"""Slot vocabularies; ``{device2}``/``{feature2}`` draw a second, different value."""

SENTENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "reliability": {
        "complaint": (
            "{app} crashes every time I open a {item}.",
            "The app keeps freezing and then closes itself while I type.",
            "It crashed twice today and I lost what I was writing.",
            "Constant crashes, it just quits on launch now.",
            "Half the time it hangs on a blank screen and I have to force close it.",
            "Buggy mess: it froze in the middle of a meeting and the {item} was gone.",
            "It randomly shuts down whenever I attach a photo to a {item}.",
            "Glitches everywhere, the editor jumps around and then the app crashes.",
        ),
        "praise": (
            "Rock solid, it has never crashed on me in a year of daily use.",
            "Very stable, no glitches or freezes at all.",
            "It just works reliably, every single day.",
            "It has been perfectly stable for all my {items}.",
            "Dependable and bug-free, which is all I ask.",
        ),
        "request": (
            "Please add an auto-recovery so a crash never loses a {item} again.",
            "I would love a crash-safe draft mode that saves every few seconds.",
        ),
        "question": (
            "Is anyone else getting crashes when opening {items}?",
            "Why does it keep crashing on my {device}?",
        ),
    },
    "performance": {
        "complaint": (
            "It takes forever to load, sometimes ten seconds just to open a {item}.",
            "Typing lags badly once a {item} gets long, it's really frustrating.",
            "Search is painfully slow and scrolling stutters.",
            "It drains my battery terribly and makes my {device} run hot.",
            "Sluggish on startup, the spinner sits there for ages.",
            "Everything feels painfully laggy, switching between {items} takes seconds.",
            "So slow on my {device} that I gave up waiting for it to open.",
            "The app eats memory and gets slower the more {items} I have.",
        ),
        "praise": (
            "Opens instantly and search is lightning fast.",
            "Snappy and light, even with thousands of {items}.",
            "Scrolling is smooth and it barely touches the battery.",
            "Super quick to launch, I can jot something down in a second.",
            "Fast and responsive on my old {device}.",
        ),
        "request": (
            "Please make startup faster, it is the one thing holding it back.",
            "A lighter mode that loads big {items} faster would be great.",
        ),
        "question": (
            "Why does it take so long to open on my {device}?",
            "Is there a way to make search faster with a big library?",
        ),
    },
    "usability": {
        "complaint": (
            "The interface is confusing and I can never find the settings.",
            "Too many taps to do something simple like moving a {item}, so annoying.",
            "The new layout is cluttered and the buttons are tiny.",
            "The formatting toolbar is hidden and completely unintuitive.",
            "Navigation makes no sense, I keep getting lost between folders.",
            "Awkward and frustrating to use with one hand, everything is at the top of the screen.",
        ),
        "praise": (
            "Clean, simple interface that is easy to learn.",
            "Intuitive design, I figured everything out in minutes.",
            "Love how uncluttered and easy to navigate it is.",
            "Beautifully designed and pleasant to write in.",
            "The layout is so easy to use that my parents picked it up right away.",
        ),
        "request": (
            "Please let me customize the toolbar and put the buttons I use first.",
            "A simpler way to move {items} between folders would help a lot.",
        ),
        "question": (
            "How do I change the font size? I can't find the setting anywhere.",
            "Where did the sort option go in the new layout?",
        ),
    },
    "compatibility": {
        "complaint": (
            "It doesn't work on my {device} since the {os} upgrade.",
            "No support for older devices, it won't even install on my {device}.",
            "The widget stopped working after updating to {os}.",
            "On my {device} the layout is broken and text runs off the screen.",
            "It isn't compatible with my stylus, so handwriting is useless on the {device}.",
            "Sadly it's not available for {platform}, so I can't use it on half my devices.",
        ),
        "praise": (
            "Works great across my {device} and {device2}.",
            "Works great on every device I own, even my old {device}.",
            "Great support for the latest {os} features.",
            "Same experience on every platform I use, from phone to desktop.",
        ),
        "request": (
            "Please make a version for {platform}.",
            "Please add support for {platform}, it is the only thing missing for me.",
        ),
        "question": (
            "Will there be a version for {platform}?",
            "Does it work on a {device} with {os}?",
        ),
    },
    "pricing": {
        "complaint": (
            "Way too expensive at {price} for a notes app.",
            "They raised the subscription price again without any warning.",
            "The free version is useless now, everything is behind a paywall.",
            "Charged me {price} after the trial even though I cancelled.",
            "Not worth the money anymore after the price hike.",
            "The new price of {price} is ridiculous, I'm cancelling my subscription.",
            "Greedy pricing: features I already paid for now need the premium plan, outrageous.",
        ),
        "praise": (
            "Great value for the price.",
            "The free tier is generous, you don't really need to pay.",
            "A fair price, and the subscription is worth every cent.",
            "Affordable and well worth the price.",
        ),
        "request": (
            "Please offer a one-time purchase instead of a subscription.",
            "A cheaper student plan would be nice.",
        ),
        "question": (
            "Why did the price go up to {price}?",
            "Is there a family plan so I don't pay for every person?",
        ),
    },
    "privacy_security": {
        "complaint": (
            "I don't trust how they handle my data, they share it with advertisers.",
            "There's no end-to-end encryption for private {items}, which is unacceptable.",
            "The app asks for my contacts and location for no reason.",
            "Full of trackers and ads, my private {items} don't feel private.",
            "There's no passcode lock, anyone who picks up my phone can read my journal.",
        ),
        "praise": (
            "I like that everything is encrypted and stays private.",
            "I love that it respects my privacy.",
            "The Face ID lock keeps my journal secure.",
            "Good to know my {items} are end-to-end encrypted.",
        ),
        "request": (
            "Please add a passcode lock for individual {items}.",
            "Please add end-to-end encryption for synced {items}.",
        ),
        "question": (
            "Is my data encrypted on their servers?",
            "Do they sell my data to third parties?",
        ),
    },
    "support": {
        "complaint": (
            "Customer support never replied to any of my emails.",
            "I contacted support three times over {duration} and got nothing but canned replies.",
            "There is no way to reach a human, the help center is useless.",
            "Support closed my ticket without fixing anything.",
            "Still waiting for customer service to reply after {duration}.",
            "The support team just sends links to the FAQ and never reads the question.",
            "Nobody at the company responds to refund or help requests.",
        ),
        "praise": (
            "Support replied within an hour and was wonderful.",
            "The customer service team was friendly and helpful.",
            "Great support, the developer answered my email personally.",
        ),
        "request": (
            "Please add live chat support.",
            "A phone number or chat for customer service would really help.",
        ),
        "question": (
            "How do I contact support? There is no email address anywhere.",
            "Is anyone actually reading the support tickets?",
        ),
    },
    "sync_data": {
        "complaint": (
            "Sync between my {device} and {device2} is broken, changes never show up.",
            "My {items} didn't sync and I lost a week of work.",
            "Syncing creates duplicate conflicting copies of every {item}.",
            "Edits I make on the laptop disappear on my phone.",
            "A whole notebook vanished after a sync, the data is just gone.",
            "It says synced but my {items} on the {device} are days out of date.",
            "Lost data again: the sync overwrote my newer {item} with an old version.",
            "Sync keeps failing with an error and my {items} are stuck on one device.",
        ),
        "praise": (
            "Sync is seamless, my {items} are on every device instantly.",
            "It syncs flawlessly between my {device} and {device2}.",
            "Backup and sync work perfectly.",
            "I love that sync is instant: everything is on all my devices within seconds.",
        ),
        "request": (
            "Please add a way to export and back up all my {items} at once.",
            "Please let me sync through my own cloud storage.",
        ),
        "question": (
            "Why aren't my {items} syncing to my {device}?",
            "Is there a way to restore a deleted {item} from a backup?",
        ),
    },
    "account_login": {
        "complaint": (
            "I keep getting logged out and have to sign in again every day.",
            "I can't log in, the password reset email never arrives.",
            "The two-factor code never comes, so I'm locked out of my account.",
            "It forces me to create an account just to write a {item}.",
            "Sign in with Google fails with an error every time.",
        ),
        "praise": (
            "Signing in was quick and painless.",
            "Logging in with my Apple ID works perfectly.",
            "Setting up the account took seconds.",
        ),
        "request": (
            "Please let me use the app without creating an account.",
            "Please add sign in with Apple.",
        ),
        "question": (
            "How do I delete my account?",
            "Why can't I log in with my email address anymore?",
        ),
    },
    "features": {
        "complaint": (
            "It's missing basic features like tables and checklists.",
            "Frustratingly limited, there is no way to tag or sort {items}.",
            "They removed {feature}, which I used every day.",
            "It lacks {feature}, which every other notes app has.",
            "Disappointingly basic: no {feature} and no {feature2}.",
        ),
        "praise": (
            "Having {feature} is brilliant.",
            "Packed with useful features like {feature} and {feature2}.",
            "{feature} alone makes it worth it.",
            "It has every feature I need for my {items}.",
            "Adding {feature} was a great idea, I love it.",
        ),
        "request": (
            "Please add {feature}.",
            "It would be great to have {feature}.",
            "I wish it had {feature} for my {items}.",
            "Feature request: {feature}, please.",
            "If you added {feature} this would be perfect.",
        ),
        "question": (
            "Is there a way to use {feature}?",
            "Does it support {feature}?",
        ),
    },
    "content": {
        "complaint": (
            "The handwriting recognition turns my words into gibberish.",
            "Voice memo transcriptions are full of mistakes and useless.",
            "The AI summaries of my {items} are inaccurate and useless.",
            "Search in scanned images reads the text wrong, the OCR is way off.",
            "The spell checker keeps changing correct words into wrong ones, it's maddening.",
        ),
        "praise": (
            "Handwriting recognition is impressively accurate.",
            "The transcriptions of my voice memos are spot on.",
            "The AI summaries of long {items} are surprisingly accurate.",
        ),
        "request": (
            "Please improve the accuracy of handwriting recognition.",
            "Better transcription quality for voice memos would be great.",
        ),
        "question": (
            "Why is the text recognition so inaccurate with my handwriting?",
            "Can I correct the transcription when it gets words wrong?",
        ),
    },
    "updates": {
        "complaint": (
            "This latest update wrecked the whole app for me.",
            "Every update changes the layout for no reason.",
            "No updates in months, it feels abandoned by the developers.",
            "Since version {version} things got worse, please roll back.",
            "The update forced a redesign nobody asked for.",
        ),
        "praise": (
            "Frequent updates with real improvements.",
            "The developers listen and ship updates every few weeks.",
            "Each new version gets better.",
        ),
        "request": (
            "Please publish proper release notes so we know what changed.",
            "Please let us stay on the old layout after updating.",
        ),
        "question": (
            "When is the next update coming?",
            "What changed in version {version}?",
        ),
    },
}
"""need -> polarity -> sentence templates."""

TITLES: dict[str, dict[str, tuple[str, ...]]] = {
    "reliability": {"complaint": ("Crashes constantly", "Keeps freezing", "Unstable"),
                    "praise": ("Rock solid", "Never crashes")},
    "performance": {"complaint": ("So slow", "Laggy", "Battery hog"),
                    "praise": ("Fast and light", "Snappy")},
    "usability": {"complaint": ("Confusing layout", "Hard to use"),
                  "praise": ("Easy to use", "Clean design")},
    "compatibility": {"complaint": ("Broken on my device", "Not compatible"),
                      "praise": ("Works everywhere",)},
    "pricing": {"complaint": ("Too expensive", "Price hike", "Not worth it anymore"),
                "praise": ("Great value", "Worth it")},
    "privacy_security": {"complaint": ("Privacy concerns", "Not secure"),
                         "praise": ("Private and secure",)},
    "support": {"complaint": ("Terrible support", "No reply from support", "Nobody answers"),
                "praise": ("Great support",)},
    "sync_data": {"complaint": ("Sync is broken", "Lost my notes", "Data loss"),
                  "praise": ("Flawless sync", "Syncs perfectly")},
    "account_login": {"complaint": ("Can't log in", "Locked out"),
                      "praise": ("Easy sign in",)},
    "features": {"complaint": ("Missing features", "Too basic"),
                 "praise": ("Great features", "Does everything")},
    "content": {"complaint": ("Inaccurate transcription", "Recognition is poor"),
                "praise": ("Accurate recognition",)},
    "updates": {"complaint": ("Bad update", "Update broke it"),
                "praise": ("Keeps getting better",)},
}
"""Short titles (Apple and Trustpilot reviews have one) for a review's main statement."""

GENERIC_TITLES: dict[str, tuple[str, ...]] = {
    "praise": ("Love it", "Great app", "Five stars", "My go-to notes app", "Excellent"),
    "complaint": ("Disappointed", "Frustrating", "Used to be good", "Not happy"),
    "request": ("One request", "Almost perfect", "Feature request", "Suggestion"),
    "question": ("Question", "Help please", "Quick question"),
}

OPENERS: tuple[str, ...] = (
    "I use {app} every day for work and school.",
    "Been using {app} for about two years now.",
    "I write all my {items} in {app}.",
    "Downloaded {app} last month.",
    "I've tried a lot of notes apps.",
)
"""Need-free first sentences (real reviews often start with one)."""

CLOSERS: dict[str, tuple[str, ...]] = {
    "good": ("Highly recommended.", "Thank you, developers!", "Keep up the good work."),
    "bad": ("Very disappointed.", "Two stars until this is fixed.", "Really frustrating."),
}

SWITCH_AWAY: tuple[str, ...] = (
    "I'm moving to {other} with all my {items}, at least their sync works.",
    "Switching to {other} because I can't trust this sync anymore.",
    "After losing {items} twice I switched to {other}.",
)
"""Said in a review of the app being left; ``{other}`` is the app people move to."""

SWITCH_FROM: tuple[str, ...] = (
    "I switched from {other} because it kept losing my {items}, and sync here just works.",
    "Came over from {other} after its sync failed me one time too many.",
    "Moved over from {other} with all my {items}, and every device stays in sync now.",
)
"""Said in a review of the app people move to; ``{other}`` is the app they left."""

REPLIES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "Thanks for letting us know. We're sorry about the trouble; please write to us from "
        "the app's Help menu so we can look into your account.",
        "We're sorry to hear this. Our team is working on a fix in the next release.",
        "Thank you for the feedback. Could you send us the details from Settings > Help so we "
        "can investigate?",
    ),
    "praise": (
        "Thank you for the kind words! Happy writing.",
        "We're glad you enjoy it. Thanks for the review!",
    ),
    "other": (
        "Thanks for the suggestion, we've shared it with the product team.",
        "Good idea! We've added it to our list.",
    ),
}
"""Developer/company replies (Google Play and Trustpilot show them)."""

AUTHOR_FIRST: tuple[str, ...] = (
    "Sam", "Alex", "Jordan", "Taylor", "Casey", "Robin", "Morgan", "Jamie", "Riley", "Avery",
    "Charlie", "Drew", "Quinn", "Reese", "Skyler", "Rowan",
)
AUTHOR_SUFFIX: tuple[str, ...] = ("notes", "writes", "reader", "jots", "student", "pm", "dev")
"""Invented, neutral reviewer nicknames ("Riley_jots42"): no real people."""
