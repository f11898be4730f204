"""The clip state machine: every status, the named sets, and the only functions that change a status.

    browser clip:  awaiting_upload ──claim_check──▶ processing (step checking) ──mark_ready──▶ ready
                         │      ▲                         │
                         │      └──────release_check──────┤──mark_failed──▶ failed
                         └──expire──▶ expired
    server clip:   queued ──claim_job──▶ processing (cutting, uploading, checking) ──mark_ready──▶ ready
                     ▲                         │
                     └────────requeue──────────┴──mark_failed──▶ failed

Where two actors can race (two `complete` calls, two workers, a worker and the recovery), the
change is a compare-and-set on the status: only one of them wins.
"""
from enum import StrEnum

from sqlalchemy import update

from webapp.extensions import db
from webapp.timeutil import utcnow


class ClipStatus(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"  # a browser clip: the presigned upload is out
    QUEUED = "queued"  # a server clip waiting for a worker
    PROCESSING = "processing"  # being cut (server) or checked (either)
    READY = "ready"
    FAILED = "failed"
    EXPIRED = "expired"  # a browser upload never completed


# After the enum: the model's CHECK constraint reads it (a module import, so either may load first).
from webapp.clips import models  # noqa: E402

# Shown under their recording and by the clips API (an upload in progress is the editor's own business).
LISTED = frozenset({ClipStatus.QUEUED, ClipStatus.PROCESSING, ClipStatus.READY, ClipStatus.FAILED})
# Their objects may be being written right now: clean-up keeps them.
IN_FLIGHT = frozenset({ClipStatus.AWAITING_UPLOAD, ClipStatus.QUEUED, ClipStatus.PROCESSING})
# A server job in flight: counts toward CLIP_SERVER_JOBS_MAX.
SERVER_JOB_ACTIVE = frozenset({ClipStatus.QUEUED, ClipStatus.PROCESSING})
# Exist for nobody: answered 404.
GONE = frozenset({ClipStatus.EXPIRED})


def _compare_and_set(clip_id, expected, **values):
    """Move the clip from `expected` (a status, or a tuple of them) to `values`; whether this call won."""
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    result = db.session.execute(update(models.RecordingClip)
                                .where(models.RecordingClip.id == clip_id, models.RecordingClip.status.in_(expected))
                                .values(updated_at=utcnow(), **values))
    db.session.commit()
    return result.rowcount == 1


def claim_check(clip):
    """awaiting_upload → processing (checking): the one `complete` call that may check the upload."""
    claimed = _compare_and_set(clip.id, ClipStatus.AWAITING_UPLOAD, status=ClipStatus.PROCESSING, step="checking")
    db.session.refresh(clip)
    return claimed


def release_check(clip_id):
    """processing → awaiting_upload: the check could not finish (storage down, a dead process); try again."""
    return _compare_and_set(clip_id, ClipStatus.PROCESSING, status=ClipStatus.AWAITING_UPLOAD, step=None)


def claim_job(clip_id):
    """queued → processing (cutting): the one worker that runs this clip's job."""
    return _compare_and_set(clip_id, ClipStatus.QUEUED, status=ClipStatus.PROCESSING, step="cutting",
                            attempts=models.RecordingClip.attempts + 1)


def heartbeat(clip_id):
    """A running job says it is alive (recovery re-queues a job whose heartbeat stops)."""
    return _compare_and_set(clip_id, ClipStatus.PROCESSING)


def set_step(clip, step):
    clip.step = step
    db.session.commit()


def requeue(clip_id, status, attempts):
    """Back to queued, unless someone moved the clip on since it was looked at (status and attempts)."""
    result = db.session.execute(update(models.RecordingClip)
                                .where(models.RecordingClip.id == clip_id, models.RecordingClip.status == status,
                                       models.RecordingClip.attempts == attempts)
                                .values(status=ClipStatus.QUEUED, step=None, updated_at=utcnow()))
    db.session.commit()
    return result.rowcount == 1


def queue_for_retry(clip):
    """A job that failed with retries left: queued again by the queue's own retry."""
    clip.status, clip.step = ClipStatus.QUEUED, None
    db.session.commit()


def mark_ready(clip, size, media, key=None):
    """A checked clip object (at `key`, default its storage key): ready, with what the check learnt."""
    clip.storage_key = key or clip.storage_key
    clip.status, clip.step, clip.error = ClipStatus.READY, None, None
    clip.size_bytes, clip.duration_seconds = size, round(media.duration_seconds, 3)
    clip.width, clip.height = media.width, media.height
    clip.clip_url = clip.storage_key
    db.session.commit()


def mark_failed(clip, reason):
    clip.status, clip.step, clip.error = ClipStatus.FAILED, None, reason
    db.session.commit()


def expire(clip, reason):
    clip.status, clip.error = ClipStatus.EXPIRED, reason
