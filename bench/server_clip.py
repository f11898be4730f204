#!/usr/bin/env python3
"""Benchmark: a server-side clip, 60 s from the middle of a 60-minute 1280x720 recording.

Run on demand (not by the test suite), from the project root:

    .venv/bin/python bench/server_clip.py

It prints ONE JSON line of figures on stdout; progress goes to stderr. Everything runs on
127.0.0.1 and stops by itself: the measured part has a hard ceiling of --budget seconds (290 by
default). The first run also makes the recording (about 680 MB, cached in bench/.cache/): a
60 s testsrc2 segment at ~1.5 Mbit/s with a keyframe every 2 s, stream-copied 60 times into
one faststart MP4. That takes a few minutes once.

The job is webapp.clips.jobs.cut_clip run in-process (claim, ffmpeg, store, verify, ready),
exactly what the consumer runs, on two storage backends:

- local: the recording is a file under the instance's storage; ffmpeg reads it by path.
- s3: the recording is in a bucket on moto's S3 server (its own process); the app's
  S3_ENDPOINT_URL is a small counting reverse proxy in front of moto, so ffmpeg reads the
  source through a presigned URL whose bytes the proxy counts as they are sent.

Figures, each the median of --runs runs:
- bytes_read: what was read of the source (local: the "Statistics: N bytes read" that ffmpeg
  logs for the input's I/O context, the same count as rchar for that file; s3: bytes of the
  source object that the proxy sent, what the sockets took in before ffmpeg hung up included).
  ffmpeg_bytes_read is ffmpeg's own count on both.
- job_seconds: wall time of cut_clip; native_seconds: the same ffmpeg arguments on the local
  copy, run by hand, nothing else.
- s3 only: moto_first_byte_seconds, the time moto took to start answering the source GETs (moto
  reads the whole object for every GET, Range or not: real S3 answers in tens of ms), and
  native_same_url_seconds, the same ffmpeg arguments on the job's presigned URL by hand.
Targets: bytes_read <= 2 x the clip's size; job_seconds <= 2 x native_seconds
(targets_met says which one holds for each backend).

Every process it starts and the temporary instance are removed on exit, Ctrl-C and errors included.
"""
import argparse
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import Cleanup, HOST, free_port, log, stop_process

PROJECT = Path(__file__).resolve().parent.parent
CACHE = PROJECT / "bench" / ".cache"
SOURCE = CACHE / "hour-1280x720.mp4"
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))
SOURCE_MINUTES = 60
SEGMENT_SECONDS = 60
CLIP_START, CLIP_END = 1770.0, 1830.0  # 60 s from the middle
SECRET_KEY = "reclip-bench-secret-key-not-for-production"
TARGET_READ_RATIO = 2.0
TARGET_TIME_RATIO = 2.0
SOURCE_KEY = "recordings/meet/bench-hour.mp4"
GENERATION_TIMEOUT = 1800

FFMPEG_WRAPPER = """\
#!/bin/sh
# ffmpeg at log level verbose (for its I/O statistics), its stderr appended to a log file.
prev=
n=$#
for arg in "$@"; do
  if [ "$prev" = "-loglevel" ]; then arg=verbose; fi
  set -- "$@" "$arg"
  prev=$arg
done
shift "$n"
exec {ffmpeg} "$@" 2>>{log}
"""


class BudgetExceeded(Exception):
    pass


def ffmpeg_exe():
    from webapp.media import ffmpeg_binary
    return ffmpeg_binary()


def ensure_source():
    """The cached 60-minute recording; made once (a segment, stream-copied 60 times)."""
    if SOURCE.exists():
        return SOURCE
    CACHE.mkdir(parents=True, exist_ok=True)
    log(f"making the {SOURCE_MINUTES}-minute 1280x720 recording once (a few minutes) into {SOURCE}")
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="make-") as tmp:
        segment = Path(tmp) / "segment.mp4"
        subprocess.run([
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={SEGMENT_SECONDS}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={SEGMENT_SECONDS}",
            "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "1400k", "-maxrate", "1600k", "-bufsize", "3000k",
            "-pix_fmt", "yuv420p", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
            "-c:a", "aac", "-b:a", "96k", "-shortest", str(segment),
        ], check=True, timeout=GENERATION_TIMEOUT)
        playlist = Path(tmp) / "list.txt"
        playlist.write_text(f"file '{segment}'\n" * (SOURCE_MINUTES * 60 // SEGMENT_SECONDS))
        partial = Path(tmp) / "hour.mp4"
        subprocess.run([
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
            "-f", "concat", "-safe", "0", "-i", str(playlist), "-c", "copy", "-movflags", "+faststart", str(partial),
        ], check=True, timeout=GENERATION_TIMEOUT)
        os.replace(partial, SOURCE)
    return SOURCE


# --- ffmpeg's own I/O statistics ----------------------------------------------------------------

_STATS = re.compile(r"Statistics: (\d+) bytes read")


def input_bytes_read(stderr):
    """Bytes ffmpeg read through the input's I/O context (not the faststart pass re-reading the output)."""
    total = 0
    second_pass = False
    for line in stderr.splitlines():
        if "Starting second pass" in line:
            second_pass = True
            continue
        match = _STATS.search(line)
        if match:
            if second_pass:
                second_pass = False  # that one was the muxer re-reading its own output
                continue
            total += int(match.group(1))
    return total


def native_cut(source, out_dir):
    """The same cut by hand: ffmpeg on the local file, nothing else. (seconds, bytes read, clip size)."""
    from webapp.clips.jobs import ffmpeg_cut_args
    output = Path(out_dir) / "native.mp4"
    args = ffmpeg_cut_args(str(source), CLIP_START, CLIP_END, output, precise=False, audio_only=False)
    started = time.perf_counter()
    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "verbose", "-nostdin", "-y", *args],
                          capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"native ffmpeg failed: {done.stderr[-2000:]}")
    size = output.stat().st_size
    output.unlink()
    return seconds, input_bytes_read(done.stderr), size


# --- the counting proxy in front of moto ---------------------------------------------------------

class CountingProxy:
    """A reverse proxy that counts the response body bytes it actually sends, per request."""

    HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer",
                  "expect"}

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.requests = []  # (method, path, status, bytes sent, seconds to first byte, seconds, Range)
        self.in_flight = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: a seek is a new request

            def log_message(self, *args):
                pass

            def _body(self):
                if self.headers.get("Expect", "").lower() == "100-continue":
                    self.send_response_only(100)  # or boto3 waits a second before sending the body
                    self.end_headers()
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else None

            def _forward(self):
                with proxy._lock:
                    proxy.in_flight += 1
                body = self._body()
                headers = {k: v for k, v in self.headers.items() if k.lower() not in CountingProxy.HOP_BY_HOP}
                if body is not None:
                    headers["Content-Length"] = str(len(body))
                upstream = http.client.HTTPConnection(HOST, proxy.upstream_port, timeout=120)
                sent, status, started = 0, None, time.perf_counter()
                first_byte = None
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    response = upstream.getresponse()
                    first_byte = time.perf_counter() - started
                    self.send_response(response.status, response.reason)
                    for name, value in response.getheaders():
                        if name.lower() not in CountingProxy.HOP_BY_HOP:
                            self.send_header(name, value)
                    self.end_headers()
                    if self.command != "HEAD":
                        while True:
                            chunk = response.read(64 * 1024)
                            if not chunk:
                                break
                            try:
                                self.wfile.write(chunk)
                            except (BrokenPipeError, ConnectionResetError):
                                break  # the client has what it wanted (ffmpeg closes after a seek)
                            sent += len(chunk)
                    status = response.status
                finally:
                    upstream.close()
                    with proxy._lock:
                        proxy.in_flight -= 1
                        proxy.requests.append((self.command, self.path.split("?", 1)[0], status, sent, first_byte,
                                               time.perf_counter() - started, self.headers.get("Range")))

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        self.wait_idle()  # an abandoned GET of the previous run still counts for that run
        with self._lock:
            self.requests = []

    def wait_idle(self, timeout=30):
        """Wait until every request has been answered (an abandoned GET ends when its client has gone)."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)

    def ranges_for(self, key):
        """'Range=bytes sent' of each GET of the key, for the log."""
        with self._lock:
            return " ".join(f"{r[6] or 'all'}={r[3]}" for r in self.requests if r[0] == "GET" and r[1].endswith("/" + key))

    def sent_for(self, key, method="GET"):
        """(bytes sent, requests, summed seconds to the upstream's first byte) for one object's key."""
        self.wait_idle()
        with self._lock:
            matching = [r for r in self.requests if r[0] == method and r[1].endswith("/" + key)]
        return sum(r[3] for r in matching), len(matching), sum(r[4] or 0.0 for r in matching)


def start_moto(cleanup):
    port = free_port()
    proc = subprocess.Popen([str(PROJECT / ".venv" / "bin" / "moto_server"), "-H", HOST, "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    cleanup.add("moto", lambda: stop_process(proc))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return port
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("moto_server exited") from None
            time.sleep(0.2)
    raise RuntimeError("moto_server did not start")


# --- the app and the job -----------------------------------------------------------------------

def make_app(instance, storage_config, ffmpeg_wrapper):
    from werkzeug.security import generate_password_hash

    from webapp import create_app
    from webapp.auth.models import User
    from webapp.extensions import db

    config = {
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'reclip.db'}",
        "STORAGE_LOCAL_ROOT": str(instance / "storage"),
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PUBLIC_BASE_URL": "",
        "FFMPEG_BINARY": str(ffmpeg_wrapper),
        "JOB_QUEUE_NAME": "reclip-bench",
        "CLIP_MAX_SECONDS": 600,
        **storage_config,
    }
    app = create_app(config, instance_path=str(instance))
    with app.app_context():
        db.create_all()
        user = User(email="bench-admin@example.com", password_hash=generate_password_hash("x", "scrypt:1024:8:1"),
                    is_super_admin=True)
        db.session.add(user)
        db.session.commit()
    return app


def add_recording(app, size):
    from webapp.extensions import db
    from webapp.recordings.models import MeetRoom
    with app.app_context():
        recording = MeetRoom(product="m10", title="Bench hour", recording_url=SOURCE_KEY,
                             duration_seconds=SOURCE_MINUTES * 60.0, size_bytes=size)
        db.session.add(recording)
        db.session.commit()
        return recording.id


def timed(phases, name, fn):
    """fn, adding its wall time to phases[name]."""
    def run(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
    return run


def run_job(app, recording_id, wrapper_log):
    """One clip through cut_clip: (seconds, ffmpeg's bytes read, clip size, {phase: seconds})."""
    from sqlalchemy import select

    from webapp.auth.models import User
    from webapp.clips import jobs, service
    from webapp.clips.models import RecordingClip
    from webapp.extensions import db
    phases = {}
    storage = app.extensions["storage"]
    patches = [(jobs, "run_ffmpeg", "ffmpeg"), (service, "verify_clip_object", "verify"), (storage, "put", "store")]
    originals = [(owner, attr, getattr(owner, attr)) for owner, attr, _name in patches]
    for owner, attr, name in patches:
        setattr(owner, attr, timed(phases, name, getattr(owner, attr)))
    try:
        with app.app_context():
            user = db.session.scalar(select(User))
            clip, _source, _upload = service.create_clip(user, "meet", recording_id, CLIP_START, CLIP_END, "server", False)
            clip_id = clip.id
            wrapper_log.write_text("")
            started = time.perf_counter()
            result = jobs.cut_clip(clip_id)
            seconds = time.perf_counter() - started
            db.session.expire_all()
            clip = db.session.get(RecordingClip, clip_id)
            if result != "ready":
                raise RuntimeError(f"the job ended {result}: {clip.error}\n{wrapper_log.read_text()[-2000:]}")
            return seconds, input_bytes_read(wrapper_log.read_text()), clip.size_bytes, phases
    finally:
        for owner, attr, original in originals:
            if owner is storage:
                del storage.put  # back to the class's method
            else:
                setattr(owner, attr, original)


def median(values):
    return round(statistics.median(values), 3)


def presigned_source_url(app):
    """The URL the job gives ffmpeg for the source (through the proxy, like the job's)."""
    from webapp.storage import get_storage
    with app.app_context():
        return get_storage().signed_download_url(SOURCE_KEY, filename="source", disposition="inline", ttl=900)


def bench_backend(name, app, recording_id, wrapper_log, runs, native_seconds, proxy=None):
    log(f"{name}: {runs} runs of cut_clip")
    seconds, ffmpeg_read, served, clip_sizes, gets, moto_waits, native_http = [], [], [], [], [], [], []
    phases = {"ffmpeg": [], "store": [], "verify": []}
    for i in range(runs):
        if proxy:
            proxy.reset()
        job_seconds, read, clip_size, job_phases = run_job(app, recording_id, wrapper_log)
        for phase in phases:
            phases[phase].append(job_phases.get(phase, 0.0))
        seconds.append(job_seconds)
        ffmpeg_read.append(read)
        clip_sizes.append(clip_size)
        line = (f"{name} run {i + 1}: job {job_seconds:.2f} s ("
                + ", ".join(f"{phase} {job_phases.get(phase, 0.0):.2f} s" for phase in phases)
                + f"), ffmpeg read {read / 1e6:.1f} MB")
        if proxy:
            sent, count, first_byte = proxy.sent_for(SOURCE_KEY)
            log(f"  source GETs: {proxy.ranges_for(SOURCE_KEY)}")
            served.append(sent)
            gets.append(count)
            moto_waits.append(first_byte)
            proxy.reset()
            native_http.append(native_cut(presigned_source_url(app), wrapper_log.parent)[0])
            line += (f", proxy sent {sent / 1e6:.1f} MB of the source in {count} GETs"
                     f" (moto's time to first byte {first_byte:.2f} s); native ffmpeg on that URL {native_http[-1]:.2f} s")
        log(line + f"; clip {clip_size / 1e6:.1f} MB")
    clip_bytes = int(statistics.median(clip_sizes))
    bytes_read = int(statistics.median(served if proxy else ffmpeg_read))
    job = median(seconds)
    figures = {
        "job_seconds": job, "native_seconds": native_seconds, "time_ratio": round(job / native_seconds, 2),
        "clip_bytes": clip_bytes, "bytes_read": bytes_read, "read_ratio": round(bytes_read / clip_bytes, 2),
        "ffmpeg_bytes_read": int(statistics.median(ffmpeg_read)),
        "job_phase_seconds": {phase: median(values) for phase, values in phases.items()},
    }
    if proxy:
        figures.update({
            "source_get_requests": int(statistics.median(gets)),
            "moto_first_byte_seconds": median(moto_waits),
            "job_seconds_less_moto_wait": median([job - wait for job, wait in zip(seconds, moto_waits)]),
            "native_same_url_seconds": median(native_http),
            "time_ratio_to_native_same_url": round(job / statistics.median(native_http), 2),
        })
    figures["targets_met"] = {"bytes_read": figures["read_ratio"] <= TARGET_READ_RATIO,
                              "time": figures["time_ratio"] <= TARGET_TIME_RATIO}
    figures["pass"] = all(figures["targets_met"].values())
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=290, help="hard ceiling in seconds for the measured part")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-s3", action="store_true")
    options = parser.parse_args()

    for name in ("REDIS_URL", "DATABASE_URL", "STORAGE_BACKEND", "S3_BUCKET", "S3_ENDPOINT_URL", "FFMPEG_BINARY",
                 "PUBLIC_BASE_URL", "INSTANCE_PATH"):
        os.environ.pop(name, None)  # settings come from here, not from the shell or a .env file
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

    source = ensure_source()
    source_size = source.stat().st_size

    cleanup = Cleanup()

    def on_alarm(signum, frame):
        raise BudgetExceeded(f"the benchmark took longer than {options.budget} s")

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(options.budget)
    try:
        run_dir = Path(tempfile.mkdtemp(dir=CACHE, prefix="run-"))  # beside the source: hard links work
        cleanup.add("run directory", lambda: shutil.rmtree(run_dir, ignore_errors=True))
        wrapper_log = run_dir / "ffmpeg.log"
        wrapper = run_dir / "ffmpeg"
        wrapper.write_text(FFMPEG_WRAPPER.format(ffmpeg=shlex.quote(ffmpeg_exe()), log=shlex.quote(str(wrapper_log))))
        wrapper.chmod(0o755)

        log("native ffmpeg on the local copy (one warm-up, then the runs)")
        native_cut(source, run_dir)
        native = [native_cut(source, run_dir) for _ in range(options.runs)]
        native_seconds = median([n[0] for n in native])
        result = {
            "bench": "server_clip",
            "source": {"duration_seconds": SOURCE_MINUTES * 60, "size_bytes": source_size, "size": "1280x720",
                       "kbit_per_second": round(source_size * 8 / (SOURCE_MINUTES * 60) / 1000)},
            "clip": {"start_seconds": CLIP_START, "end_seconds": CLIP_END, "mode": "stream copy"},
            "native": {"seconds": native_seconds, "bytes_read": native[0][1], "clip_bytes": native[0][2]},
        }

        instance = run_dir / "local"
        (instance / "storage" / Path(SOURCE_KEY).parent).mkdir(parents=True)
        target = instance / "storage" / SOURCE_KEY
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        app = make_app(instance, {"STORAGE_BACKEND": "local"}, wrapper)
        result["local"] = bench_backend("local", app, add_recording(app, source_size), wrapper_log,
                                        options.runs, native_seconds)

        if not options.skip_s3:
            import boto3
            moto_port = start_moto(cleanup)
            proxy = CountingProxy(moto_port).start()
            cleanup.add("proxy", proxy.stop)
            bucket = "reclip-bench"
            s3 = boto3.client("s3", endpoint_url=f"http://{HOST}:{moto_port}", region_name="us-east-1")
            s3.create_bucket(Bucket=bucket)
            log(f"uploading the recording ({source_size / 1e6:.0f} MB) to moto")
            s3.upload_file(str(source), bucket, SOURCE_KEY, ExtraArgs={"ContentType": "video/mp4"})
            app = make_app(run_dir / "s3", {
                "STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": f"http://{HOST}:{proxy.port}",
                "S3_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}, wrapper)
            result["s3"] = bench_backend("s3", app, add_recording(app, source_size), wrapper_log,
                                         options.runs, native_seconds, proxy=proxy)

        result["targets"] = {"read_ratio_max": TARGET_READ_RATIO, "time_ratio_max": TARGET_TIME_RATIO}
        result["pass"] = all(result[name]["pass"] for name in ("local", "s3") if name in result)
        signal.alarm(0)
        print(json.dumps(result), flush=True)
        return 0 if result["pass"] else 1
    except BudgetExceeded as exc:
        log(str(exc))
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        signal.alarm(0)
        cleanup.run()


if __name__ == "__main__":
    sys.exit(main())
