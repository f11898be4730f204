"""Server-side clips: the cut job, recovery of stalled jobs, and clean-up. Run inside an app context."""
import re
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from webapp.clips import service, states
from webapp.clips.models import RecordingClip
from webapp.clips.states import ClipStatus
from webapp.extensions import db
from webapp.jobs import enqueue_cut
from webapp.media import MediaError, run_ffmpeg
from webapp.delivery import open_media
from webapp.storage import StorageError, get_storage
from webapp.timeutil import utcnow

MAX_ATTEMPTS = 5  # starts of one clip's job, retries and recoveries included
UPLOAD_EXPIRY = timedelta(hours=1)
ORPHAN_AGE = timedelta(days=1)
FFMPEG_TIMEOUT = 3600


def ffmpeg_cut_args(source, start, end, output, *, precise, audio_only):
    """-ss before -i: a stream copy starts at the keyframe before START; a re-encode starts exactly there."""
    args = [*source.input_options(), "-ss", f"{start:.3f}", "-i", source.url, "-t", f"{end - start:.3f}"]
    if audio_only:
        args += ["-vn"]
    if precise:
        if not audio_only:
            args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
        args += ["-c:a", "aac", "-b:a", "128k"]
    else:
        args += ["-c", "copy", "-avoid_negative_ts", "make_zero"]
    return [*args, "-movflags", "+faststart", str(output)]


def cut_clip(clip_id, retries_left=0):
    """The job: cut, upload, verify; idempotent, and safe to run twice. Raises to ask for a retry."""
    if not states.claim_job(clip_id):
        return "skipped"
    clip = db.session.get(RecordingClip, clip_id)
    try:
        _cut_and_store(clip)
    except (MediaError, StorageError) as exc:
        db.session.rollback()
        clip = db.session.get(RecordingClip, clip_id)
        if retries_left > 0 and clip.attempts < MAX_ATTEMPTS:
            states.queue_for_retry(clip)
            raise
        _fail(clip, str(exc))
        return ClipStatus.FAILED.value
    return ClipStatus.READY.value


def _cut_and_store(clip):
    storage = get_storage()
    audio_only = clip.media_kind == "audio"
    with tempfile.TemporaryDirectory(prefix="reclip-clip-") as tmp:
        output = Path(tmp) / f"clip{Path(clip.storage_key).suffix}"
        stale = current_app.config["CLIP_JOB_STALE_SECONDS"]
        try:
            with open_media(clip.recording_url) as source:
                args = ffmpeg_cut_args(source, clip.start_seconds, clip.end_seconds, output,
                                       precise=clip.precise, audio_only=audio_only)
                try:
                    run_ffmpeg(args, timeout=FFMPEG_TIMEOUT, on_tick=lambda: states.heartbeat(clip.id),
                               tick_seconds=max(1, stale / 4))
                except MediaError as exc:
                    # The reason is shown to the user: never the server's path or a presigned URL.
                    raise MediaError(str(exc).replace(source.url, "the recording")) from None
        except MediaError as exc:
            raise MediaError(f"The recording could not be cut: {exc}") from None
        states.set_step(clip, "uploading")
        with output.open("rb") as fh:
            storage.put(clip.storage_key, fh, content_type=service.clip_content_type(clip))
    states.set_step(clip, "checking")
    try:
        size, media = service.verify_clip_object(clip)
    except MediaError:
        storage.delete(clip.storage_key)
        raise
    service.finish(clip, size, media)


def _fail(clip, reason):
    get_storage().delete(clip.storage_key)
    states.mark_failed(clip, reason)


def recover_stalled():
    """Re-queue clips whose job stopped without finishing (a killed worker); fail those tried too often."""
    stale = timedelta(seconds=current_app.config["CLIP_JOB_STALE_SECONDS"])
    now = utcnow()
    # A browser clip stuck while its upload was checked (the web process died): it may be completed again.
    for clip_id in db.session.scalars(select(RecordingClip.id).where(
            RecordingClip.mode == "browser", RecordingClip.status == ClipStatus.PROCESSING,
            RecordingClip.updated_at < now - stale)).all():
        states.release_check(clip_id)
    candidates = db.session.execute(
        select(RecordingClip.id, RecordingClip.status, RecordingClip.attempts).where(
            RecordingClip.mode == "server",
            ((RecordingClip.status == ClipStatus.PROCESSING) & (RecordingClip.updated_at < now - stale))
            | ((RecordingClip.status == ClipStatus.QUEUED) & (RecordingClip.updated_at < now - stale * 10)))
    ).all()
    requeued = []
    for clip_id, status, attempts in candidates:
        if attempts >= MAX_ATTEMPTS:
            clip = db.session.get(RecordingClip, clip_id)
            _fail(clip, f"The server job stopped {attempts} times without finishing.")
            continue
        if states.requeue(clip_id, status, attempts):
            enqueue_cut(clip_id)
            requeued.append(clip_id)
    return requeued


def cleanup():
    """Expire browser uploads never completed within an hour; delete clip objects and posters that no clip
    needs (an upload made again with a still-valid policy after `complete` included)."""
    storage = get_storage()
    now = utcnow()
    expired = db.session.scalars(select(RecordingClip).where(
        RecordingClip.status == ClipStatus.AWAITING_UPLOAD, RecordingClip.created_at < now - UPLOAD_EXPIRY)).all()
    for clip in expired:
        storage.delete(clip.storage_key)
        states.expire(clip, "The upload was not completed within an hour.")
    db.session.commit()

    dead = []
    for batch in _batches(storage.list("clips/")):
        dead += _unneeded_clip_objects(batch, now)
    for batch in _batches(storage.list("posters/clip-")):
        dead += _posters_without_clip(batch)
    for key in dead:
        storage.delete(key)
    return {"expired": len(expired), "orphans_deleted": len(dead)}


_CLIP_KEY = re.compile(r"^clips/(?:uploads/)?([0-9a-f]{32})(?:-ready)?\.\w+$")
_CLIP_POSTER_KEY = re.compile(r"^posters/clip-([0-9a-f]{32})\.jpg$")


def _batches(infos, size=500):
    batch = []
    for info in infos:
        batch.append(info)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _clip_rows(ids):
    if not ids:
        return {}
    rows = db.session.execute(select(RecordingClip.id, RecordingClip.storage_key, RecordingClip.status)
                              .where(RecordingClip.id.in_(ids)))
    return {clip_id: (key, status) for clip_id, key, status in rows}


def _unneeded_clip_objects(infos, now):
    matches = {info.key: _CLIP_KEY.match(info.key) for info in infos}
    rows = _clip_rows({match.group(1) for match in matches.values() if match})
    dead = []
    for info in infos:
        match = matches[info.key]
        row = rows.get(match.group(1)) if match else None
        if row is None:  # no clip at all: give a stray object a day, in case someone else put it there
            if info.last_modified is None or info.last_modified < now - ORPHAN_AGE:
                dead.append(info.key)
            continue
        storage_key, status = row
        if not (status in states.IN_FLIGHT or (status == ClipStatus.READY and info.key == storage_key)):
            dead.append(info.key)
    return dead


def _posters_without_clip(infos):
    matches = {info.key: _CLIP_POSTER_KEY.match(info.key) for info in infos}
    rows = _clip_rows({match.group(1) for match in matches.values() if match})
    return [key for key, match in matches.items() if match and match.group(1) not in rows]
