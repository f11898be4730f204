"""A real Huey consumer (`huey_consumer webapp.jobs.worker.queue`) in a subprocess, for the test's app.

The consumer builds its own app from the environment (webapp/config.py), so it is given the
test app's instance path, database, secret, storage and queue: the web app enqueues, the
consumer cuts, both see the same rows and objects.
"""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from webapp.config import PROJECT_ROOT

RETRY_DELAY = 0  # retries run at once
STALE_SECONDS = 3  # a job without a heartbeat for this long is stalled


def consumer_app_config(tmp_path, redis_url=None, **overrides):
    """app_config overrides that a consumer started by `Consumer` can agree with.

    The consumer derives STORAGE_LOCAL_ROOT from INSTANCE_PATH (<instance>/storage), while the
    test app keeps it at tmp_path/storage: point the test app at <instance>/storage instead.
    """
    config = {
        "STORAGE_LOCAL_ROOT": str(Path(tmp_path) / "instance" / "storage"),
        "JOB_QUEUE_NAME": f"reclip-test-{uuid.uuid4().hex[:12]}",
        "REDIS_URL": redis_url,
        "CLIP_JOB_RETRY_DELAY": RETRY_DELAY,
        "CLIP_JOB_STALE_SECONDS": STALE_SECONDS,
    }
    config.update(overrides)
    return config


def _setting(value):
    if value is None:
        return ""  # set but empty: a .env file cannot fill it in
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, (list, tuple)):
        return ",".join(value)
    return str(value)


def consumer_environment(app):
    """The environment under which webapp/config.py rebuilds the app's settings."""
    config = app.config
    if config["STORAGE_BACKEND"] == "local":
        expected = str(Path(app.instance_path) / "storage")
        if str(Path(config["STORAGE_LOCAL_ROOT"])) != expected:
            raise RuntimeError(f"the consumer keeps local objects in {expected}, the app in "
                               f"{config['STORAGE_LOCAL_ROOT']}: use consumer_app_config()")
    env = dict(os.environ)
    env.update({
        "INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": config["SECRET_KEY"],
        "PUBLIC_BASE_URL": config.get("PUBLIC_BASE_URL") or "",
        "FFMPEG_BINARY": config.get("FFMPEG_BINARY") or "",
        "TMPDIR": str(Path(app.instance_path) / "tmp"),  # a killed job's half-cut file stays in the test's dir
        "PYTHONUNBUFFERED": "1",
    })
    for name in ("STORAGE_BACKEND", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "REDIS_URL", "JOB_QUEUE_NAME", "CLIP_JOB_RETRY_DELAY",
                 "CLIP_JOB_STALE_SECONDS", "PROXY_ALLOWED_HOSTS", "PROXY_ALLOW_PRIVATE_ADDRESSES",
                 "SIGNED_URL_TTL", "CLIP_MAX_SECONDS", "ALLOWED_PRODUCTS"):
        env[name] = _setting(config.get(name))
    for name in ("SUPABASE_URL", "SUPABASE_SERVICE_KEY", "SUPABASE_BUCKET", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        env[name] = ""
    return env


class Consumer:
    """One consumer process (its own session, so that SIGKILL takes its ffmpeg children too)."""

    def __init__(self, app, log_path):
        self.app = app
        self.log_path = Path(log_path)
        self.process = None

    def start(self):
        Path(self.app.instance_path, "tmp").mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        # A short polling delay: the SQLite queue is polled, and the default backs off to 10 s.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "huey.bin.huey_consumer", "webapp.jobs.worker.queue",
             "--workers", "1", "--delay", "0.1", "--max-delay", "0.5", "--verbose"],
            cwd=PROJECT_ROOT, env=consumer_environment(self.app), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill(self):
        """SIGKILL the whole process group: the consumer and any ffmpeg it runs, mid-job."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)

    def stop(self):
        """Stop the consumer for good: the test is over, so there is nothing to wait for."""
        self.kill()
        if not self._log.closed:
            self._log.close()

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


class Consumers:
    """Start consumers for a test and stop every one of them at teardown, whatever happened."""

    def __init__(self, app, tmp_path):
        self.app = app
        self.tmp_path = Path(tmp_path)
        self.started = []

    def start(self):
        consumer = Consumer(self.app, self.tmp_path / f"consumer-{len(self.started) + 1}.log")
        self.started.append(consumer)
        return consumer.start()

    def stop_all(self):
        for consumer in self.started:
            consumer.stop()

    def logs(self):
        return "\n".join(f"--- {c.log_path.name}\n{c.log()[-4000:]}" for c in self.started)


def wait_for(predicate, timeout, interval=0.1, message="condition"):
    """predicate()'s first truthy value within timeout seconds; AssertionError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)
