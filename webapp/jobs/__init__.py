"""The job queue: Huey on SQLite in instance/ by default, on Redis with REDIS_URL."""
from pathlib import Path

from huey import RedisHuey, SqliteHuey


def build_queue(config, instance_path):
    """A Huey instance for the configuration (shared by the web app and the consumer)."""
    if config.get("REDIS_URL"):
        return RedisHuey("reclip", url=config["REDIS_URL"])
    return SqliteHuey("reclip", filename=str(Path(instance_path) / "jobs.db"))


def init_app(app):
    app.extensions["job_queue"] = build_queue(app.config, app.instance_path)
