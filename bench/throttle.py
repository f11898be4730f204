"""A throttled reverse proxy on 127.0.0.1: a slow link in front of a local server, for the benchmarks.

Every request waits `latency` seconds before it is forwarded; request and response bodies pass
through ONE token bucket shared by every connection and both directions (a single link of `rate`
bytes per second). Bodies are streamed in small pieces, never buffered whole. Client connections
are HTTP/1.1 keep-alive, each with its own keep-alive connection to the upstream; the Host header
is passed unchanged, so an app that builds absolute URLs on the request's Host points back here.

What passed is counted by category (see `category`): response body bytes of the storage's signed
GETs (/storage/o/) split by the request's Sec-Fetch-Dest (`video`: the page's media player; the
rest: fetch/XHR and clients without that header, such as ffmpeg), request body bytes of the
storage uploads, and the FFmpeg.wasm core. Each storage request is logged too: its Sec-Fetch-Dest,
the referring page or worker script, Range, status and bytes (`snapshot()`).

`ignore_range = True` makes the proxy drop Range and If-Range from /storage/o/ requests, so the
storage answers 200 with the whole file: a storage that sends no parts.
"""
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler

from common import HOST

PIECE = 16 * 1024  # bytes per pass through the bucket: ~2.6 ms at 50 Mbit/s
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
              "te", "trailer", "upgrade"}
UPSTREAM_IDLE_S = 2.0  # gunicorn.conf.py keeps idle connections 5 s: reconnect well before that


class TokenBucket:
    """take(n) returns once n more bytes may pass at `rate` bytes/s; at most `burst` bytes of credit
    build up while the link is idle. Takers are served in the order they ask (a FIFO of reservations)."""

    def __init__(self, rate, burst=PIECE):
        self.rate = float(rate)
        self.burst = burst
        self._lock = threading.Lock()
        self._free_at = time.monotonic()

    def take(self, n):
        with self._lock:
            now = time.monotonic()
            start = max(self._free_at, now - self.burst / self.rate)
            self._free_at = start + n / self.rate
            wait = self._free_at - now
        if wait > 0:
            time.sleep(wait)


def category(path, headers):
    """What a request is, for the counters: storage_player, storage_other, upload, wasm_core or other."""
    if path.startswith("/storage/o/"):
        return "storage_player" if headers.get("Sec-Fetch-Dest", "").lower() == "video" else "storage_other"
    if path.startswith("/storage/upload"):
        return "upload"
    if "/core/ffmpeg-core.wasm" in path:
        return "wasm_core"
    return "other"


class _Upstream:
    """One keep-alive connection to the upstream server."""

    def __init__(self, port):
        self.port = port
        self.sock = self.rfile = None
        self.idle_since = 0.0

    def connect(self):
        self.close()
        self.sock = socket.create_connection((HOST, self.port), timeout=300)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")

    def ready(self):
        if self.sock is None or time.monotonic() - self.idle_since > UPSTREAM_IDLE_S:
            self.connect()

    def close(self):
        for thing in (self.rfile, self.sock):
            if thing is not None:
                try:
                    thing.close()
                except OSError:
                    pass
        self.sock = self.rfile = None


class _Closed(Exception):
    """The client went away mid-body."""


class ThrottleProxy:
    def __init__(self, upstream_port, *, mbit_s, latency_s):
        self.upstream_port = upstream_port
        self.rate = mbit_s * 1e6 / 8
        self.latency_s = latency_s
        self.bucket = TokenBucket(self.rate)
        self.ignore_range = False
        self._lock = threading.Lock()
        self._active = 0
        self.reset()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.upstream = _Upstream(proxy.upstream_port)

            def finish(self):
                self.upstream.close()
                try:
                    super().finish()
                except OSError:
                    pass

            def do_GET(self):
                proxy._forward(self)

            do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

        class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64

            def handle_error(self, request, client_address):
                pass  # a client that hangs up between requests (a browser closing the page) is no error

        self.server = Server((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{HOST}:{self.port}"
        self._thread = None

    # --- control -------------------------------------------------------------------------------

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, name="throttle-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        with self._lock:
            self.counts = {}     # category -> {"requests", "down", "up"}
            self.requests = []   # storage requests: {category, dest, from, method, range, status, down, up,
            #                                            started, ended}

    def snapshot(self):
        """The counters so far: {category: {requests, down, up}} and the storage requests' log."""
        with self._lock:
            return ({name: dict(value) for name, value in self.counts.items()},
                    [dict(entry) for entry in self.requests])

    def active(self):
        with self._lock:
            return self._active

    # --- forwarding ----------------------------------------------------------------------------

    def _count(self, entry, key, n):
        with self._lock:
            self.counts.setdefault(entry["category"], {"requests": 0, "down": 0, "up": 0})[key] += n
            entry[key] += n

    def _forward(self, handler):
        headers = handler.headers
        path = handler.path
        kind = category(path, headers)
        referer = headers.get("Referer")
        entry = {"category": kind, "dest": headers.get("Sec-Fetch-Dest"),
                 "from": referer.split("?")[0].rsplit("/", 1)[-1] if referer else None,  # page or worker script
                 "method": handler.command, "range": headers.get("Range"), "status": None, "down": 0, "up": 0,
                 "started": time.monotonic(), "ended": None}
        with self._lock:
            self._active += 1
            self.counts.setdefault(kind, {"requests": 0, "down": 0, "up": 0})["requests"] += 1
            if kind.startswith("storage_"):
                self.requests.append(entry)
        try:
            time.sleep(self.latency_s)
            self._exchange(handler, entry)
        except (_Closed, OSError):
            handler.close_connection = True
            handler.upstream.close()
        finally:
            entry["ended"] = time.monotonic()
            with self._lock:
                self._active -= 1

    def _exchange(self, handler, entry):
        headers, upstream = handler.headers, handler.upstream
        drop = HOP_BY_HOP | {"expect"}  # BaseHTTPRequestHandler has answered 100-continue itself
        if self.ignore_range and handler.path.startswith("/storage/o/"):
            drop |= {"range", "if-range"}
        lines = [f"{handler.command} {handler.path} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() not in drop]
        lines.append("Connection: keep-alive")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        upstream.ready()
        upstream.sock.sendall(head)

        # The request body, paced.
        length = headers.get("Content-Length")
        if headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._relay_chunked(handler.rfile, upstream.sock.sendall, entry, "up")
        elif length:
            self._relay(handler.rfile, upstream.sock.sendall, int(length), entry, "up")

        # The response head (1xx answers are passed on as they come).
        while True:
            status_line = upstream.rfile.readline(65537)
            if not status_line:
                raise OSError("the upstream closed the connection")
            response_headers = []
            while True:
                line = upstream.rfile.readline(65537)
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                response_headers.append((name.strip(), value.strip()))
            status = int(status_line.split()[1])
            if status >= 200:
                break
            handler.wfile.write(status_line + b"".join(f"{n}: {v}\r\n".encode("latin-1")
                                                        for n, v in response_headers) + b"\r\n")
        entry["status"] = status
        lower = {name.lower(): value for name, value in response_headers}
        chunked = lower.get("transfer-encoding", "").lower() == "chunked"
        no_body = handler.command == "HEAD" or status in (204, 304)
        length = None if chunked or no_body else lower.get("content-length")
        until_close = not (no_body or chunked or length is not None)
        upstream_closes = until_close or lower.get("connection", "").lower() == "close"
        client_closes = until_close or handler.close_connection
        out = [f"{name}: {value}" for name, value in response_headers if name.lower() not in HOP_BY_HOP]
        out.append("Connection: close" if client_closes else "Connection: keep-alive")
        try:
            handler.wfile.write(status_line + ("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
            if chunked:
                self._relay_chunked(upstream.rfile, handler.wfile.write, entry, "down")
            elif length is not None:
                self._relay(upstream.rfile, handler.wfile.write, int(length), entry, "down")
            elif until_close:
                self._relay(upstream.rfile, handler.wfile.write, None, entry, "down")
            handler.wfile.flush()
        except OSError as exc:
            raise _Closed() from exc
        if upstream_closes:
            upstream.close()
        else:
            upstream.idle_since = time.monotonic()
        if client_closes:
            handler.close_connection = True

    def _relay(self, source, write, length, entry, key):
        """Copy `length` bytes (None: until EOF) from source to write, through the bucket."""
        remaining = length
        while remaining is None or remaining > 0:
            piece = source.read1(PIECE if remaining is None else min(PIECE, remaining))
            if not piece:
                if remaining is None:
                    return
                raise OSError("the body ended early")
            self.bucket.take(len(piece))
            write(piece)
            self._count(entry, key, len(piece))
            if remaining is not None:
                remaining -= len(piece)

    def _relay_chunked(self, source, write, entry, key):
        """Copy a chunked body as it is framed (the payload bytes counted), through the bucket."""
        while True:
            size_line = source.readline(65537)
            if not size_line:
                raise OSError("the chunked body ended early")
            write(size_line)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    line = source.readline(65537)
                    write(line)
                    if line in (b"\r\n", b"\n", b""):
                        return
            self._relay(source, write, size, entry, key)
            write(source.readline(65537))  # the CRLF after the data
