"""What both contract doubles share: a real threaded HTTP server on 127.0.0.1, a clock a test can move,
failure injection, per-token rate windows and a record of every request.

A double is not a mock: it is a small server that an app (or a browser) reaches over real HTTP, that
keeps state the way the platform does, and that refuses what the platform's documentation says it
refuses. The platform rules themselves live in meta.py and tiktok.py, each with its documentation URL.
"""
import itertools
import json
import secrets
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.served import ServedInThread


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: str
    headers: dict
    status: int


@dataclass
class _Injection:
    remaining: int
    status: int
    retry_after: object
    path: object
    after: bool


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # `requests` keeps them; the test output stays clean
        pass

    def log_error(self, *args, **kwargs):
        pass

    def make_environ(self):
        # Werkzeug drops header names with "_" (CGI spoofing guard); Meta's rupload uses
        # `file_size` and `file_url`, so keep them, as a real front server would pass them on.
        environ = super().make_environ()
        for key, value in self.headers.items():
            if "_" in key:
                environ.setdefault("HTTP_" + key.upper().replace("-", "_"), value)
        return environ


class HttpDouble(ServedInThread):
    """Base of MetaDouble and TikTokDouble: `start()`, `stop()`, `base_url`, a context manager.

    Knobs every double has:
      fail_next(n, status=503, retry_after=2, path=None, after=False)
          the next n API requests (whose path contains `path`, when given) answer `status` in the
          platform's error shape with `Retry-After` (omitted when retry_after is None). With after=True
          the request is carried out first and only its answer is lost, as when a connection drops.
      advance(seconds)   moves the double's clock (token, code, container and upload URL expiry)
      requests           every request seen, with the status it got
    """

    def __init__(self):
        self._lock = threading.RLock()
        self._clock_offset = 0.0
        self._injections = []
        self._windows = {}
        self._ids = itertools.count(1)
        self.requests = []
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.serve_in_thread(poll_interval=0.05)


    # --- knobs -------------------------------------------------------------------------------------
    def now(self):
        """The double's clock: real time plus whatever `advance()` added."""
        return time.time() + self._clock_offset

    def advance(self, seconds):
        """Move the clock forward (expiry of codes, tokens, containers, upload URLs)."""
        with self._lock:
            self._clock_offset += seconds

    def fail_next(self, n=1, status=503, retry_after=2, path=None, after=False):
        """The next n API requests (matching `path` when given) fail with `status` and `Retry-After`."""
        with self._lock:
            self._injections.append(_Injection(n, status, retry_after, path, after))

    # --- for subclasses ----------------------------------------------------------------------------
    def dispatch(self, request):  # pragma: no cover - every double overrides it
        raise NotImplementedError

    def injected_failure(self, request, status, retry_after):
        """The platform-shaped answer of an injected failure (subclasses give their error shape)."""
        return json_response({"error": {"message": "injected failure"}}, status)

    def is_api_request(self, request):
        """Whether fail_next may hit this request (consent pages are left alone)."""
        return True

    def new_id(self, prefix="", digits=15):
        """A fresh numeric id, unique within this double."""
        number = next(self._ids)
        return f"{prefix}{number:0{digits}d}"

    def token(self, prefix, nbytes=24):
        return prefix + secrets.token_urlsafe(nbytes)

    def within_rate(self, key, limit, window_seconds):
        """Count one call under `key`; False when `limit` calls were already made in the window."""
        now = self.now()
        calls = self._windows.setdefault(key, deque())
        while calls and calls[0] <= now - window_seconds:
            calls.popleft()
        if len(calls) >= limit:
            return False
        calls.append(now)
        return True

    def seconds_until_free(self, key, window_seconds):
        calls = self._windows.get(key)
        if not calls:
            return 0
        return max(1, int(calls[0] + window_seconds - self.now()) + 1)

    # --- WSGI --------------------------------------------------------------------------------------
    def _take_injection(self, request):
        if not self.is_api_request(request):
            return None
        with self._lock:
            for injection in self._injections:
                if injection.remaining > 0 and (injection.path is None or injection.path in request.path):
                    injection.remaining -= 1
                    return injection
            self._injections = [i for i in self._injections if i.remaining > 0]
        return None

    def _wsgi(self, environ, start_response):
        with Request(environ) as request:
            request.get_data(cache=True)  # read the body before taking the lock: a slow client blocks no one
            injection = self._take_injection(request)
            if injection is not None and not injection.after:
                response = self.injected_failure(request, injection.status, injection.retry_after)
            else:
                try:
                    with self._lock:
                        response = self.dispatch(request)
                except Exception as exc:  # a bug in the double must show, not hang the app under test
                    response = Response(f"double failed: {exc!r}", 500, mimetype="text/plain")
                    traceback.print_exc()
                if injection is not None:
                    response = self.injected_failure(request, injection.status, injection.retry_after)
            if injection is not None and injection.retry_after is not None:
                response.headers["Retry-After"] = str(injection.retry_after)
            self.requests.append(SeenRequest(request.method, request.path, request.query_string.decode(),
                                             dict(request.headers), response.status_code))
            return response(environ, start_response)


def json_response(body, status=200, headers=None):
    return Response(json.dumps(body), status, headers=headers or {}, mimetype="application/json")


def html_response(body, status=200):
    return Response(body, status, mimetype="text/html")
