"""Poster images (the share page's og:image and player poster), made once by a job and stored.

A poster is asked for when a recording is registered or a clip becomes ready (and, for rows older
than posters, on the first share-page view); the job probes the media with the same checks as an
upload, renders one frame (or a waveform for audio), and stores it beside the media. No request
ever waits for ffmpeg, and a failure is remembered instead of being retried on every view.
"""
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import update

from webapp.delivery import open_media
from webapp.extensions import db
from webapp.jobs import enqueue_poster
from webapp.media import MediaError, probe, run_ffmpeg
from webapp.storage import get_storage

POSTER_WIDTH = 1200
WAVEFORM_SIZE = f"{POSTER_WIDTH}x630"
QUEUED, READY, FAILED = "queued", "ready", "failed"
RENDER_TIMEOUT = 300


def poster_key(target):
    """posters/meet-<id>.jpg, posters/voice-<id>.jpg, posters/clip-<id>.jpg (a row's poster_kind)."""
    return f"posters/{target.poster_kind}-{target.id}.jpg"


def request_poster(target):
    """Queue the poster job once for a row that has no poster yet; the row's poster status."""
    if target.poster_status is not None:
        return target.poster_status
    model = type(target)
    claimed = db.session.execute(update(model).where(model.id == target.id, model.poster_status.is_(None))
                                 .values(poster_status=QUEUED)).rowcount == 1
    db.session.commit()
    if claimed:
        try:
            enqueue_poster(target.poster_kind, target.id)
        except Exception as exc:  # the queue's own errors have no common base class; try again next time
            current_app.logger.warning("could not queue the poster of %s %s: %s", target.poster_kind, target.id, exc)
            db.session.execute(update(model).where(model.id == target.id).values(poster_status=None))
            db.session.commit()
    db.session.refresh(target)
    return target.poster_status


def make_poster(target, media_url, formats):
    """The job's work: probe, render, store; 'ready' or 'failed'. Storage errors raise (a retry)."""
    storage = get_storage()
    try:
        with tempfile.TemporaryDirectory(prefix="reclip-poster-") as tmp:
            output = Path(tmp) / "poster.jpg"
            with open_media(media_url, formats) as source:
                info = probe(source)
                run_ffmpeg(_render_args(source, info, output), timeout=RENDER_TIMEOUT)
            with output.open("rb") as fh:
                storage.put(poster_key(target), fh, content_type="image/jpeg")
    except MediaError as exc:
        current_app.logger.info("no poster for %s %s: %s", target.poster_kind, target.id, exc)
        target.poster_status = FAILED
        db.session.commit()
        return FAILED
    target.poster_status = READY
    target.media_kind = target.media_kind or ("video" if info.has_video else "audio")  # a webhook's row learns it here
    if info.width and not target.width:
        target.width, target.height = info.width, info.height
    db.session.commit()
    return READY


def _render_args(source, info, output):
    if not info.has_video:
        return [*source.input_options(), "-i", source.url, "-filter_complex",
                f"showwavespic=s={WAVEFORM_SIZE}:colors=#3451d1", "-frames:v", "1", str(output)]
    at = min(1.0, info.duration_seconds / 2)
    return [*source.input_options(), "-ss", f"{at:.2f}", "-i", source.url, "-frames:v", "1",
            "-vf", f"scale={POSTER_WIDTH}:-2", "-q:v", "3", str(output)]


def delete_poster(target):
    get_storage().delete(poster_key(target))
