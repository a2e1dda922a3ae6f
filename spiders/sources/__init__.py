"""Spider modules (``SPIDER_MODULES``): one spider per source, navigation only."""
