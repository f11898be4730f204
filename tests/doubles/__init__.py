"""Contract doubles of the platforms Reclip publishes to (issue 14): local HTTP servers written from the
platforms' documentation, which the app reaches through its *_URL settings. See meta.py and tiktok.py
for the rules each one enforces and where each rule is documented.
"""
from tests.doubles.meta import MetaDouble
from tests.doubles.tiktok import TikTokDouble

__all__ = ["MetaDouble", "TikTokDouble"]
