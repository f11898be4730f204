"""Services a fault or two-node test starts, breaks and brings back: S3 (moto), Redis, a round-robin front.

Every one of them is a context manager (or has stop()) so that a test's teardown stops what it started.
"""
import http.client
import os
import re
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from tests.factories import PASSWORD
from tests.served import ServedInThread

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05, message="condition"):
    """predicate()'s first truthy value within timeout seconds; AssertionError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def _accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- S3 that can go away --------------------------------------------------------------------

class SwitchableS3:
    """moto's S3 server on a port of its own, stopped and started again on that port.

    moto keeps its buckets in this process, so objects survive a stop: the storage comes back as it was.
    Stopped, the port is closed (connection refused), as when the endpoint is down.
    """

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = None

    def up(self):
        from moto.server import ThreadedMotoServer
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        wait_until(lambda: _accepts(self.port), 10, message="moto to listen")
        return self

    def down(self):
        if self._server is not None:
            self._server.stop()
            self._server._server.server_close()  # stop() leaves the socket listening: close the port
            self._server = None
        wait_until(lambda: not _accepts(self.port), 10, message="moto's port to close")

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()


# --- a Redis of our own ------------------------------------------------------------------------

class RedisServer:
    """`redis-server` on a free port, without persistence; stop() and start() again on the same port."""

    def __init__(self, log_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = Path(log_path)
        self.process = None

    def start(self):
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: self.process.poll() is None and _accepts(self.port), 10, message="redis-server to listen")
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        wait_until(lambda: not _accepts(self.port), 10, message="redis-server's port to close")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --- a round-robin front for two nodes ------------------------------------------------------------

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade"}


class RoundRobinProxy(ServedInThread):
    """A tiny threaded HTTP reverse proxy that sends each request to the next node in turn.

    It adds X-Forwarded-For (the nodes trust one hop) and keeps `served`, the node (its index)
    that answered each request, in order.
    """

    def __init__(self, backends):
        self.backends = [backend.rstrip("/") for backend in backends]
        self.served = []
        self._next = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _forward(self):
                index = proxy._pick()
                host, port = self.backends_address(index)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
                headers["X-Forwarded-For"] = self.client_address[0]
                upstream = http.client.HTTPConnection(host, port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                finally:
                    upstream.close()
                with proxy._lock:
                    proxy.served.append(index)
                self.send_response(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-Served-By", str(index))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def backends_address(self, index):
                host, port = proxy.backends[index].removeprefix("http://").split(":")
                return host, int(port)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.serve_in_thread()

    def _pick(self):
        with self._lock:
            index = self._next
            self._next = (self._next + 1) % len(self.backends)
            return index



# --- talking to a served app ------------------------------------------------------------------------

def csrf_of(session, base_url, path="/login"):
    """The CSRF token that the page at path gives this session."""
    response = session.get(f"{base_url}{path}", timeout=30)
    match = META_CSRF.search(response.text)
    assert match, f"no csrf-token on {path}: {response.status_code}"
    return match.group(1)


def post_login(session, base_url, email, password=PASSWORD):
    """POST the login form as a browser would; the status (302 logged in, 401 wrong, 429 limited)."""
    token = csrf_of(session, base_url)
    return session.post(f"{base_url}/login", data={"email": email, "password": password, "csrf_token": token},
                        allow_redirects=False, timeout=30).status_code


def logged_in_session(base_url, email, password=PASSWORD):
    """A requests.Session logged in through the login form, sending the CSRF token with unsafe requests."""
    session = requests.Session()
    status = post_login(session, base_url, email, password)
    assert status == 302, f"login as {email} answered {status}"
    session.headers["X-CSRFToken"] = csrf_of(session, base_url, "/recordings")
    return session


def child_pids(pid):
    """The PIDs of a process's children (gunicorn's workers under its master)."""
    children = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children.update(int(child) for child in (task / "children").read_text().split())
        except FileNotFoundError:
            continue
    return children


def ffmpeg_in_group(pgid, marker=b""):
    """True when an ffmpeg process (with `marker` in its command line) runs in that process group."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            cmdline = (entry / "cmdline").read_bytes()
            if b"ffmpeg" in cmdline and marker in cmdline:
                return True
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return False


def counting_ffmpeg(directory, real_binary):
    """An ffmpeg that appends "<its pid> <its parent's pid> <args>" to runs.log, then becomes the real one;
    (the wrapper's path, the log's path). Use it as FFMPEG_BINARY to count the cuts that really ran."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "runs.log"
    log.touch()
    wrapper = directory / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\necho "$$ $PPID $*" >> "{log}"\nexec "{real_binary}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log
