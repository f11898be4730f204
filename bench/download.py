#!/usr/bin/env python3
"""Benchmark: GET /api/livekit/recordings/download, the presigned redirect and the proxy stream.

Run on demand (not by the test suite), from the project root:

    .venv/bin/python bench/download.py

It prints ONE JSON line of figures on stdout; progress goes to stderr. Everything runs on
127.0.0.1 and stops by itself (a hard ceiling of --budget seconds, 290 by default).

1. Redirect: requests/s and p50/p99 latency of the download endpoint (a 302 to the local
   backend's signed URL, for a logged-in member) under gunicorn (2 workers, gthread, 4 threads,
   like scripts/serve.sh), on SQLite and on PostgreSQL (a fresh database, dropped at the end),
   next to a bare Flask `redirect()` app under the same gunicorn settings (measured before and
   after the others, averaged), with the same load (wrk when installed, else a keep-alive Python
   client). ratio = download_rps / bare_rps. Target: ratio >= 0.7.
   Each run also reports the gunicorn workers' CPU time per request (cpu_ratio = bare / download)
   and how many cores other processes took meanwhile (other_load_cores; the PostgreSQL server
   counts there too): requests/s on a busy host says little, CPU per request much more.
2. Proxy: a 1 GiB file (cached in bench/.cache/) served with Range support by a small server in
   another process, registered as an external recording_url, downloaded through the endpoint by
   one streaming client. MB/s, the same file read from disk (MB/s), and the gunicorn workers'
   peak RSS growth (VmRSS sampled every 50 ms; peak minus the baseline before the download).
   Target: growth <= 30 MB.

Every process it starts and the temporary database are removed on exit, Ctrl-C and errors included.
"""
import argparse
import email.utils
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from common import Cleanup, HOST, free_port, log, stop_process

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))  # webapp, when run as bench/download.py

CACHE = PROJECT / "bench" / ".cache"
BIG_FILE = CACHE / "big.bin"
BIG_SIZE = 1024 ** 3  # 1 GiB
EMAIL = "bench-member@example.com"
PASSWORD = "bench password 123"
SECRET_KEY = "reclip-bench-secret-key-not-for-production"
USER_AGENT = "reclip-bench/1.0"
WORKERS, THREADS = 2, 4  # as scripts/serve.sh
TARGET_RATIO = 0.7
TARGET_RSS_MB = 30
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# Settings the app reads from the environment (or a .env file) that must not leak into the run.
NEUTRAL_ENV = ("REDIS_URL", "PUBLIC_BASE_URL", "S3_BUCKET", "S3_ENDPOINT_URL", "S3_REGION",
               "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "SUPABASE_URL", "SUPABASE_SERVICE_KEY",
               "SUPABASE_BUCKET", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "FFMPEG_BINARY")

APP_WSGI = """\
import os
from webapp import create_app

app = create_app({"SECRET_KEY": os.environ["SECRET_KEY"]}, instance_path=os.environ["RECLIP_BENCH_INSTANCE"])
"""

BARE_WSGI = """\
from flask import Flask, redirect

app = Flask(__name__)


@app.get("/r")
def r():
    return redirect("http://127.0.0.1/x", 302)
"""

WRK_LUA = """\
done = function(summary, latency, requests)
  io.write(string.format(
    "BENCHJSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d,\\"mean_us\\":%.1f," ..
    "\\"max_us\\":%d,\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    latency.max, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
"""


def start_process(cleanup, label, cmd, **kwargs):
    """Popen in a new session (so Ctrl-C reaches only us) whose group is stopped by its id at cleanup."""
    proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    cleanup.add(label, lambda: stop_process(proc))
    return proc


class BudgetExceeded(Exception):
    pass


# --- the range-capable file server (run as a separate process) ------------------------------

def serve_file(path):
    """Serve one file at /<name> with HEAD, Range (single range), ETag and sendfile; prints the port."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    path = Path(path)
    stat = path.stat()
    size = stat.st_size
    etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
    last_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
    route = "/" + path.name

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _range(self):
            header = self.headers.get("Range")
            if_range = self.headers.get("If-Range")
            if not header or (if_range and if_range != etag):
                return None
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
            if not match or match.group(1) == match.group(2) == "":
                return None
            first, last = match.groups()
            if first == "":
                start, end = max(0, size - int(last)), size - 1
            else:
                start, end = int(first), min(size - 1, int(last)) if last else size - 1
            if start >= size or start > end:
                return "unsatisfiable"
            return start, end

        def _head(self, send_body):
            if self.path.split("?", 1)[0] != route:
                self.send_error(404)
                return None
            rng = self._range()
            if rng == "unsatisfiable":
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            start, end = rng or (0, size - 1)
            self.send_response(206 if rng else 200)
            if rng:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            self.end_headers()
            return (start, end) if send_body else None

        def do_HEAD(self):
            self._head(False)

        def do_GET(self):
            span = self._head(True)
            if span is None:
                return
            start, end = span
            self.wfile.flush()
            offset, remaining = start, end - start + 1
            with path.open("rb") as fh:
                try:
                    while remaining > 0:
                        sent = os.sendfile(self.connection.fileno(), fh.fileno(), offset, min(remaining, 1 << 20))
                        if sent == 0:
                            break
                        offset += sent
                        remaining -= sent
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

    server = ThreadingHTTPServer((HOST, 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def ensure_big_file():
    """bench/.cache/big.bin: 1 GiB of non-zero bytes, made once."""
    if BIG_FILE.exists() and BIG_FILE.stat().st_size == BIG_SIZE:
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    log(f"writing {BIG_FILE} (1 GiB, once)")
    block = os.urandom(8 << 20)
    tmp = BIG_FILE.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        for _ in range(BIG_SIZE // len(block)):
            fh.write(block)
    os.replace(tmp, BIG_FILE)


# --- the app: setup (run as a separate process with the app's environment) -------------------

def setup_app():
    """Migrate, create the member and the recordings; prints {"meet_id": .., "big_id": ..}."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.service import create_user
    from webapp.extensions import db
    from webapp.recordings.service import add_recording

    app = create_app({"SECRET_KEY": os.environ["SECRET_KEY"]}, instance_path=os.environ["RECLIP_BENCH_INSTANCE"])
    with app.app_context():
        upgrade()
        create_user(EMAIL, PASSWORD)
        meet = add_recording(source_type="meet", product="tipjar", owner_email=EMAIL, title="Bench standup",
                             file=os.environ["RECLIP_BENCH_MP4"])
        ids = {"meet_id": meet.id, "big_id": None}
        if os.environ.get("RECLIP_BENCH_BIG_URL"):
            big = add_recording(source_type="meet", product="tipjar", owner_email=EMAIL, title="Bench big file",
                                url=os.environ["RECLIP_BENCH_BIG_URL"])
            ids["big_id"] = big.id
        db.session.remove()
        db.engine.dispose()
    print(json.dumps(ids), flush=True)


def app_env(database_url, instance, mp4, big_url):
    env = dict(os.environ)
    for name in NEUTRAL_ENV:
        env[name] = ""  # set (empty) so that a .env file cannot fill them in either
    env.update({
        "DATABASE_URL": database_url,
        "STORAGE_BACKEND": "local",
        "SECRET_KEY": SECRET_KEY,
        "PROXY_ALLOWED_HOSTS": HOST,
        "PROXY_ALLOW_PRIVATE_ADDRESSES": "true",
        "SIGNED_URL_TTL": "600",
        "RECLIP_BENCH_INSTANCE": str(instance),
        "RECLIP_BENCH_MP4": str(mp4),
        "RECLIP_BENCH_BIG_URL": big_url or "",
        "PYTHONPATH": str(PROJECT),
    })
    return env


# --- gunicorn ---------------------------------------------------------------------------------

class Gunicorn:
    def __init__(self, cleanup, workdir, module, env, label):
        self.port = free_port()
        self.label = label
        self.errlog = Path(workdir) / f"gunicorn-{label}.log"
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{self.port}",
               "--workers", str(WORKERS), "--threads", str(THREADS), "--worker-class", "gthread",
               "--timeout", "120", "--chdir", str(workdir), "--pythonpath", f"{workdir},{PROJECT}",
               "--log-level", "warning", "--error-logfile", str(self.errlog), f"{module}:app"]
        self.proc = start_process(cleanup, f"gunicorn {label}", cmd, env=env, cwd=str(workdir),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def workers(self):
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
            return [int(pid) for pid in text.split()]
        except OSError:
            pids = []
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    if int(fields[1]) == self.proc.pid:
                        pids.append(int(entry.name))
            return pids

    def wait_ready(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.label} exited: {self.log_tail()}")
            if len(self.workers()) >= WORKERS:
                try:
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
                    conn.request("GET", path, headers={"User-Agent": USER_AGENT})
                    conn.getresponse().read()
                    conn.close()
                    time.sleep(0.5)  # the other worker is booted too by now (it is forked at the same time)
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.label} did not come up in {timeout} s: {self.log_tail()}")

    def log_tail(self):
        try:
            return " | ".join(self.errlog.read_text().strip().splitlines()[-8:])
        except OSError:
            return "(no log)"

    def stop(self):
        stop_process(self.proc)


# --- HTTP helpers -------------------------------------------------------------------------------

def request(port, method, path, headers=None, body=None, timeout=60):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        return response.status, response.headers, data
    finally:
        conn.close()


def _cookies(headers, jar):
    for value in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(value)
        for name, morsel in cookie.items():
            if morsel.value and morsel["max-age"] != "0":
                jar[name] = morsel.value
            else:  # a deleted cookie (flask-login clears remember_token at login)
                jar.pop(name, None)
    return jar


def cookie_header(jar):
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def login(port):
    """The real login form: GET /login for the csrf_token, POST it; the session cookie afterwards."""
    status, headers, body = request(port, "GET", "/login")
    if status != 200:
        raise RuntimeError(f"GET /login answered {status}")
    jar = _cookies(headers, {})
    match = re.search(rb'name="csrf_token" value="([^"]+)"', body)
    if not match:
        raise RuntimeError("no csrf_token on the login page")
    form = urlencode({"email": EMAIL, "password": PASSWORD, "csrf_token": match.group(1).decode()})
    started = time.perf_counter()
    status, headers, _ = request(port, "POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(jar)})
    elapsed = time.perf_counter() - started
    if status != 302:
        raise RuntimeError(f"POST /login answered {status}")
    _cookies(headers, jar)
    return cookie_header(jar), elapsed


def check_redirect(port, path, cookie, expected_size):
    """The endpoint answers 302 to a signed URL that serves the file as an attachment."""
    status, headers, _ = request(port, "GET", path, headers={"Cookie": cookie})
    if status != 302 or "/storage/o/" not in (headers.get("Location") or ""):
        raise RuntimeError(f"{path} answered {status} {headers.get('Location')!r}, not a 302 to a signed URL")
    target = urlsplit(headers["Location"])
    status, headers, body = request(port, "GET", target.path + (f"?{target.query}" if target.query else ""))
    disposition = headers.get("Content-Disposition") or ""
    if status != 200 or not disposition.startswith("attachment") or len(body) != expected_size:
        raise RuntimeError(f"the signed URL answered {status}, {disposition!r}, {len(body)} bytes")


# --- load generation ----------------------------------------------------------------------------

def run_wrk(port, path, cookie, duration, connections, workdir):
    script = Path(workdir) / "done.lua"
    script.write_text(WRK_LUA)
    cmd = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{duration}s",
           "--timeout", "10s", "-s", str(script), "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(f"http://{HOST}:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30, start_new_session=True)
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    raw = json.loads(line[len("BENCHJSON "):])
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {"rps": raw["requests"] / (raw["duration_us"] / 1e6), "p50_ms": raw["p50_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000, "requests": raw["requests"], "errors": errors}


def run_python_load(port, path, cookie, duration, connections):
    """Keep-alive clients on raw sockets, one thread each (slower than wrk: the GIL caps it)."""
    headers = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
    if cookie:
        headers += f"Cookie: {cookie}\r\n"
    request_bytes = (headers + "\r\n").encode()
    expected = b"HTTP/1.1 302"
    deadline = time.perf_counter() + duration
    results = []

    def client():
        latencies, errors, sock, buffer = [], 0, None, b""
        while True:
            now = time.perf_counter()
            if now >= deadline:
                break
            try:
                if sock is None:
                    sock = socket.create_connection((HOST, port), timeout=10)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    buffer = b""
                sock.sendall(request_bytes)
                while b"\r\n\r\n" not in buffer:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed")
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                length = int(match.group(1)) if match else 0
                while len(buffer) < length:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed")
                    buffer += chunk
                buffer = buffer[length:]
                latencies.append(time.perf_counter() - now)
                if not head.startswith(expected):
                    errors += 1
                if re.search(rb"(?i)\r\nconnection:\s*close", head):
                    sock.close()
                    sock = None
            except OSError:
                errors += 1
                if sock is not None:
                    sock.close()
                sock = None
        if sock is not None:
            sock.close()
        results.append((latencies, errors))

    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 30)
    elapsed = time.perf_counter() - started
    latencies = sorted(l for ls, _ in results for l in ls)
    errors = sum(e for _, e in results)
    if not latencies:
        raise RuntimeError("no request completed")

    def pct(p):
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))] * 1000

    return {"rps": len(latencies) / elapsed, "p50_ms": pct(50), "p99_ms": pct(99),
            "requests": len(latencies), "errors": errors}


def _proc_cpu_seconds(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _host_busy_seconds():
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    busy = sum(values) - values[3] - values[4]  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load(args, server, path, cookie, workdir, label):
    """Warm up, then measure: rate, latency, and where the CPU went (the workers, the load
    generator, and everything else on the host, which tells how noisy the machine was)."""
    def once(duration):
        if args.use_wrk:
            return run_wrk(server.port, path, cookie, duration, args.connections, workdir)
        return run_python_load(server.port, path, cookie, duration, args.connections)

    once(args.warmup)
    workers = server.workers()
    cpu0 = sum(_proc_cpu_seconds(pid) for pid in workers)
    host0, own0, wall0 = _host_busy_seconds(), _own_cpu_seconds(), time.monotonic()
    result = once(args.duration)
    wall = time.monotonic() - wall0
    worker_cpu = sum(_proc_cpu_seconds(pid) for pid in workers) - cpu0
    loadgen_cpu = _own_cpu_seconds() - own0
    other_cores = max(0.0, (_host_busy_seconds() - host0 - worker_cpu - loadgen_cpu) / wall)
    log(f"{label}: {result['rps']:.0f} req/s, p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, "
        f"{worker_cpu / max(1, result['requests']) * 1000:.2f} CPU-ms/req, {result['errors']} errors; "
        f"workers {worker_cpu / wall:.2f} cores, load generator {loadgen_cpu / wall:.2f}, "
        f"other processes {other_cores:.2f}")
    if result["errors"]:
        raise RuntimeError(f"{label}: {result['errors']} requests failed or did not answer 302")
    return {"rps": round(result["rps"], 1), "p50_ms": round(result["p50_ms"], 3),
            "p99_ms": round(result["p99_ms"], 3), "requests": result["requests"],
            "cpu_ms_per_req": round(worker_cpu / max(1, result["requests"]) * 1000, 3),
            "other_load_cores": round(other_cores, 2)}


# --- proxy stream ---------------------------------------------------------------------------------

def rss_kb(pid, field="VmRSS"):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    def __init__(self, pids, interval=0.05):
        super().__init__(daemon=True)
        self.pids, self.interval = pids, interval
        self.peak = {pid: 0 for pid in pids}
        self.samples = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            for pid in self.pids:
                value = rss_kb(pid)
                if value is not None and value > self.peak[pid]:
                    self.peak[pid] = value
            self.samples += 1
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join(5)


def read_disk(path):
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    total = 0
    started = time.perf_counter()
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(view)
            if not n:
                break
            total += n
    return total, time.perf_counter() - started


def stream_download(port, path, cookie, timeout=120):
    """One client: GET, read the body in 1 MiB chunks and discard it; (status, headers, bytes, seconds)."""
    sock = socket.create_connection((HOST, port), timeout=timeout)
    try:
        started = time.perf_counter()
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: {USER_AGENT}\r\n"
                      f"Cookie: {cookie}\r\nConnection: close\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            if not chunk:
                raise RuntimeError("the proxy closed before its headers")
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
        total = len(rest)
        buffer = bytearray(1 << 20)
        view = memoryview(buffer)
        while True:
            n = sock.recv_into(view)
            if not n:
                break
            total += n
        return status, headers, total, time.perf_counter() - started
    finally:
        sock.close()


def measure_proxy(server, path, cookie):
    # Disk first: once to have the file in the page cache as the file server will, then measured.
    read_disk(BIG_FILE)
    disk_bytes, disk_seconds = read_disk(BIG_FILE)
    disk_mb_s = disk_bytes / 1e6 / disk_seconds
    log(f"disk read: {disk_mb_s:.0f} MB/s")

    pids = server.workers()
    hwm_reset = True
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        except OSError:
            hwm_reset = False
    baseline = {}
    for _ in range(10):  # ~0.5 s of baseline; the smallest value as the resting size
        for pid in pids:
            value = rss_kb(pid)
            if value is not None:
                baseline[pid] = min(baseline.get(pid, value), value)
        time.sleep(0.05)
    sampler = RssSampler(pids)
    sampler.start()
    try:
        status, headers, total, seconds = stream_download(server.port, path, cookie)
    finally:
        sampler.stop()
    if status != 200 or total != BIG_SIZE:
        raise RuntimeError(f"proxy download answered {status} with {total} bytes (expected 200, {BIG_SIZE})")
    if not headers.get("content-disposition", "").startswith("attachment"):
        raise RuntimeError(f"proxy download has no attachment disposition: {headers}")
    growth = {pid: (sampler.peak[pid] - baseline[pid]) / 1024 for pid in pids if pid in baseline}
    hwm_growth = None
    if hwm_reset:
        hwm = {pid: rss_kb(pid, "VmHWM") for pid in pids}
        hwm_growth = max((hwm[pid] - baseline[pid]) / 1024 for pid in pids if hwm[pid] and pid in baseline)
    mb_s = total / 1e6 / seconds
    log(f"proxy: {mb_s:.0f} MB/s in {seconds:.1f} s; worker RSS growth {max(growth.values()):.1f} MB "
        f"({sampler.samples} samples), VmHWM growth {hwm_growth}")
    return {
        "mb_per_s": round(mb_s, 1),
        "disk_mb_per_s": round(disk_mb_s, 1),
        "rss_growth_mb": round(max(growth.values()), 2),
        "rss_hwm_growth_mb": round(hwm_growth, 2) if hwm_growth is not None else None,
        "worker_rss_baseline_mb": round(max(baseline.values()) / 1024, 1),
        "bytes": total,
        "seconds": round(seconds, 2),
    }


# --- PostgreSQL --------------------------------------------------------------------------------------

def create_pg_database(cleanup):
    import psycopg

    name = f"reclip_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")

    cleanup.add(f"database {name}", drop)
    server = urlsplit(PG_ADMIN_URL)
    return f"postgresql+psycopg://{server.netloc}/{name}"


# --- the run ---------------------------------------------------------------------------------------------

def bench_app(args, cleanup, workdir, label, database_url, mp4, big_url, proxy):
    """Set up, serve, log in, measure the redirect (and the proxy); stop the server again."""
    instance = Path(workdir) / f"instance-{label}"
    env = app_env(database_url, instance, mp4, big_url if proxy else None)
    setup = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--setup"], env=env, cwd=str(workdir),
                           capture_output=True, text=True, timeout=120, start_new_session=True)
    if setup.returncode != 0:
        raise RuntimeError(f"setup on {label} failed: {setup.stderr[-1500:]}")
    ids = json.loads(setup.stdout.strip().splitlines()[-1])
    server = Gunicorn(cleanup, workdir, "app_wsgi", env, label)
    try:
        server.wait_ready("/healthz")
        cookie, login_seconds = login(server.port)
        log(f"{label}: logged in (POST /login took {login_seconds * 1000:.0f} ms)")
        path = f"/api/livekit/recordings/download?type=meet&id={ids['meet_id']}"
        check_redirect(server.port, path, cookie, Path(mp4).stat().st_size)
        result = load(args, server, path, cookie, workdir, label)
        proxy_result = None
        if proxy:
            proxy_result = measure_proxy(server, f"/api/livekit/recordings/download?type=meet&id={ids['big_id']}",
                                         cookie)
        return result, proxy_result
    finally:
        server.stop()


def measure_bare(args, cleanup, workdir, mp4, label):
    bare = Gunicorn(cleanup, workdir, "bare_wsgi", app_env("sqlite://", workdir, mp4, None), "bare")
    try:
        bare.wait_ready("/r")
        return load(args, bare, "/r", None, workdir, label)
    finally:
        bare.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per endpoint (10)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up before each (2)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections (8)")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even with wrk")
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument("--skip-proxy", action="store_true")
    parser.add_argument("--budget", type=int, default=290, help="hard ceiling in seconds (290)")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-file", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        return setup_app()
    if args.serve_file:
        return serve_file(args.serve_file)
    args.use_wrk = bool(shutil.which("wrk")) and not args.python_load
    args.duration = int(args.duration) if args.use_wrk else args.duration
    args.warmup = max(1, int(args.warmup)) if args.use_wrk else args.warmup

    cleanup = Cleanup()

    def on_signal(signum, _frame):
        if signum == signal.SIGALRM:
            raise BudgetExceeded(f"the benchmark passed its budget of {args.budget} s")
        log(f"signal {signum}: stopping")
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even when started with SIGINT ignored
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(args.budget)
    started = time.monotonic()
    loadavg_at_start = os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="reclip-bench-")
    cleanup.add("temp dir", lambda: shutil.rmtree(workdir, ignore_errors=True))
    try:
        (Path(workdir) / "app_wsgi.py").write_text(APP_WSGI)
        (Path(workdir) / "bare_wsgi.py").write_text(BARE_WSGI)
        from webapp.media import generate_test_media
        mp4 = Path(workdir) / "sample.mp4"
        generate_test_media(mp4, 5, size="320x240")

        big_url = None
        if not args.skip_proxy:
            ensure_big_file()
            file_server = start_process(cleanup, "file server",
                                        [sys.executable, str(Path(__file__).resolve()), "--serve-file", str(BIG_FILE)],
                                        stdout=subprocess.PIPE, text=True)
            big_url = f"http://{HOST}:{int(file_server.stdout.readline())}/{BIG_FILE.name}"
            log(f"file server on {big_url}")

        log(f"load: {'wrk' if args.use_wrk else 'python'}, {args.connections} connections, "
            f"{args.warmup} s warm-up + {args.duration} s each; gunicorn {WORKERS} workers x {THREADS} threads")

        bare_runs = [measure_bare(args, cleanup, workdir, mp4, "bare_redirect (before)")]

        sqlite_url = f"sqlite:///{Path(workdir) / 'reclip.db'}"
        sqlite_result, proxy_result = bench_app(args, cleanup, workdir, "sqlite", sqlite_url, mp4, big_url,
                                                proxy=not args.skip_proxy)

        pg_result = None
        if not args.skip_postgresql:
            try:
                pg_url = create_pg_database(cleanup)
            except Exception as exc:
                log(f"PostgreSQL unavailable at {PG_ADMIN_URL}: {exc}")
                pg_result = {"error": f"PostgreSQL unavailable: {exc.__class__.__name__}"}
            else:
                pg_result, _ = bench_app(args, cleanup, workdir, "postgresql", pg_url, mp4, None, proxy=False)

        # The bare app again after the others: the host's load drifts (see other_load_cores).
        bare_runs.append(measure_bare(args, cleanup, workdir, mp4, "bare_redirect (after)"))
        bare_result = {
            "rps": round(statistics.mean(r["rps"] for r in bare_runs), 1),
            "p50_ms": round(statistics.mean(r["p50_ms"] for r in bare_runs), 3),
            "p99_ms": round(statistics.mean(r["p99_ms"] for r in bare_runs), 3),
            "cpu_ms_per_req": round(statistics.mean(r["cpu_ms_per_req"] for r in bare_runs), 3),
            "runs": bare_runs,
        }

        def ratio(result):
            return round(result["rps"] / bare_result["rps"], 3) if result and "rps" in result else None

        def cpu_ratio(result):
            return (round(bare_result["cpu_ms_per_req"] / result["cpu_ms_per_req"], 3)
                    if result and result.get("cpu_ms_per_req") else None)

        ratio_sqlite, ratio_pg = ratio(sqlite_result), ratio(pg_result)
        runs = [r for r in (*bare_runs, sqlite_result, pg_result) if r and "other_load_cores" in r]
        busiest = max(r["other_load_cores"] for r in runs)
        if busiest > 0.3:
            log(f"warning: other processes used up to {busiest:.2f} cores during the runs; requests/s and "
                f"their ratios are skewed by that, cpu_ratio_* much less so")
        figures = {
            "bench": "download",
            "sqlite": sqlite_result,
            "postgresql": pg_result,
            "bare_redirect": bare_result,
            "ratio_sqlite": ratio_sqlite,
            "ratio_postgresql": ratio_pg,
            # bare CPU per request / download CPU per request: the same comparison, less sensitive to
            # other load on the host than requests/s.
            "cpu_ratio_sqlite": cpu_ratio(sqlite_result),
            "cpu_ratio_postgresql": cpu_ratio(pg_result),
            "proxy": proxy_result,
            "targets": {"redirect_ratio_min": TARGET_RATIO, "proxy_rss_growth_max_mb": TARGET_RSS_MB},
            "met": {  # null: not measured in this run
                "ratio_sqlite": None if ratio_sqlite is None else ratio_sqlite >= TARGET_RATIO,
                "ratio_postgresql": None if ratio_pg is None else ratio_pg >= TARGET_RATIO,
                "proxy_rss_growth": None if proxy_result is None else proxy_result["rss_growth_mb"] <= TARGET_RSS_MB,
            },
            "settings": {"gunicorn": f"{WORKERS} workers, gthread, {THREADS} threads", "connections": args.connections,
                         "warmup_s": args.warmup, "duration_s": args.duration,
                         "load_generator": "wrk" if args.use_wrk else "python", "cpus": os.cpu_count(),
                         "loadavg_1m_at_start": round(loadavg_at_start, 2),
                         "max_other_load_cores": busiest},
            "elapsed_s": None,
        }
        status = 0
    except (Exception, BudgetExceeded) as exc:
        log(f"failed: {exc!r}")
        figures, status = {"bench": "download", "error": f"{exc.__class__.__name__}: {exc}"}, 1
    finally:
        signal.alarm(0)
        cleanup.run()
    figures["elapsed_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(figures), flush=True)
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; everything it started is stopped")
        sys.exit(130)
