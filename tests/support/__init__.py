"""Test support: a local HTTP server for real crawls, crawl helpers, shared-data lookup."""
