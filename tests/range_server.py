"""A real HTTP file server on 127.0.0.1 for the download proxy's tests.

It serves registered files with Range (206, Content-Range, 416), If-Range, ETag and
Last-Modified, answers a redirect on /redirect and 404 on /missing, and records every
request it gets so that a test can assert what the proxy asked for (and what it did not).
"""
import hashlib
import re
import sys
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.served import ServedInThread

REDIRECT_TARGET = "/redirect-target"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    headers: dict


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "RangeServer/1.0"
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # keep the test output clean
        pass

    def do_GET(self):
        owner = self.server.owner
        owner.requests.append(SeenRequest("GET", self.path, dict(self.headers.items())))
        path = self.path.split("?", 1)[0]
        if self.headers.get("Range") in owner.fail_ranges:  # a flaky upstream: this range fails once
            owner.fail_ranges.discard(self.headers.get("Range"))
            return self._empty(500, {"Content-Type": "text/plain"}, b"try again")
        if path == "/redirect":
            return self._empty(302, {"Location": REDIRECT_TARGET})
        if path in self.server.owner.redirects:
            return self._empty(302, {"Location": self.server.owner.redirects[path]})
        if path in self.server.owner.files:
            return self._send_file(*self.server.owner.files[path])  # (data, content type, etag)
        return self._empty(404, {"Content-Type": "text/plain"}, b"not found")

    def _empty(self, status, headers, body=b""):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_file(self, data, content_type, etag):
        size = len(data)
        last_modified = formatdate(self.server.owner.mtime, usegmt=True)
        common = {"Accept-Ranges": "bytes", "ETag": etag, "Last-Modified": last_modified,
                  "Content-Type": content_type}
        byte_range = self._byte_range(size, etag, last_modified)
        if byte_range == "unsatisfiable":
            return self._empty(416, {**common, "Content-Range": f"bytes */{size}"})
        if byte_range is None:
            status, body, extra = 200, data, {}
        else:
            start, end = byte_range
            status, body, extra = 206, data[start:end + 1], {"Content-Range": f"bytes {start}-{end}/{size}"}
        self.send_response(status)
        for name, value in {**common, **extra}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # In pieces, counting each one the socket took: a reader that hangs up early is not charged the rest.
        for offset in range(0, len(body), 64 * 1024):
            piece = body[offset:offset + 64 * 1024]
            self.wfile.write(piece)
            self.server.owner.sent_bytes += len(piece)

    def _byte_range(self, size, etag, last_modified):
        """(start, end) inclusive, None for the whole file, or "unsatisfiable"."""
        header = None if self.server.owner.ignore_range else self.headers.get("Range")
        if not header:
            return None
        if_range = self.headers.get("If-Range")
        if if_range and if_range not in (etag, last_modified):
            return None  # the client's copy is stale: send the whole new file
        match = _RANGE.match(header.strip())
        if not match or match.groups() == ("", ""):
            return None  # several ranges or a malformed one: a server may ignore it
        first, last = match.groups()
        if first == "":
            length = int(last)
            if length == 0:
                return "unsatisfiable"
            return max(size - length, 0), size - 1
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if start >= size or end < start:
            return "unsatisfiable"
        return start, end


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A client that hangs up mid-body (the proxy closing early) is normal here, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class RangeServer(ServedInThread):
    """A threaded http.server on a free port of 127.0.0.1; use as a context manager."""

    def __init__(self, mtime=1_700_000_000):
        self.files = {}
        self.redirects = {}
        self.requests = []
        self.sent_bytes = 0  # bytes of file bodies the sockets took
        self.ignore_range = False  # answer 200 with the whole file, as some servers do
        self.fail_ranges = set()  # Range header values to answer 500 once
        self.mtime = mtime
        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.serve_in_thread(poll_interval=0.05)

    def add_file(self, path, data, content_type="application/octet-stream"):
        """Serve `data` at `path`; returns the full URL."""
        self.files[path] = (data, content_type, '"' + hashlib.sha256(data).hexdigest()[:16] + '"')
        return self.base_url + path

    def add_redirect(self, path, location):
        """Answer 302 to `location` (anywhere) at `path`; returns the full URL of `path`."""
        self.redirects[path] = location
        return self.base_url + path

    def url(self, path):
        return self.base_url + path

    def paths_requested(self):
        return [seen.path for seen in self.requests]

