"""The job queue: Huey on SQLite in instance/ by default, on Redis with REDIS_URL.

The tasks themselves are registered by `webapp/tasks.py`; features put work on the queue with
`enqueue_cut` and `enqueue_poster` and never need to know how it runs.
"""
from pathlib import Path

from flask import current_app
from huey import RedisHuey, SqliteHuey


def build_queue(config, instance_path):
    """A Huey instance for the configuration (the web app and the consumer build the same one)."""
    name = config.get("JOB_QUEUE_NAME", "reclip")
    if config.get("REDIS_URL"):
        return RedisHuey(name, url=config["REDIS_URL"])
    return SqliteHuey(name, filename=str(Path(instance_path) / "jobs.db"))


def init_app(app):
    app.extensions["job_queue"] = build_queue(app.config, app.instance_path)


def _enqueue(name, *args):
    # The queue's own errors (Redis, SQLite) have no common base class: callers catch Exception.
    return current_app.extensions["jobs"][name](*args)


def enqueue_cut(clip_id):
    """Queue the server cut of a clip."""
    return _enqueue("cut_clip", clip_id)


def enqueue_timeline(source_type, recording_id):
    """Queue the editor's timeline (thumbnails, peaks, keyframes) of a recording."""
    return _enqueue("make_timeline", source_type, recording_id)


def enqueue_publish(publication_id):
    """Queue (or queue again) the job that posts a clip to a platform."""
    return _enqueue("publish", publication_id)


def enqueue_poster(kind, target_id):
    """Queue the poster of a recording (kind meet or voice) or a clip (kind clip)."""
    return _enqueue("make_poster", kind, target_id)
