"""The job queue: Huey on SQLite in instance/ by default, on Redis with REDIS_URL."""
import functools
from pathlib import Path

from flask import current_app
from huey import RedisHuey, SqliteHuey, crontab


def build_queue(config, instance_path):
    """A Huey instance for the configuration (the web app and the consumer build the same one)."""
    name = config.get("JOB_QUEUE_NAME", "reclip")
    if config.get("REDIS_URL"):
        return RedisHuey(name, url=config["REDIS_URL"])
    return SqliteHuey(name, filename=str(Path(instance_path) / "jobs.db"))


def init_app(app):
    queue = build_queue(app.config, app.instance_path)
    app.extensions["job_queue"] = queue
    app.extensions["jobs"] = register_tasks(queue, app)


def enqueue(name, *args):
    """Put a job on the app's queue (raises the queue's own error when it cannot be reached)."""
    return current_app.extensions["jobs"][name](*args)


def register_tasks(queue, app):
    """The tasks, each run inside an app context; returns them by name."""
    from webapp import posters
    from webapp.clips import jobs as clip_jobs
    from webapp.extensions import db

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
    def make_poster(kind, target_id):
        return posters.make_poster(kind, target_id)

    @queue.periodic_task(crontab(minute="*"), name="recover_stalled_clips")
    @in_app_context
    def recover_stalled_clips():
        return clip_jobs.recover_stalled()

    @queue.periodic_task(crontab(minute="*/15"), name="cleanup_clips")
    @in_app_context
    def cleanup_clips():
        return clip_jobs.cleanup()

    @queue.on_startup(name="recover_on_start")
    @in_app_context
    def recover_on_start():
        clip_jobs.recover_stalled()
        posters.requeue_unfinished()

    return {"cut_clip": cut_clip, "make_poster": make_poster, "recover_stalled_clips": recover_stalled_clips,
            "cleanup_clips": cleanup_clips}
