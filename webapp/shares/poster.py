"""Poster images (Open Graph og:image) made with ffmpeg and stored beside the media."""
import tempfile
from functools import lru_cache
from pathlib import Path

from webapp.media import MediaError, probe, run_ffmpeg
from webapp.recordings.service import ffmpeg_input
from webapp.storage import get_storage

POSTER_WIDTH = 1200


def poster_key(recording, clip):
    return f"posters/clip-{clip.id}.jpg" if clip else f"posters/{recording.source_type}-{recording.id}.jpg"


def _media_url(recording, clip):
    return clip.storage_key if clip else recording.recording_url


def _audio_only(recording, clip):
    if clip:
        return clip.storage_key.endswith(".m4a")
    return recording.source_type == "voice"


def ensure_poster(recording, clip):
    """The storage key of the poster, made on first use (a frame, or a waveform for audio)."""
    storage = get_storage()
    key = poster_key(recording, clip)
    if storage.head(key) is not None:
        return key
    source = ffmpeg_input(_media_url(recording, clip))
    with tempfile.TemporaryDirectory(prefix="reclip-poster-") as tmp:
        output = Path(tmp) / "poster.jpg"
        if _audio_only(recording, clip):
            args = ["-i", source, "-filter_complex",
                    f"showwavespic=s={POSTER_WIDTH}x630:colors=#3451d1", "-frames:v", "1", str(output)]
        else:
            duration = (clip.duration_seconds if clip else recording.duration_seconds) or 0
            at = min(1.0, duration / 2)
            args = ["-ss", f"{at:.2f}", "-i", source, "-frames:v", "1", "-vf", f"scale={POSTER_WIDTH}:-2",
                    "-q:v", "3", str(output)]
        run_ffmpeg(args, timeout=60)
        with output.open("rb") as fh:
            storage.put(key, fh, content_type="image/jpeg")
    return key


@lru_cache(maxsize=1024)
def _dimensions(source_key):
    try:
        info = probe(ffmpeg_input(source_key))  # an external URL the proxy may not fetch raises too
    except MediaError:
        return None
    return (info.width, info.height) if info.width else None


def video_dimensions(recording, clip):
    """(width, height) of the video, or None for audio or when it cannot be read."""
    if _audio_only(recording, clip):
        return None
    return _dimensions(_media_url(recording, clip))
