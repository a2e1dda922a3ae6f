"""``reviewgap demo``: a generated corpus served in the real wire formats, crawled end to end.

Stage: demo (wraps every stage). Modules: :mod:`~analysis.demo.truth` (fictional apps and the
planted gaps), :mod:`~analysis.demo.phrases` (sentence material), :mod:`~analysis.demo.corpus`
(the seeded generator), :mod:`~analysis.demo.server` (a local HTTP server speaking the App Store,
Google Play and Trustpilot formats). The command itself is :mod:`analysis.commands.demo`.
"""
