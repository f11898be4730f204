"""Server-side clips: the cut job, recovery of stalled jobs, and clean-up. Run inside an app context."""
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from webapp.clips import service
from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.media import MediaError, http_input_options, run_ffmpeg
from webapp.recordings.service import ffmpeg_input
from webapp.storage import StorageError, get_storage
from webapp.timeutil import utcnow

MAX_ATTEMPTS = 5  # starts of one clip's job, retries and recoveries included
UPLOAD_EXPIRY = timedelta(hours=1)
ORPHAN_AGE = timedelta(days=1)
FFMPEG_TIMEOUT = 3600


def _claim(clip_id):
    """Move a queued clip to processing; False when another worker has it or it is done."""
    result = db.session.execute(
        update(RecordingClip)
        .where(RecordingClip.id == clip_id, RecordingClip.status == "queued")
        .values(status="processing", step="cutting", attempts=RecordingClip.attempts + 1, updated_at=utcnow()))
    db.session.commit()
    return result.rowcount == 1


def _heartbeat(clip_id):
    db.session.execute(update(RecordingClip).where(RecordingClip.id == clip_id, RecordingClip.status == "processing")
                       .values(updated_at=utcnow()))
    db.session.commit()


def _set_step(clip, step):
    clip.step = step
    db.session.commit()


def ffmpeg_cut_args(source, start, end, output, *, precise, audio_only):
    """-ss before -i: a stream copy starts at the keyframe before START; a re-encode starts exactly there."""
    args = []
    if "://" in source:
        args += ["-rw_timeout", "30000000", *http_input_options()]
    args += ["-ss", f"{start:.3f}", "-i", source, "-t", f"{end - start:.3f}"]
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
    if not _claim(clip_id):
        return "skipped"
    clip = db.session.get(RecordingClip, clip_id)
    try:
        _cut_and_store(clip)
    except (MediaError, StorageError) as exc:
        db.session.rollback()
        clip = db.session.get(RecordingClip, clip_id)
        if retries_left > 0 and clip.attempts < MAX_ATTEMPTS:
            clip.status, clip.step = "queued", None
            db.session.commit()
            raise
        _fail(clip, str(exc))
        return "failed"
    return "ready"


def _cut_and_store(clip):
    storage = get_storage()
    audio_only = clip.storage_key.endswith(".m4a")
    with tempfile.TemporaryDirectory(prefix="reclip-clip-") as tmp:
        output = Path(tmp) / f"clip{Path(clip.storage_key).suffix}"
        source = ffmpeg_input(clip.recording_url)
        args = ffmpeg_cut_args(source, clip.start_seconds, clip.end_seconds, output,
                               precise=clip.precise, audio_only=audio_only)
        stale = current_app.config["CLIP_JOB_STALE_SECONDS"]
        try:
            run_ffmpeg(args, timeout=FFMPEG_TIMEOUT, on_tick=lambda: _heartbeat(clip.id), tick_seconds=max(1, stale / 4))
        except MediaError as exc:
            # The reason is shown to the user: never the server's path or a presigned URL.
            reason = str(exc).replace(source, "the recording")
            raise MediaError(f"The recording could not be cut: {reason}") from None
        _set_step(clip, "uploading")
        with output.open("rb") as fh:
            storage.put(clip.storage_key, fh, content_type=service.clip_content_type(clip))
    _set_step(clip, "checking")
    try:
        size, duration = service.verify_clip_object(clip)
    except MediaError:
        storage.delete(clip.storage_key)
        raise
    clip.status, clip.step, clip.error = "ready", None, None
    clip.size_bytes, clip.duration_seconds, clip.clip_url = size, duration, clip.storage_key
    db.session.commit()


def _fail(clip, reason):
    get_storage().delete(clip.storage_key)
    clip.status, clip.step, clip.error = "failed", None, reason
    db.session.commit()


def recover_stalled():
    """Re-queue clips whose job stopped without finishing (a killed worker); fail those tried too often."""
    stale = timedelta(seconds=current_app.config["CLIP_JOB_STALE_SECONDS"])
    now = utcnow()
    candidates = db.session.execute(
        select(RecordingClip.id, RecordingClip.status, RecordingClip.attempts).where(
            ((RecordingClip.status == "processing") & (RecordingClip.updated_at < now - stale))
            | ((RecordingClip.status == "queued") & (RecordingClip.updated_at < now - stale * 10)))
    ).all()
    requeued = []
    for clip_id, status, attempts in candidates:
        if attempts >= MAX_ATTEMPTS:
            clip = db.session.get(RecordingClip, clip_id)
            _fail(clip, f"The server job stopped {attempts} times without finishing.")
            continue
        result = db.session.execute(
            update(RecordingClip)
            .where(RecordingClip.id == clip_id, RecordingClip.status == status, RecordingClip.attempts == attempts)
            .values(status="queued", step=None, updated_at=now))
        db.session.commit()
        if result.rowcount == 1:
            current_app.extensions["jobs"]["cut_clip"](clip_id)
            requeued.append(clip_id)
    return requeued


def cleanup():
    """Expire browser uploads never completed within an hour, delete clip objects that have no live row."""
    storage = get_storage()
    now = utcnow()
    expired = db.session.scalars(select(RecordingClip).where(
        RecordingClip.status == "awaiting_upload", RecordingClip.created_at < now - UPLOAD_EXPIRY)).all()
    for clip in expired:
        storage.delete(clip.storage_key)
        clip.status, clip.error = "expired", "The upload was not completed within an hour."
    db.session.commit()

    orphans = []
    batch = []
    for info in storage.list("clips/"):
        if info.last_modified is None or info.last_modified < now - ORPHAN_AGE:
            batch.append(info.key)
        if len(batch) >= 500:
            orphans += _without_live_row(batch)
            batch = []
    orphans += _without_live_row(batch)
    for key in orphans:
        storage.delete(key)
    return {"expired": len(expired), "orphans_deleted": len(orphans)}


def _without_live_row(keys):
    if not keys:
        return []
    live = set(db.session.scalars(select(RecordingClip.storage_key).where(
        RecordingClip.storage_key.in_(keys), RecordingClip.status.not_in(("failed", "expired")))))
    return [key for key in keys if key not in live]
