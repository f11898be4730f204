"""A loopback relay through which ffmpeg and PyAV read an external recording.

Given a URL, ffmpeg follows redirects and playlists on its own, to any host. So they never get
the external URL: they get `http://127.0.0.1:<port>/<secret>`, and every byte range they ask for is
fetched by the download proxy's guard (allow-listed host, public address unless configured, the
checked IP pinned, no redirects). A body that does not start like an MP4 or a WebM is refused.
"""
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from webapp.errors import ApiError
from webapp.delivery.proxy import GuardedUpstream, looks_like_media

_CONTENT_RANGE_START = re.compile(r"^bytes (\d+)-")
NOT_MEDIA = "The recording at its external address is not a plain MP4, M4A or WebM file."


class ExternalSourceRelay:
    """Serve one external URL on loopback while the `with` block runs; `refusal` says why a read was refused."""

    def __init__(self, url, *, allowed_hosts, allow_private):
        self.external_url = url
        # Checked and pinned once; its connections are kept for the reads that follow (ffmpeg seeks a lot).
        self.upstream = GuardedUpstream(url, allowed_hosts=allowed_hosts, allow_private=allow_private, connections=4)
        self.refusal = None
        self.closed = False
        self.path = "/" + secrets.token_urlsafe(16)
        self._server = _RelayServer(("127.0.0.1", 0), _Handler)
        self._server.relay = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="external-source-relay", daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self.upstream.close()

    def open(self, range_header):
        return self.upstream.get(range_header)


class _RelayServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass  # ffmpeg hangs up mid-body whenever it seeks


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart (delayed ACKs)

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        relay = self.server.relay
        if self.path != relay.path or relay.closed:
            return self._answer(404)
        try:
            upstream = relay.open(self.headers.get("Range"))
        except ApiError as exc:
            relay.refusal = relay.refusal or exc.message
            return self._answer(416 if exc.status == 416 else 502)
        body = iter(upstream.body)
        try:
            first = next(body, b"")
            if _starts_at_zero(upstream) and not looks_like_media(first):
                relay.refusal = NOT_MEDIA
                return self._answer(415)
            self.send_response(upstream.status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            for name in ("Content-Length", "Content-Range"):
                if name in upstream.headers:
                    self.send_header(name, upstream.headers[name])
            if "Content-Length" not in upstream.headers:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(first)
            for chunk in body:
                if relay.closed:
                    break
                self.wfile.write(chunk)
        finally:
            upstream.body.close()

    def _answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _starts_at_zero(upstream):
    if upstream.status == 200:
        return True
    match = _CONTENT_RANGE_START.match(upstream.headers.get("Content-Range", ""))
    return bool(match) and match.group(1) == "0"
