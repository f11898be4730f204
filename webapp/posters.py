"""Poster images (the share page's og:image and player poster), made once by a job and stored.

A poster is asked for when a recording is registered or a clip becomes ready (and, for rows older
than posters, on the first share-page view); the job probes the media with the same checks as an
upload, renders one frame (or a waveform for audio), and stores it beside the media. No request
ever waits for ffmpeg, and a failure is remembered instead of being retried on every view.
"""
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from webapp.clips.models import RecordingClip
from webapp.clips.states import ClipStatus
from webapp.extensions import db
from webapp.jobs import enqueue
from webapp.media import MP4_FORMATS, RECORDING_FORMATS, MediaError, probe, run_ffmpeg
from webapp.recordings.models import RECORDING_MODELS
from webapp.delivery import open_media
from webapp.storage import get_storage

POSTER_WIDTH = 1200
WAVEFORM_SIZE = f"{POSTER_WIDTH}x630"
QUEUED, READY, FAILED = "queued", "ready", "failed"
RENDER_TIMEOUT = 300


def poster_key(target):
    if isinstance(target, RecordingClip):
        return f"posters/clip-{target.id}.jpg"
    return f"posters/{target.source_type}-{target.id}.jpg"


def _kind(target):
    return "clip" if isinstance(target, RecordingClip) else target.source_type


def _model(kind):
    return RecordingClip if kind == "clip" else RECORDING_MODELS[kind]


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
            enqueue("make_poster", _kind(target), target.id)
        except Exception as exc:  # the queue's own errors have no common base class; try again next time
            current_app.logger.warning("could not queue the poster of %s %s: %s", _kind(target), target.id, exc)
            db.session.execute(update(model).where(model.id == target.id).values(poster_status=None))
            db.session.commit()
    db.session.refresh(target)
    return target.poster_status


def make_poster(kind, target_id):
    """The job: probe, render, store; 'ready', 'failed' or 'skipped'. Storage errors raise (a retry)."""
    target = db.session.get(_model(kind), target_id)
    if target is None or target.poster_status == READY:
        return "skipped"
    if isinstance(target, RecordingClip):
        if target.status != ClipStatus.READY:
            return "skipped"
        media_url, formats = target.storage_key, MP4_FORMATS
    else:
        media_url, formats = target.recording_url, RECORDING_FORMATS
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
        current_app.logger.info("no poster for %s %s: %s", kind, target_id, exc)
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


def requeue_unfinished():
    """Queue again the posters whose job was lost (a worker killed before it ran): at consumer start."""
    for kind in ("meet", "voice", "clip"):
        model = _model(kind)
        for target_id in db.session.scalars(select(model.id).where(model.poster_status == QUEUED)):
            enqueue("make_poster", kind, target_id)


def delete_poster(target):
    get_storage().delete(poster_key(target))
