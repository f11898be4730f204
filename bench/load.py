#!/usr/bin/env python3
"""Benchmark: bounded load over the pages people use, on SQLite and PostgreSQL, beside a bare redirect.

Run on demand (not by the test suite), from the project root:

    .venv/bin/python bench/load.py [--connections 50] [--duration 30] [--skip-postgresql]

It prints ONE JSON line of figures on stdout; progress goes to stderr. Everything runs on 127.0.0.1 and
stops by itself (a hard ceiling of --budget seconds).

For each database, a fresh app (a migrated database, a member with a recording made with ffmpeg, a ready
clip, a share link, and 10,000 more recordings of the member's) is served by gunicorn with the
project's gunicorn.conf.py (gevent workers, WEB_CONCURRENCY=2, as `make run` and production). Then:

1. Load: --connections keep-alive clients (wrk) for --duration seconds in all, split evenly over five
   routes, one after the other: the recordings list API (first page of 10,000), the download redirect,
   the play redirect, a clip's status, and the public share page. Per route: requests/s, p50/p99,
   errors (connection errors, timeouts, any status >= 400: wrk counts them), and the gunicorn workers'
   CPU time per request. The same load on a bare Flask `redirect()` under the same gunicorn settings
   (before and after, averaged) is the baseline: cpu_ratio = route CPU per request / bare CPU per request.
2. The list of 10,000: one client walks 100 pages of 20 (the cursor each page gives) and reports the
   p50/p95 of a page; the SQL statements of a page are counted in-process (SQLAlchemy events) for the
   first and the last page and for a page of 10 and of 100: the count must not grow with the page or
   its size.

Targets (issue 15): zero errors; p99 < 100 ms per route; CPU per authorized download <= 2 ms;
list page p95 < 30 ms; constant query count.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import Cleanup, HOST, free_port, log, stop_process
from download import (BARE_WSGI, EMAIL, NEUTRAL_ENV, PASSWORD, SECRET_KEY, USER_AGENT, BudgetExceeded,
                      _host_busy_seconds, _own_cpu_seconds, _proc_cpu_seconds, create_pg_database, login,
                      request, run_wrk, start_process)

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

WORKERS = 2
EXTRA_RECORDINGS = 10_000
TARGETS = {"errors": 0, "p99_ms_max": 100, "download_cpu_ms_max": 2.0, "list_page_p95_ms_max": 30}

APP_WSGI = """\
import gc
import os
from webapp import create_app

app = create_app({"SECRET_KEY": os.environ["SECRET_KEY"]}, instance_path=os.environ["RECLIP_BENCH_INSTANCE"])
gc.freeze()  # as wsgi.py
"""


def setup_app():
    """Migrate and fill the database; prints the paths the load will ask for, as JSON."""
    from datetime import timedelta

    from flask_migrate import upgrade
    from sqlalchemy import insert

    from webapp import create_app
    from webapp.auth.service import create_user
    from webapp.clips.models import RecordingClip
    from webapp.extensions import db
    from webapp.media import probe, run_ffmpeg
    from webapp.recordings.models import MeetRoom
    from webapp.recordings.service import add_recording
    from webapp.shares.service import create_share_link
    from webapp.storage import get_storage
    from webapp.timeutil import utcnow

    app = create_app({"SECRET_KEY": os.environ["SECRET_KEY"]}, instance_path=os.environ["RECLIP_BENCH_INSTANCE"])
    with app.app_context():
        upgrade()
        member = create_user(EMAIL, PASSWORD)
        meet = add_recording(source_type="meet", product="tipjar", owner_email=EMAIL, title="Bench standup",
                             file=os.environ["RECLIP_BENCH_MP4"])
        # A ready clip: a real cut, stored where the app puts clips.
        clip_file = Path(os.environ["RECLIP_BENCH_INSTANCE"]) / "clip.mp4"
        run_ffmpeg(["-ss", "1", "-i", os.environ["RECLIP_BENCH_MP4"], "-t", "3", "-c", "copy",
                    "-movflags", "+faststart", str(clip_file)])
        info = probe(str(clip_file))
        clip = RecordingClip(id="b" * 32, source_type="meet", source_id=meet.id, recording_url=meet.recording_url,
                             start_seconds=1, end_seconds=4, mode="browser", status="ready", media_kind="video",
                             storage_key=f"clips/{'b' * 32}.mp4", user_id=member.id,
                             size_bytes=clip_file.stat().st_size, duration_seconds=info.duration_seconds,
                             width=info.width, height=info.height, title="Bench clip")
        db.session.add(clip)
        db.session.commit()
        with clip_file.open("rb") as fh:
            get_storage().put(clip.storage_key, fh, content_type="video/mp4")
        _link, token, _ = create_share_link(member, "clip", clip.id, None, True, None, False)
        # The long list: rows only (their media is never asked for here), older than the real one.
        now = utcnow()
        rows = [{"product": "tipjar", "title": f"Weekly sync {n}", "recording_url": f"recordings/bench-{n}.mp4",
                 "duration_seconds": 1800.0, "size_bytes": 300_000_000, "media_kind": "video", "width": 1280,
                 "height": 720, "room_name": f"room-{n}", "owner_id": member.id,
                 "created_at": now - timedelta(minutes=n + 1)} for n in range(EXTRA_RECORDINGS)]
        for start in range(0, len(rows), 1000):
            db.session.execute(insert(MeetRoom), rows[start:start + 1000])
        db.session.commit()
        paths = {
            "list": "/api/livekit/recordings?type=meet&limit=20",
            "download": f"/api/livekit/recordings/download?type=meet&id={meet.id}",
            "play": f"/api/livekit/recordings/play?type=meet&id={meet.id}",
            "clip_status": f"/api/livekit/recordings/clips/{clip.id}",
            "share_page": f"/s/{token}",
        }
        db.session.remove()
        db.engine.dispose()
    print(json.dumps(paths), flush=True)


def count_queries():
    """In-process: SQL statements of list pages (first, last, 10 and 100 rows); prints JSON."""
    from sqlalchemy import event

    from webapp import create_app
    from webapp.extensions import db

    app = create_app({"SECRET_KEY": os.environ["SECRET_KEY"], "WTF_CSRF_ENABLED": False},
                     instance_path=os.environ["RECLIP_BENCH_INSTANCE"])
    client = app.test_client()
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 302
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.append(1))

    def page(query):
        statements.clear()
        response = client.get(f"/api/livekit/recordings?type=meet&{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return len(statements), response.get_json()

    counts = {}
    counts["first_page_of_20"], body = page("limit=20")
    cursor = body.get("next_cursor")
    for _ in range(200):  # walk to the end to count the last page
        nxt = page(f"limit=100&cursor={cursor}")[1].get("next_cursor")
        if not nxt:
            break
        cursor = nxt
    counts["last_page_of_100"] = page(f"limit=100&cursor={cursor}")[0]
    counts["page_of_10"] = page("limit=10")[0]
    counts["page_of_100"] = page("limit=100")[0]
    print(json.dumps(counts), flush=True)


def app_env(database_url, instance, mp4):
    env = dict(os.environ)
    for name in NEUTRAL_ENV:
        env[name] = ""  # set (empty) so that a .env file cannot fill them in either
    env.update({"DATABASE_URL": database_url, "STORAGE_BACKEND": "local", "SECRET_KEY": SECRET_KEY,
                "RECLIP_BENCH_INSTANCE": str(instance), "RECLIP_BENCH_MP4": str(mp4), "PYTHONPATH": str(PROJECT),
                "INSTANCE_PATH": str(instance), "WEB_CONCURRENCY": str(WORKERS), "GUNICORN_ACCESS_LOG": "",
                "CLIP_RATE_LIMIT": "100000 per minute"})
    return env


class Server:
    """gunicorn with the project's gunicorn.conf.py (gevent), on a free port."""

    def __init__(self, cleanup, workdir, module, env, label):
        self.port = free_port()
        self.label = label
        self.errlog = Path(workdir) / f"gunicorn-{label}.log"
        env = {**env, "GUNICORN_BIND": f"{HOST}:{self.port}"}
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(PROJECT / "gunicorn.conf.py"), "--chdir", str(workdir),
               "--pythonpath", f"{workdir},{PROJECT}", "--log-level", "warning", "--error-logfile", str(self.errlog),
               f"{module}:app"]
        self.proc = start_process(cleanup, f"gunicorn {label}", cmd, env=env, cwd=str(workdir),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def workers(self):
        try:
            return [int(pid) for pid in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()]
        except OSError:
            return []

    def wait_ready(self, path, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn {self.label} exited: {self.errlog.read_text()[-800:]}")
            if len(self.workers()) >= WORKERS:
                try:
                    for _ in range(4):  # both workers answer
                        request(self.port, "GET", path, timeout=10)
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.label} did not come up in {timeout} s")

    def stop(self):
        stop_process(self.proc)


def measure(args, server, path, cookie, workdir, seconds, label):
    """Warm up, then wrk for `seconds`: rate, latency, errors and the workers' CPU per request."""
    run_wrk(server.port, path, cookie, 1, args.connections, workdir)
    workers = server.workers()
    cpu0 = sum(_proc_cpu_seconds(pid) for pid in workers)
    host0, own0, wall0 = _host_busy_seconds(), _own_cpu_seconds(), time.monotonic()
    result = run_wrk(server.port, path, cookie, seconds, args.connections, workdir)
    wall = time.monotonic() - wall0
    worker_cpu = sum(_proc_cpu_seconds(pid) for pid in workers) - cpu0
    other = max(0.0, (_host_busy_seconds() - host0 - worker_cpu - (_own_cpu_seconds() - own0)) / wall)
    figures = {"rps": round(result["rps"], 1), "p50_ms": round(result["p50_ms"], 2),
               "p99_ms": round(result["p99_ms"], 2), "requests": result["requests"], "errors": result["errors"],
               "cpu_ms_per_req": round(worker_cpu / max(1, result["requests"]) * 1000, 3),
               "other_load_cores": round(other, 2)}
    log(f"{label}: {figures}")
    return figures


def walk_list(port, cookie, pages=100):
    """One client walks the list by its cursors; the time of each page, in ms."""
    times, path = [], "/api/livekit/recordings?type=meet&limit=20"
    for _ in range(pages):
        started = time.perf_counter()
        status, _headers, body = request(port, "GET", path, headers={"Cookie": cookie})
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"list page answered {status}")
        cursor = json.loads(body).get("next_cursor")
        if not cursor:
            break
        path = f"/api/livekit/recordings?type=meet&limit=20&cursor={cursor}"
    times.sort()
    return {"pages": len(times), "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2)}


def bench_database(args, cleanup, workdir, label, database_url, mp4):
    instance = Path(workdir) / f"instance-{label}"
    instance.mkdir()
    env = app_env(database_url, instance, mp4)
    me = str(Path(__file__).resolve())
    setup = subprocess.run([sys.executable, me, "--setup"], env=env, cwd=str(workdir), capture_output=True,
                           text=True, timeout=300, start_new_session=True)
    if setup.returncode != 0:
        raise RuntimeError(f"setup on {label} failed: {setup.stderr[-1500:]}")
    paths = json.loads(setup.stdout.strip().splitlines()[-1])
    counted = subprocess.run([sys.executable, me, "--count-queries"], env=env, cwd=str(workdir),
                             capture_output=True, text=True, timeout=300, start_new_session=True)
    if counted.returncode != 0:
        raise RuntimeError(f"query count on {label} failed: {counted.stderr[-1500:]}")
    queries = json.loads(counted.stdout.strip().splitlines()[-1])
    server = Server(cleanup, workdir, "app_wsgi", env, label)
    try:
        server.wait_ready("/healthz")
        cookie, _ = login(server.port)
        seconds = max(1, int(args.duration / len(paths)))
        routes = {name: measure(args, server, path, None if name == "share_page" else cookie, workdir, seconds,
                                f"{label} {name}")
                  for name, path in paths.items()}
        walk = walk_list(server.port, cookie)
        log(f"{label} list walk: {walk}; statements per page: {queries}")
        return {"routes": routes, "list_10000": {**walk, "statements": queries,
                                                  "constant": len(set(queries.values())) == 1}}
    finally:
        server.stop()


def measure_bare(args, cleanup, workdir, mp4, label):
    bare = Server(cleanup, workdir, "bare_wsgi", app_env("sqlite://", workdir, mp4), "bare")
    try:
        bare.wait_ready("/r")
        return measure(args, bare, "/r", None, workdir, max(1, int(args.duration / 5)), label)
    finally:
        bare.stop()


def verdict(result, bare_cpu):
    routes = result["routes"]
    for figures in routes.values():
        figures["cpu_ratio_to_bare"] = round(figures["cpu_ms_per_req"] / bare_cpu, 2) if bare_cpu else None
    return {
        "zero_errors": all(r["errors"] == 0 for r in routes.values()),
        "p99_under_100_ms": all(r["p99_ms"] < TARGETS["p99_ms_max"] for r in routes.values()),
        "download_cpu_under_2_ms": routes["download"]["cpu_ms_per_req"] <= TARGETS["download_cpu_ms_max"],
        "list_page_p95_under_30_ms": result["list_10000"]["p95_ms"] < TARGETS["list_page_p95_ms_max"],
        "constant_query_count": result["list_10000"]["constant"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=50, help="concurrent keep-alive clients (50)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of load per database, all routes (30)")
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument("--budget", type=int, default=600, help="hard ceiling in seconds (600)")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count-queries", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        return setup_app()
    if args.count_queries:
        return count_queries()
    if not shutil.which("wrk"):
        sys.exit("bench/load.py needs wrk (Debian: apt-get install wrk)")

    cleanup = Cleanup()

    def on_signal(signum, _frame):
        if signum == signal.SIGALRM:
            raise BudgetExceeded(f"the benchmark passed its budget of {args.budget} s")
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    signal.alarm(args.budget)
    started, loadavg = time.monotonic(), os.getloadavg()[0]
    workdir = tempfile.mkdtemp(prefix="reclip-load-")
    cleanup.add("temp dir", lambda: shutil.rmtree(workdir, ignore_errors=True))
    try:
        (Path(workdir) / "app_wsgi.py").write_text(APP_WSGI)
        (Path(workdir) / "bare_wsgi.py").write_text(BARE_WSGI)
        from webapp.media import generate_test_media
        mp4 = Path(workdir) / "sample.mp4"
        generate_test_media(mp4, 5, size="320x240")
        bare_runs = [measure_bare(args, cleanup, workdir, mp4, "bare_redirect (before)")]
        results = {"sqlite": bench_database(args, cleanup, workdir, "sqlite", f"sqlite:///{workdir}/reclip.db", mp4)}
        if not args.skip_postgresql:
            results["postgresql"] = bench_database(args, cleanup, workdir, "postgresql", create_pg_database(cleanup),
                                                   mp4)
        bare_runs.append(measure_bare(args, cleanup, workdir, mp4, "bare_redirect (after)"))
        bare = {key: round(statistics.mean(run[key] for run in bare_runs), 3)
                for key in ("rps", "p50_ms", "p99_ms", "cpu_ms_per_req")}
        bare["runs"] = bare_runs
        figures = {"bench": "load", **results, "bare_redirect": bare,
                   "met": {label: verdict(result, bare["cpu_ms_per_req"]) for label, result in results.items()},
                   "targets": TARGETS,
                   "settings": {"gunicorn": f"gunicorn.conf.py: gevent, {WORKERS} workers",
                                "connections": args.connections, "seconds_per_database": args.duration,
                                "load_generator": "wrk", "cpus": os.cpu_count(), "loadavg_1m_at_start": round(loadavg, 2),
                                "recordings_listed": EXTRA_RECORDINGS + 1}}
        status = 0
    except (Exception, BudgetExceeded) as exc:
        log(f"failed: {exc!r}")
        figures, status = {"bench": "load", "error": f"{exc.__class__.__name__}: {exc}"}, 1
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
