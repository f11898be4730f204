"""The background jobs on the queue, each run inside an app context: server clips, posters, recovery
and clean-up. This module puts the features together; none of them imports it."""
import functools

from huey import crontab

from webapp import posters, timeline
from webapp.clips import jobs as clip_jobs
from webapp.clips.models import RecordingClip
from webapp.clips.states import ClipStatus
from webapp.extensions import db
from webapp.jobs import enqueue_poster, enqueue_timeline
from webapp.media import MP4_FORMATS, RECORDING_FORMATS
from webapp.recordings.models import RECORDING_MODELS
from webapp.social import cleanup as social_cleanup, publish

POSTER_TARGETS = {"clip": RecordingClip, **RECORDING_MODELS}


def init_app(app):
    app.extensions["jobs"] = register(app.extensions["job_queue"], app)


def make_poster(kind, target_id):
    """A recording's poster from its file, a clip's from its checked MP4 (once it is ready)."""
    target = db.session.get(POSTER_TARGETS[kind], target_id)
    if target is None or target.poster_status == posters.READY:
        return "skipped"
    if kind == "clip":
        if target.status != ClipStatus.READY:
            return "skipped"
        return posters.make_poster(target, target.storage_key, MP4_FORMATS)
    return posters.make_poster(target, target.recording_url, RECORDING_FORMATS)


def make_timeline(source_type, recording_id):
    recording = db.session.get(RECORDING_MODELS[source_type], recording_id)
    if recording is None or recording.timeline_status == timeline.READY:
        return "skipped"
    return timeline.make_timeline(recording)


def requeue_unfinished_previews():
    """Queue again the posters and timelines whose job was lost (a worker killed before it ran): at start."""
    for kind, model in POSTER_TARGETS.items():
        for target_id in db.session.scalars(db.select(model.id).where(model.poster_status == posters.QUEUED)):
            enqueue_poster(kind, target_id)
    for source_type, model in RECORDING_MODELS.items():
        for recording_id in db.session.scalars(db.select(model.id).where(model.timeline_status == timeline.QUEUED)):
            enqueue_timeline(source_type, recording_id)


def register(queue, app):
    """The tasks; returns them by name."""

    def in_app_context(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            with app.app_context():
                try:
                    return fn(*args, **kwargs)
                finally:
                    db.session.remove()
        return run

    @queue.task(retries=2, retry_delay=app.config["CLIP_JOB_RETRY_DELAY"], context=True, name="cut_clip")
    @in_app_context
    def cut_clip(clip_id, task=None):
        return clip_jobs.cut_clip(clip_id, retries_left=task.retries if task else 0)

    @queue.task(retries=1, retry_delay=app.config["CLIP_JOB_RETRY_DELAY"], name="make_poster")
    @in_app_context
    def make_poster_task(kind, target_id):
        return make_poster(kind, target_id)

    @queue.task(retries=1, retry_delay=app.config["CLIP_JOB_RETRY_DELAY"], name="make_timeline")
    @in_app_context
    def make_timeline_task(source_type, recording_id):
        return make_timeline(source_type, recording_id)

    @queue.task(retries=publish.MAX_ATTEMPTS, retry_delay=app.config["SOCIAL_RETRY_DELAY"], name="publish")
    @in_app_context
    def publish_task(publication_id):
        return publish.run(publication_id)

    @queue.periodic_task(crontab(minute="*"), name="recover_stalled_clips")
    @in_app_context
    def recover_stalled_clips():
        return clip_jobs.recover_stalled() + publish.recover_stalled()

    @queue.periodic_task(crontab(minute="*/15"), name="cleanup_clips")
    @in_app_context
    def cleanup_clips():
        return {**clip_jobs.cleanup(), **social_cleanup.cleanup()}

    @queue.on_startup(name="recover_on_start")
    @in_app_context
    def recover_on_start():
        clip_jobs.recover_stalled()
        publish.recover_stalled()
        requeue_unfinished_previews()

    return {"cut_clip": cut_clip, "publish": publish_task, "make_poster": make_poster_task, "make_timeline": make_timeline_task, "recover_stalled_clips": recover_stalled_clips,
            "cleanup_clips": cleanup_clips}
