"""The app as `make run` serves it: gunicorn with gunicorn.conf.py, in a subprocess of its own."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from webapp.config import PROJECT_ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """gunicorn -c gunicorn.conf.py wsgi:app on a free port, with its own instance folder (SQLite)."""

    def __init__(self, instance_path, workers=2, **environment):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance_path = Path(instance_path)
        self.env = {**os.environ, "INSTANCE_PATH": str(instance_path), "PORT": str(self.port),
                    "WEB_CONCURRENCY": str(workers), "SECRET_KEY": "app-server-test-secret",
                    "GUNICORN_ACCESS_LOG": "", "DATABASE_URL": "", "REDIS_URL": "", "STORAGE_BACKEND": "local",
                    **{name: str(value) for name, value in environment.items()}}
        self.process = None
        self.log = self.instance_path / "gunicorn.log"

    def flask(self, *args):
        """Run `flask --app wsgi ARGS` against this server's instance; its output."""
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=PROJECT_ROOT, env=self.env,
                              check=True, capture_output=True, text=True, timeout=120).stdout

    def start(self):
        self.instance_path.mkdir(parents=True, exist_ok=True)
        self.flask("db", "upgrade")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=PROJECT_ROOT,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer: {self.log.read_text()[-2000:]}")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
