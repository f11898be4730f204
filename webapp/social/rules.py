"""What each platform accepts, as its documentation says: checked before anything is sent.

Instagram Reels: Instagram Platform, Content Publishing and the IG User Media reference (Reels specs).
Facebook Pages: Graph API Video API, Page videos (non-resumable `file_url` uploads).
TikTok: Content Posting API, Media Transfer Guide and Video restrictions.
"""
import re
from dataclasses import dataclass

HASHTAG = re.compile(r"(?<!\w)#\w+")


@dataclass(frozen=True)
class PlatformRules:
    label: str
    caption_max: int  # characters (UTF-16 code units for TikTok, as it counts them)
    hashtags_max: int | None
    min_seconds: float
    max_seconds: float  # TikTok: the creator's own limit may be lower (creator_info)
    max_bytes: int
    min_side: int = 0
    takes_caption: bool = True


RULES = {
    "instagram": PlatformRules("Instagram", caption_max=2200, hashtags_max=30, min_seconds=3, max_seconds=15 * 60,
                               max_bytes=300 * 1024 * 1024),
    "facebook": PlatformRules("Facebook", caption_max=63206, hashtags_max=None, min_seconds=1,
                              max_seconds=240 * 60, max_bytes=1024 * 1024 * 1024),
    "tiktok": PlatformRules("TikTok", caption_max=2200, hashtags_max=None, min_seconds=3, max_seconds=10 * 60,
                            max_bytes=4 * 1024 * 1024 * 1024, min_side=360),
}


def caption_length(platform, caption):
    if platform == "tiktok":  # TikTok counts UTF-16 runes
        return len(caption.encode("utf-16-le")) // 2
    return len(caption)


def caption_problem(platform, caption):
    """Why the caption cannot go to the platform, in words; None when it can."""
    rules = RULES[platform]
    length = caption_length(platform, caption)
    if length > rules.caption_max:
        return f"{rules.label} captions are at most {rules.caption_max:,} characters; this one has {length:,}."
    hashtags = len(HASHTAG.findall(caption))
    if rules.hashtags_max is not None and hashtags > rules.hashtags_max:
        return f"{rules.label} allows at most {rules.hashtags_max} hashtags; this caption has {hashtags}."
    return None


def media_problem(platform, *, duration, size_bytes, width=None, height=None, max_seconds=None):
    """Why a file cannot go to the platform, in words; None when it can. max_seconds: a lower own limit."""
    rules = RULES[platform]
    limit = min(rules.max_seconds, max_seconds) if max_seconds else rules.max_seconds
    if duration is not None and duration < rules.min_seconds:
        return f"{rules.label} takes videos of {rules.min_seconds:g} seconds or more; this one is {duration:.1f} s."
    if duration is not None and duration > limit:
        return f"{rules.label} takes videos up to {_minutes(limit)}; this one is {_minutes(duration)}."
    if size_bytes is not None and size_bytes > rules.max_bytes:
        return f"{rules.label} takes files up to {rules.max_bytes // (1024 * 1024):,} MB; this one is " \
               f"{size_bytes / (1024 * 1024):,.0f} MB."
    if width and height and min(width, height) < rules.min_side:
        return f"{rules.label} needs at least {rules.min_side} pixels on each side; this video is {width}×{height}."
    return None


def _minutes(seconds):
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"
