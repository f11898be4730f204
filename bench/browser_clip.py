#!/usr/bin/env python3
"""Benchmark: a 60 s clip cut in headless Chromium with FFmpeg.wasm, next to native ffmpeg, from a
10-minute recording on loopback and from 10-minute, 3-hour and 6-hour ones through a slow link.

Run on demand (not by the test suite), from the project root:

    .venv/bin/python bench/browser_clip.py [--only 10min,3h,6h] [--budget 900]

It prints ONE JSON line on stdout; progress goes to stderr. Everything runs on 127.0.0.1 and
stops by itself: a watchdog ends the run after --budget seconds (900 by default), counted after
the sources exist. --only runs some columns (comma-separated or repeated; all by default): 10min
is the unthrottled section and the throttled 10-minute column, 3h and 6h their throttled columns.

The sources, made once into bench/.cache/ (git-ignored) and probed before they are reused:
- a 10-minute 1280x720 H.264/AAC recording (~1.6 Mbit/s, ~120 MB, moov first), made with ffmpeg
  (1-3 minutes the first time);
- 3-hour and 6-hour ones (~2.2 and ~4.3 GB): the 10-minute file stream-copied 18 and 36 times with
  ffmpeg's concat demuxer, without +faststart, so their moov (~9 and ~24 MB) is at the end (tens of
  seconds the first time). The moov's size comes from walking the top-level MP4 boxes.

The app runs under gunicorn with the project's gunicorn.conf.py (`-c gunicorn.conf.py`, as
scripts/serve.sh: gevent workers; bound to a free port, no access log) with local storage, a
temporary instance directory and a migrated SQLite database. The long recordings are hard-linked
into the storage and registered by key. No PUBLIC_BASE_URL is set, so the storage's signed URLs
(/storage/o/<token>, Range answered) and presigned uploads (/storage/upload) are built on the
request's Host: pages served through the throttle fetch and upload through it too.

The throttle (bench/throttle.py) is a threaded reverse proxy on 127.0.0.1 in front of gunicorn:
every request waits 20 ms before it is forwarded, and request and response bodies pass through ONE
token bucket of 50 Mbit/s shared by every connection and both directions, streamed in 16 KB
pieces; HTTP/1.1 keep-alive. It counts the response bytes of /storage/o/ requests by their
Sec-Fetch-Dest: `video` is the editor's <video> player (which reads what it shows), the rest is
the clip maker (the Range probe of static/js/source.js, the FFmpeg worker's Range XHRs, or ffmpeg).

1. The 10-minute section, unthrottled (the figures this benchmark had before), 270..330 s, three
   browser runs in one persistent context (a profile on disk, so the HTTP cache is a disk cache as
   in a person's browser) of Debian's Chromium with the test suite's flags, on gunicorn directly:
   cold (a fresh profile, logged in with the keyboard so that no hover over "Create clip" starts
   loading the core early; Generate as soon as the editor opens), cached (a new page, Generate once
   the core is loaded and the source opened; the step figures come from this run), cached at once
   (a new page, Generate as soon as the editor opens). Figures (seconds):
   - browser.load_core_s / load_core_cached_s / load_core_cached_at_once_s: editor opened ->
     trim.js's shared loadFFmpeg() settled (runs 1 / 2 / 3);
   - browser.core_from_http_cache: the Resource Timing entries of the core's .wasm, in the page and
     in FFmpeg's worker (which compiles it by streaming), all had transferSize 0 in run 2;
     wasm_transfer_cold_bytes: their transferSize summed in run 1;
   - browser.fetch_s: start of the source-URL request -> end of the first /storage/o/ fetch of the
     page (run 2). On the ranged path that is the 1-byte Range probe: the source's bytes are read
     by the worker during trim_s;
   - browser.create_s, trim_s, upload_s, complete_s: the editor's data-step durations (run 2);
     cold_steps_s: the same for run 1;
   - browser.generate_to_ready_s: Generate -> "Clip ready" once prepared (run 2);
   - browser.open_to_ready_cold_s / open_to_ready_cached_s: editor opened -> "Clip ready" (runs 1 / 3);
     total_s = open_to_ready_cold_s, what a first-time user waits at worst;
   - browser.work_s = fetch_s + trim_s + upload_s;
   - native: GET the source URL from the API and the whole file from the same signed storage URL
     into a local file, ffmpeg (webapp.media.run_ffmpeg) with the editor's exact stream-copy
     arguments, and the same presigned POST upload (+ create, complete);
     native.total_s = fetch_s + trim_s + upload_s;
   - ratio = browser.work_s / native.total_s; ratio_generate_to_ready = generate_to_ready_s / native.total_s.
   Targets: ratio <= 1.3, load_core_cached_s <= 0.3 (met.ratio, met.core_cached).

2. The throttled columns (throttled.<10min|3h|6h>), everything through the throttle: the page, the
   API, the storage reads and the upload. A warm-up first logs in and loads FFmpeg.wasm once
   (throttled.warm_up: load_core_cold_s, wasm_core_bytes), into the profile's HTTP and code caches.
   Each browser run then launches Chromium afresh on that profile (so its renderer processes are
   its own), logs in, and clips 60 s: 270..330 s of the 10-minute source, and the same 60 s of the
   middle copy of a long one (5670..5730 s of the 3-hour one, 11070..11130 s of the 6-hour one).
   Prepared first: the editor is opened, and Generate clicked once the core is loaded, the source
   opened (the clip maker's first storage request answered) and the player's metadata in (as when
   a person picks in and out points; at most 60 s). With the ranged path nothing big is fetched
   before Generate. Per column:
   - source: bytes, duration_s, mbit_s, moov_bytes, moov_at_end; clip: start_s, end_s;
   - browser.bytes_fetched / requests: the clip maker's /storage/o/ response bytes and requests
     from opening the editor to "Clip ready"; player_bytes / player_requests: the <video> player's;
     upload_bytes: the upload's request body; wasm_core_bytes: the core's .wasm that passed
     (0: from the HTTP cache); storage_log: every /storage/o/ request, as [Sec-Fetch-Dest, the
     referring page or worker script, status, Range, response bytes];
   - browser.load_core_cached_s: editor opened -> core loaded (the core from the HTTP cache);
     source_opened_s: editor opened -> the clip maker's first storage answer (the proxy's clock);
     player_metadata_s: editor opened -> the player's loadedmetadata; generate_at_s: editor opened
     -> Generate clicked; generate_to_ready_s: Generate -> "Clip ready"; open_to_ready_s: editor
     opened -> "Clip ready"; steps_s: the editor's data-step durations (load, fetch, create, trim,
     upload, complete); clip_bytes: the clip's size as the API reports it;
   - browser.memory (MB = 10^6 bytes): the summed VmRSS of the renderer processes (a page's
     dedicated workers, FFmpeg's among them, run inside its renderer) of this Chromium, told apart
     by its --user-data-dir: baseline_mb before the editor opens, sampled every 100 ms until "Clip
     ready" (peak_mb), prepared_mb just before Generate, after_mb at "Clip ready";
     growth_peak_mb = peak - baseline (the figure the target is on), growth_after_mb,
     growth_prepared_mb (the core and the player, before the cut). RSS counts shared pages in each
     process: the growth is what means something, not the totals;
   - native: ffmpeg (webapp.media.ffmpeg_binary via run_ffmpeg) with -ss START, the HTTP input
     options of webapp.media.http_input_options(), -i <the signed storage URL through the
     throttle>, -t 60 and the editor's stream-copy arguments, then the same create, presigned POST
     upload through the throttle and complete. cut_s, upload_s; total_s = cut_s + upload_s (the
     physical limit here); create_s and complete_s apart; bytes_fetched / requests: what ffmpeg read;
   - bytes_limit = 2 x clip bytes + moov bytes + 4 x 1 MiB (4 read-ahead chunks of range-source.js);
   - ratio_generate_to_ready = browser.generate_to_ready_s / native.total_s;
   - whole_file_estimate: the whole-file path's download alone, source bytes / 50 Mbit/s, an
     ESTIMATE, not measured; in_browser false (and a note) when the source is over the app's
     BROWSER_TRIM_MAX_BYTES (1.5 GB): on the whole-file path the editor would not cut it in the
     browser at all but send it to the server;
   - 10min only, browser_whole_file: the whole-file path MEASURED: the same browser run with the
     proxy dropping Range (and If-Range) from /storage/o/ requests, so the storage answers 200 with
     the whole file (a storage that sends no parts: the editor's fallback). Generate is clicked
     once the core is loaded and the source opened, without waiting for the player (the player and
     the clip maker then share one download through the HTTP cache, so the player's metadata come
     only at its end): generate_to_ready_s includes the rest of the download, and open_to_ready_s
     compares with the ranged run's.
   Targets (met.*, true/false, never asserted):
   - bytes_fetched_3h / bytes_fetched_6h: browser.bytes_fetched <= bytes_limit;
   - generate_to_ready_3h: the 3-hour column's ratio_generate_to_ready <= 1.3;
   - core_cached_3h / core_cached_6h: browser.load_core_cached_s < 0.3;
   - memory_6h: the 6-hour column's browser.memory.growth_peak_mb < 300.

settings: gunicorn's settings as gunicorn.conf.py gives them and the workers found running, the
throttle's, the CPU count and the 1-minute load average at the end.
"""
import argparse
import json
import os
import re
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import (Cleanup, HOST, RssSampler, child_pids, chromium_renderers, free_port, log, mp4_moov,
                    mp4_top_level_boxes, stop_process)
from throttle import ThrottleProxy

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))
CACHE = PROJECT / "bench" / ".cache"
SOURCE_SECONDS = 600
SOURCE = CACHE / f"recording-{SOURCE_SECONDS}s-1280x720.mp4"
CLIP_START, CLIP_END = 270.0, 330.0
CLIP_SECONDS = CLIP_END - CLIP_START
# The long meetings: the 10-minute source stream-copied this many times (moov at the end); the clip
# is the same 60 s of the middle copy (so the 3 columns cut the same pictures).
LONG = {"3h": 18, "6h": 36}
PARTS = ("10min", *LONG)
EMAIL = "bench-clipper@example.com"
PASSWORD = "bench password 123"
TITLE = "Bench all-hands"
SECRET_KEY = "reclip-bench-secret-key-not-for-production"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]  # as tests/conftest.py's browser fixture
GUNICORN_CONF = PROJECT / "gunicorn.conf.py"  # as scripts/serve.sh
THROTTLE_MBIT_S = 50
THROTTLE_LATENCY_S = 0.020
CHUNK_BYTES = 1024 * 1024  # static/js/range-source.js: CHUNK_BYTES, MAX_AHEAD_CHUNKS
AHEAD_CHUNKS = 4
TARGET_RATIO = 1.3
TARGET_CORE_CACHED_S = 0.3
TARGET_MEMORY_GROWTH_MB = 300
BITRATE_RANGE_MBIT = (1.2, 2.5)
PLAYER_METADATA_WAIT_S = 60
MB = 1e6

APP_WSGI = """\
import json
import os

from webapp import create_app

app = create_app(json.loads(os.environ["RECLIP_BENCH_CONFIG"]), instance_path=os.environ["RECLIP_BENCH_INSTANCE"])
"""

# One run in the page: open the editor, optionally wait until it is prepared, Generate, wait for
# "Clip ready"; every time is performance.now() in milliseconds.
RUN_JS = """
async ({ title, start, end, waitForPrepared, timeoutMs }) => {
  const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error('timed out in the page')), timeoutMs));
  const $page = document.querySelector('[data-module="recordings-page"]');
  const $row = [...document.querySelectorAll('.recording')]
    .find(($r) => $r.querySelector('.recording-title')?.textContent === title);
  if (!$row) throw new Error(`no recording titled ${title}`);
  const $open = [...$row.querySelectorAll('button')].find(($b) => $b.textContent === 'Create clip');
  const resources = (test) => performance.getEntriesByType('resource').filter(test);
  const opened = performance.now();
  $open.click();  // the editor's constructor starts loading the core and fetching the source
  const $editor = $row.querySelector('.clip-editor');
  const steps = [];
  let settle;
  const finished = new Promise((resolve) => { settle = resolve; });
  new MutationObserver(() => {
    const step = $editor.dataset.step;  // progress updates set it again to the same value
    if (steps.length && steps[steps.length - 1][0] === step) return;
    steps.push([step, performance.now()]);
    if (step === 'ready' || step === 'failed') settle(step);
  }).observe($editor, { attributes: true, attributeFilter: ['data-step'] });

  const trim = await import(new URL('/static/js/trim.js', location.href).href);  // the editor's own instance
  const coreReady = trim.loadFFmpeg({ base: $page.dataset.wasmBase, wasmSize: 0 }).then(() => performance.now());
  const isSource = (e) => e.initiatorType === 'fetch' && e.name.includes('/storage/o/') && e.startTime >= opened;
  const sourceDone = new Promise((resolve) => {
    const check = () => { const [entry] = resources(isSource); if (entry) { resolve(entry); return true; } return false; };
    if (check()) return;
    const observer = new PerformanceObserver(() => { if (check()) observer.disconnect(); });
    observer.observe({ type: 'resource' });
  });

  const generate = async () => {
    $editor.querySelector('input[name="start"]').value = String(start);
    $editor.querySelector('input[name="end"]').value = String(end);
    const generated = performance.now();
    [...$editor.querySelectorAll('button')].find(($b) => $b.textContent === 'Generate clip').click();
    return generated;
  };
  let generated;
  if (waitForPrepared) {
    await Promise.race([Promise.all([coreReady, sourceDone]), deadline]);
    await new Promise((resolve) => setTimeout(resolve, 100));  // the Blob is assembled right after the last byte
    generated = await generate();
  } else {
    generated = await generate();
  }
  const outcome = await Promise.race([finished, deadline]);
  const ready = performance.now();
  const core = await Promise.race([coreReady, deadline]);
  const source = await Promise.race([sourceDone, deadline]);
  const sourceUrl = resources((e) => e.initiatorType === 'fetch' && e.name.includes('format=json') && e.startTime >= opened)[0];
  return {
    outcome, message: $editor.querySelector('.clip-message')?.textContent ?? '',
    opened, generated, ready, core, steps,
    source: { requested: sourceUrl ? sourceUrl.startTime : source.startTime, start: source.startTime,
              end: source.responseEnd, bytes: source.decodedBodySize },
  };
}
"""

# The throttled runs go in steps, so that Python can wait for the proxy and sample memory between them.
# OPEN_JS opens the editor and instruments it (window.__bench); STATE_JS tells how far it got;
# GENERATE_JS sets Start and End, clicks Generate clip and waits for "Clip ready".
OPEN_JS = """
({ title }) => {
  const $page = document.querySelector('[data-module="recordings-page"]');
  const $row = [...document.querySelectorAll('.recording')]
    .find(($r) => $r.querySelector('.recording-title')?.textContent === title);
  if (!$row) throw new Error(`no recording titled ${title}`);
  const $open = [...$row.querySelectorAll('button')].find(($b) => $b.textContent === 'Create clip');
  const bench = { opened: performance.now(), steps: [], core: null, coreError: null, metadata: null };
  let settle;
  bench.finished = new Promise((resolve) => { settle = resolve; });
  window.__bench = bench;
  $open.click();  // the editor's constructor starts loading the core and opening the source
  const $editor = $row.querySelector('.clip-editor');
  bench.editor = $editor;
  new MutationObserver(() => {
    const step = $editor.dataset.step;  // progress updates set it again to the same value
    if (bench.steps.length && bench.steps[bench.steps.length - 1][0] === step) return;
    bench.steps.push([step, performance.now()]);
    if (step === 'ready' || step === 'failed') settle(step);
  }).observe($editor, { attributes: true, attributeFilter: ['data-step'] });
  const $media = $editor.querySelector('.clip-editor-player');
  const metadata = () => { bench.metadata ??= performance.now(); };
  if ($media.readyState >= 1) metadata(); else $media.addEventListener('loadedmetadata', metadata, { once: true });
  import(new URL('/static/js/trim.js', location.href).href)  // the editor's own instance
    .then((trim) => trim.loadFFmpeg({ base: $page.dataset.wasmBase, wasmSize: 0 }))
    .then(() => { bench.core = performance.now(); }, (error) => { bench.coreError = String(error); });
  return bench.opened;
}
"""

STATE_JS = """
() => ({ core: window.__bench.core, coreError: window.__bench.coreError, metadata: window.__bench.metadata,
         now: performance.now() })
"""

GENERATE_JS = """
async ({ start, end, timeoutMs }) => {
  const bench = window.__bench;
  const $editor = bench.editor;
  $editor.querySelector('input[name="start"]').value = String(start);
  $editor.querySelector('input[name="end"]').value = String(end);
  bench.generated = performance.now();
  [...$editor.querySelectorAll('button')].find(($b) => $b.textContent === 'Generate clip').click();
  const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error('timed out in the page')), timeoutMs));
  const outcome = await Promise.race([bench.finished, deadline]);
  return { outcome, message: $editor.querySelector('.clip-message')?.textContent ?? '',
           opened: bench.opened, core: bench.core, metadata: bench.metadata, generated: bench.generated,
           ready: performance.now(), steps: bench.steps };
}
"""

# Resource Timing of the core's .wasm, in the page (trim.js downloads it there the first time) or in
# FFmpeg's worker (which compiles it by streaming); transferSize 0 means the HTTP cache answered.
WASM_ENTRIES_JS = """
() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/core/ffmpeg-core.wasm'))
  .map((e) => ({ transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize }))
"""


def seconds(ms):
    return round(ms / 1000, 3)


def mb(n):
    return round(n / MB, 1)


# --- cleanup and the watchdog ----------------------------------------------------------------


_output = threading.Lock()  # whoever takes it prints the one JSON line


def emit(figures):
    if _output.acquire(blocking=False):
        print(json.dumps(figures), flush=True)
    else:
        time.sleep(60)  # the watchdog has printed and is ending the process


def start_watchdog(cleanup, budget, started):
    """After `budget` seconds: clean up, print the error line and leave (the browser dies with us)."""
    def expire():
        printing = _output.acquire(blocking=False)
        log(f"budget of {budget} s exceeded: stopping")
        cleanup.run()
        if printing:
            print(json.dumps({"bench": "browser_clip", "error": f"budget of {budget} s exceeded",
                              "elapsed_s": round(time.monotonic() - started, 1)}), flush=True)
        os._exit(2)

    timer = threading.Timer(budget, expire)
    timer.daemon = True
    timer.start()
    return timer


# --- the sources ---------------------------------------------------------------------------------

def ensure_source():
    """The cached 10-minute 720p recording (made once); its size, duration and bitrate."""
    from webapp.media import MediaError, generate_test_media, probe

    if SOURCE.exists():
        try:
            info = probe(str(SOURCE))
            if abs(info.duration_seconds - SOURCE_SECONDS) < 2 and info.has_video and info.width == 1280:
                return source_facts(info)
        except MediaError:
            pass
        log(f"{SOURCE} is not the expected recording: making it again")
    CACHE.mkdir(parents=True, exist_ok=True)
    log(f"making {SOURCE.name} with ffmpeg (once; 1-3 minutes)")
    tmp = SOURCE.with_name(SOURCE.stem + ".tmp.mp4")
    began = time.monotonic()
    generate_test_media(tmp, SOURCE_SECONDS)
    os.replace(tmp, SOURCE)
    log(f"made in {time.monotonic() - began:.0f} s")
    return source_facts(probe(str(SOURCE)))


def source_facts(info):
    size = SOURCE.stat().st_size
    mbit = size * 8 / info.duration_seconds / 1e6
    if not BITRATE_RANGE_MBIT[0] <= mbit <= BITRATE_RANGE_MBIT[1]:
        log(f"warning: the source's bitrate is {mbit:.2f} Mbit/s, outside the realistic {BITRATE_RANGE_MBIT}")
    return {"path": SOURCE, "size": size, "duration": info.duration_seconds, "mbit_s": mbit,
            "moov_bytes": mp4_moov(SOURCE)[1]}


def long_source_path(copies):
    return CACHE / f"recording-{SOURCE_SECONDS * copies}s-1280x720.mp4"


def long_source_facts(path, copies):
    """The long recording's facts, or None when the file is not the expected one (probed, moov last)."""
    from webapp.media import MediaError, probe

    try:
        info = probe(str(path))
        boxes = mp4_top_level_boxes(path)
    except (MediaError, ValueError, OSError):
        return None
    size = path.stat().st_size
    expected = SOURCE_SECONDS * copies
    if not (abs(info.duration_seconds - expected) < 2 and info.has_video and info.width == 1280
            and boxes[-1][0] == "moov" and size > 0.95 * copies * SOURCE.stat().st_size):
        return None
    return {"path": path, "size": size, "duration": info.duration_seconds,
            "mbit_s": size * 8 / info.duration_seconds / 1e6, "moov_bytes": boxes[-1][2], "moov_at_end": True}


def ensure_long_source(copies):
    """The 10-minute source stream-copied `copies` times into one MP4 (concat demuxer, -c copy, no
    +faststart: the moov is written at the end), made once into bench/.cache/."""
    from webapp.media import run_ffmpeg

    path = long_source_path(copies)
    if path.exists():
        facts = long_source_facts(path, copies)
        if facts:
            return facts
        log(f"{path} is not the expected recording: making it again")
    listing = path.with_name(path.stem + ".concat.txt")
    tmp = path.with_name(path.stem + ".tmp.mp4")
    listing.write_text(f"file '{SOURCE}'\n" * copies)
    log(f"making {path.name} ({copies} x {SOURCE.name}, stream copy; once)")
    began = time.monotonic()
    try:
        run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", "-f", "mp4", str(tmp)], timeout=900)
        os.replace(tmp, path)
    finally:
        listing.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    facts = long_source_facts(path, copies)
    if not facts:
        raise RuntimeError(f"{path} came out wrong (duration, picture size or moov position)")
    log(f"made in {time.monotonic() - began:.0f} s "
        f"({mb(facts['size'])} MB, moov {mb(facts['moov_bytes'])} MB at the end)")
    return facts


def clip_window(name):
    """The clip of a column: 270..330 s of the 10-minute source; of a long one, the same 60 s of its middle copy."""
    offset = (LONG[name] // 2) * SOURCE_SECONDS if name in LONG else 0
    return CLIP_START + offset, CLIP_END + offset


# --- the app -----------------------------------------------------------------------------------

def app_config(instance):
    # No PUBLIC_BASE_URL: the local storage's signed URLs are built on the request's Host, so the
    # pages served by gunicorn directly fetch from gunicorn, and those served through the throttle
    # (which passes the Host on) fetch through it: storage reads and uploads included.
    return {
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'reclip.db'}",
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(instance / "storage"),
        "PUBLIC_BASE_URL": "",
        "TRUSTED_HOSTS": [HOST],
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SIGNED_URL_TTL": 600,
        "CLIP_MAX_SECONDS": 600,
        "CLIP_RATE_LIMIT": "100 per minute",  # the bench makes up to 10 clips in a few minutes
    }


def setup_app(config, instance, long_sources):
    """Migrate the database, create the member and register the recordings; ({column: recording id},
    the app's BROWSER_TRIM_MAX_BYTES).

    The 10-minute recording is copied into storage (as a recording is); a long one is hard-linked
    there (same file system; a copy otherwise) and registered by its key, which saves copying gigabytes."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.service import create_user
    from webapp.extensions import db
    from webapp.recordings.service import add_recording

    app = create_app(config, instance_path=str(instance))
    ids = {}
    with app.app_context():
        upgrade()
        create_user(EMAIL, PASSWORD)
        ids["10min"] = add_recording(source_type="meet", product="tipjar", owner_email=EMAIL, title=TITLE,
                                     file=str(SOURCE)).id
        for name, facts in long_sources.items():
            key = f"recordings/meet/bench-{name}.mp4"
            target = Path(config["STORAGE_LOCAL_ROOT"]) / key
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(facts["path"], target)
            except OSError:
                log(f"cannot hard-link {facts['path'].name} into storage: copying it")
                shutil.copyfile(facts["path"], target)
            ids[name] = add_recording(source_type="meet", product="tipjar", owner_email=EMAIL,
                                      title=f"{TITLE} {name}", key=key).id
        db.session.remove()
        db.engine.dispose()
    return ids, app.config["BROWSER_TRIM_MAX_BYTES"]


def gunicorn_settings(env):
    """gunicorn.conf.py's values under the environment gunicorn gets."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        conf = runpy.run_path(str(GUNICORN_CONF))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {name: conf.get(name) for name in ("bind", "workers", "worker_class", "worker_connections", "keepalive")}


def start_gunicorn(cleanup, workdir, config, instance, port):
    """gunicorn -c gunicorn.conf.py, as scripts/serve.sh runs it (bound to `port`, no access log);
    the settings it runs with."""
    (workdir / "bench_wsgi.py").write_text(APP_WSGI)
    env = dict(os.environ, RECLIP_BENCH_CONFIG=json.dumps(config), RECLIP_BENCH_INSTANCE=str(instance),
               PYTHONPATH=f"{workdir}:{PROJECT}", GUNICORN_BIND=f"{HOST}:{port}", GUNICORN_ACCESS_LOG="")
    settings = gunicorn_settings(env)
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--log-level", "warning",
           "--error-logfile", str(workdir / "gunicorn.log"), "bench_wsgi:app"]
    proc = subprocess.Popen(cmd, cwd=str(workdir), env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cleanup.add("gunicorn", lambda: stop_process(proc))
    import requests
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {(workdir / 'gunicorn.log').read_text()[-800:]}")
        try:
            if requests.get(f"http://{HOST}:{port}/healthz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.2)
    else:
        raise RuntimeError("gunicorn did not come up in 60 s")
    time.sleep(1)  # the other workers boot beside the first
    settings["workers_running"] = len(child_pids(proc.pid))
    return settings


class ApiClient:
    """A logged-in member outside the browser (the native path), on any of the app's addresses
    (the session cookie is the host's, whatever the port)."""

    def __init__(self, base_url):
        import requests

        self.session = session = requests.Session()
        page = session.get(f"{base_url}/login", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = session.post(f"{base_url}/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                                allow_redirects=False, timeout=30)
        if response.status_code != 302:
            raise RuntimeError(f"native login answered {response.status_code}")
        html = session.get(f"{base_url}/recordings", timeout=30).text
        session.headers["X-CSRFToken"] = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)

    def source(self, base_url, recording_id):
        """{url, size_bytes, expires_in, container}: what the editor asks for."""
        response = self.session.get(f"{base_url}/api/livekit/recordings/play",
                                    params={"type": "meet", "id": recording_id, "format": "json"}, timeout=30)
        response.raise_for_status()
        return response.json()

    def newest_clip(self, base_url, recording_id):
        response = self.session.get(f"{base_url}/api/livekit/recordings/clips",
                                    params={"type": "meet", "id": recording_id}, timeout=30)
        response.raise_for_status()
        clips = response.json()["clips"]
        return clips[0] if clips else None

    def publish(self, base_url, recording_id, start, end, clip_path):
        """Create the clip, upload the file with the presigned POST and complete it, as the editor
        does; the seconds each step took."""
        began = time.perf_counter()
        created = self.session.post(f"{base_url}/api/livekit/recordings/clips", timeout=30, json={
            "type": "meet", "id": recording_id, "start_seconds": start, "end_seconds": end, "mode": "browser"})
        if created.status_code != 201:
            raise RuntimeError(f"creating the native clip answered {created.status_code}: {created.text[:300]}")
        body = created.json()
        create_done = time.perf_counter()
        with clip_path.open("rb") as fh:
            uploaded = self.session.post(body["upload"]["url"], data=body["upload"]["fields"],
                                         files={"file": ("clip.mp4", fh, "video/mp4")}, timeout=300)
        if not 200 <= uploaded.status_code < 300:
            raise RuntimeError(f"the native upload answered {uploaded.status_code}: {uploaded.text[:300]}")
        upload_done = time.perf_counter()
        link = body["clip"]["links"]["complete"]
        complete = self.session.post(link if link.startswith("http") else base_url + link, json={}, timeout=120)
        if complete.status_code != 200:
            raise RuntimeError(f"completing the native clip answered {complete.status_code}: {complete.text[:300]}")
        completed = time.perf_counter()
        return {"create_s": round(create_done - began, 3), "upload_s": round(upload_done - create_done, 3),
                "complete_s": round(completed - upload_done, 3), "clip": complete.json()["clip"]}


# --- the 10-minute section: the browser on gunicorn directly ---------------------------------------

def launch(playwright, profile):
    # A profile on disk, like a person's browser: an off-the-record context (browser.new_context())
    # keeps its HTTP cache in memory, where no entry may pass 1/8 of 50 MB, so the 10 MB
    # ffmpeg-core.wasm.gz would never be cached there.
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def log_in(page, base_url):
    """Log in with the keyboard: a click would leave the mouse where the recordings page then shows a
    "Create clip" button, whose hover starts loading FFmpeg before the run does."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{base_url}/recordings")


def wasm_entries(page):
    """Resource Timing entries of the core's .wasm in the page and in FFmpeg's worker."""
    entries = page.evaluate(WASM_ENTRIES_JS)
    for worker in page.workers:
        if "ffmpeg-worker.js" in worker.url:
            entries += worker.evaluate(WASM_ENTRIES_JS)
    return entries


def watch_console(page, errors):
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))


def browser_runs(base_url, profile, timeout_s):
    """The three runs in one Chromium context; the raw page figures of each."""
    from playwright.sync_api import sync_playwright

    runs = {}
    with sync_playwright() as playwright:
        context = launch(playwright, profile)
        try:
            errors = []
            for name, wait in (("cold", False), ("cached", True), ("cached_at_once", False)):
                page = context.new_page()
                watch_console(page, errors)
                if name == "cold":
                    log_in(page, base_url)
                else:
                    page.goto(f"{base_url}/recordings")
                page.locator(".recording").first.wait_for()
                log(f"browser run {name}: clipping {CLIP_START:.0f}..{CLIP_END:.0f} s")
                run = page.evaluate(RUN_JS, {"title": TITLE, "start": CLIP_START, "end": CLIP_END,
                                             "waitForPrepared": wait, "timeoutMs": timeout_s * 1000})
                if run["outcome"] != "ready":
                    raise RuntimeError(f"browser run {name} failed: {run['message']}")
                run["wasm_entries"] = wasm_entries(page)
                runs[name] = run
                log(f"  open->ready {seconds(run['ready'] - run['opened'])} s, "
                    f"core {seconds(run['core'] - run['opened'])} s")
                page.close()
            runs["console_errors"] = errors
        finally:
            context.close()
    return runs


def step_times(run):
    """{step: seconds} from the editor's data-step transitions."""
    marks = run["steps"]
    return {step: round((marks[i + 1][1] - at) / 1000, 3) for i, (step, at) in enumerate(marks[:-1])}


def summarize_browser(runs):
    cold, cached, at_once = runs["cold"], runs["cached"], runs["cached_at_once"]
    steps = step_times(cached)
    figures = {
        "load_core_s": seconds(cold["core"] - cold["opened"]),
        "load_core_cached_s": seconds(cached["core"] - cached["opened"]),
        "load_core_cached_at_once_s": seconds(at_once["core"] - at_once["opened"]),
        "core_from_http_cache": (bool(cached["wasm_entries"])
                                 and all(e["transfer"] == 0 for e in cached["wasm_entries"])),
        "fetch_s": seconds(cached["source"]["end"] - cached["source"]["requested"]),
        "create_s": steps["create"],
        "trim_s": steps["trim"],
        "upload_s": steps["upload"],
        "complete_s": steps["complete"],
        "generate_to_ready_s": seconds(cached["ready"] - cached["generated"]),
        "open_to_ready_cold_s": seconds(cold["ready"] - cold["opened"]),
        "open_to_ready_cached_s": seconds(at_once["ready"] - at_once["opened"]),
        "cold_steps_s": step_times(cold),
        "wasm_transfer_cold_bytes": sum(e["transfer"] for e in cold["wasm_entries"]),
        "console_errors": len(runs["console_errors"]),
    }
    figures["work_s"] = round(figures["fetch_s"] + figures["trim_s"] + figures["upload_s"], 3)
    figures["total_s"] = figures["open_to_ready_cold_s"]
    return figures


# --- the native paths ------------------------------------------------------------------------------

def native_cut_args(source, start, end, clip_path, input_options=()):
    """The editor's exact stream-copy arguments (static/js/trim.js), for webapp.media.run_ffmpeg."""
    return ["-ss", f"{start:.3f}", *input_options, "-i", str(source), "-t", f"{end - start:.3f}",
            "-c", "copy", "-avoid_negative_ts", "make_zero", "-movflags", "+faststart", str(clip_path)]


def native_run(client, base_url, recording_id, workdir):
    """The 10-minute section's native path: fetch the whole source, cut it with the ffmpeg binary
    and upload, through the same API and storage URLs."""
    from webapp.media import run_ffmpeg

    local_copy, clip_path = workdir / "native-source.mp4", workdir / "native-clip.mp4"
    began = time.perf_counter()
    source = client.source(base_url, recording_id)
    with client.session.get(source["url"], stream=True, timeout=60) as response, local_copy.open("wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(1 << 20):
            out.write(chunk)
    fetched = time.perf_counter()
    run_ffmpeg(native_cut_args(local_copy, CLIP_START, CLIP_END, clip_path), timeout=120)
    trimmed = time.perf_counter()
    published = client.publish(base_url, recording_id, CLIP_START, CLIP_END, clip_path)
    figures = {
        "fetch_s": round(fetched - began, 3),
        "trim_s": round(trimmed - fetched, 3),
        "create_s": published["create_s"],
        "upload_s": published["upload_s"],
        "complete_s": published["complete_s"],
        "clip_mb": round(clip_path.stat().st_size / 1e6, 2),
    }
    figures["total_s"] = round(figures["fetch_s"] + figures["trim_s"] + figures["upload_s"], 3)
    local_copy.unlink()
    return figures


def native_from_url(client, proxy, recording_id, start, end, clip_path, timeout_s):
    """The long columns' native path, all through the throttle: ffmpeg cuts from the signed storage
    URL (webapp.media.http_input_options before -i: bounded ranges on one connection), then the
    same create, presigned POST upload and complete as the editor."""
    from webapp.media import http_input_options, run_ffmpeg

    source = client.source(proxy.url, recording_id)
    proxy.reset()
    began = time.perf_counter()
    run_ffmpeg(native_cut_args(source["url"], start, end, clip_path, http_input_options()), timeout=timeout_s)
    cut = time.perf_counter() - began
    counts, _ = proxy.snapshot()
    published = client.publish(proxy.url, recording_id, start, end, clip_path)
    fetched = counts.get("storage_other", {})
    return {
        "cut_s": round(cut, 3),
        "create_s": published["create_s"],
        "upload_s": published["upload_s"],
        "complete_s": published["complete_s"],
        "total_s": round(cut + published["upload_s"], 3),
        "bytes_fetched": fetched.get("down", 0),
        "requests": fetched.get("requests", 0),
        "clip_bytes": clip_path.stat().st_size,
        "http_input_options": " ".join(http_input_options()),
    }


# --- the throttled columns: the browser through the throttle ---------------------------------------

def warm_up(playwright, profile, proxy, timeout_s):
    """Log in and load FFmpeg.wasm once through the throttle, into the profile's HTTP and code caches."""
    context = launch(playwright, profile)
    try:
        page = context.new_page()
        log_in(page, proxy.url)
        page.locator(".recording").first.wait_for()
        proxy.reset()
        took = page.evaluate("""async (timeoutMs) => {
          const $page = document.querySelector('[data-module="recordings-page"]');
          const began = performance.now();
          const trim = await import(new URL('/static/js/trim.js', location.href).href);
          const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), timeoutMs));
          await Promise.race([trim.loadFFmpeg({ base: $page.dataset.wasmBase, wasmSize: 0 }), deadline]);
          return performance.now() - began;
        }""", timeout_s * 1000)
        counts, _ = proxy.snapshot()
        return {"load_core_cold_s": seconds(took), "wasm_core_bytes": counts.get("wasm_core", {}).get("down", 0)}
    finally:
        context.close()


def throttled_browser_run(playwright, profile, proxy, title, start, end, timeout_s, *, ignore_range=False):
    """One clip in a freshly launched Chromium on the warm profile, through the throttle: log in,
    open the editor, wait until it is prepared (core loaded, source opened, the player's metadata
    in), Generate, "Clip ready". Memory is sampled from before the editor opens to the end.

    ignore_range: the storage answers 200 with everything (the whole-file path). Generate is then
    clicked once the core is loaded and the source opened, without waiting for the player: the
    player and the clip maker share one download through the HTTP cache, so the player's metadata
    come only once the whole file is in; Generate -> ready then includes (nearly) all of the download."""
    deadline = time.monotonic() + timeout_s
    context = launch(playwright, profile)
    proxy.ignore_range = ignore_range
    sampler = None
    try:
        errors = []
        page = context.new_page()
        watch_console(page, errors)
        log_in(page, proxy.url)
        page.locator(".recording").first.wait_for()
        page.wait_for_timeout(500)  # the list has settled
        renderers = lambda: chromium_renderers(profile)
        sampler = RssSampler(renderers)
        baseline, renderer_count = sampler.measure(), len(renderers())
        proxy.reset()
        sampler.start()
        open_called = time.monotonic()
        page.evaluate(OPEN_JS, {"title": title})
        metadata_deadline = time.monotonic() + PLAYER_METADATA_WAIT_S
        while True:  # prepared: as when a person has picked in and out points in the player
            state = page.evaluate(STATE_JS)
            if state["coreError"]:
                raise RuntimeError(f"loading FFmpeg failed: {state['coreError']}")
            _, requests = proxy.snapshot()
            opened = [r for r in requests if r["category"] == "storage_other" and r["ended"]]
            player_done = ignore_range or state["metadata"] or time.monotonic() > metadata_deadline
            if state["core"] and opened and player_done:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the editor was not prepared in {timeout_s:.0f} s: {state}")
            time.sleep(0.05)
        time.sleep(0.1)
        prepared = sampler.measure()
        run = page.evaluate(GENERATE_JS, {"start": start, "end": end,
                                          "timeoutMs": max(1.0, deadline - time.monotonic()) * 1000})
        counts, requests = proxy.snapshot()
        after = sampler.measure()
        peak = max(sampler.stop(), after)
        if run["outcome"] != "ready":
            raise RuntimeError(f"the browser run failed: {run['message']}")
        page.close()
    finally:
        if sampler:
            sampler.stop()
        proxy.ignore_range = False
        context.close()
    maker, player = counts.get("storage_other", {}), counts.get("storage_player", {})
    first_opened = min(r["ended"] for r in requests if r["category"] == "storage_other" and r["ended"])
    return {
        "bytes_fetched": maker.get("down", 0),
        "requests": maker.get("requests", 0),
        "player_bytes": player.get("down", 0),
        "player_requests": player.get("requests", 0),
        "upload_bytes": counts.get("upload", {}).get("up", 0),
        "wasm_core_bytes": counts.get("wasm_core", {}).get("down", 0),
        "load_core_cached_s": seconds(run["core"] - run["opened"]),
        "source_opened_s": round(first_opened - open_called, 3),
        "player_metadata_s": seconds(run["metadata"] - run["opened"]) if run["metadata"] else None,
        "generate_at_s": seconds(run["generated"] - run["opened"]),
        "generate_to_ready_s": seconds(run["ready"] - run["generated"]),
        "open_to_ready_s": seconds(run["ready"] - run["opened"]),
        "steps_s": step_times(run),
        "storage_log": [[r["dest"], r["from"], r["status"], r["range"], r["down"]] for r in requests],
        "memory": {"baseline_mb": mb(baseline), "prepared_mb": mb(prepared), "peak_mb": mb(peak),
                   "after_mb": mb(after), "growth_peak_mb": mb(peak - baseline),
                   "growth_after_mb": mb(after - baseline), "growth_prepared_mb": mb(prepared - baseline),
                   "renderers": renderer_count, "samples": sampler.samples},
        "console_errors": len(errors),
    }


def throttled_column(name, playwright, profile, proxy, client, recording_id, facts, workdir, remaining,
                     browser_max_bytes):
    """A column of the throttled section: the browser (read by parts), native ffmpeg from the same
    URL, and the whole-file path (measured on the 10-minute source, an estimate on the long ones)."""
    start, end = clip_window(name)
    title = TITLE if name == "10min" else f"{TITLE} {name}"
    log(f"[{name}] browser through the throttle: clipping {start:.0f}..{end:.0f} s of {mb(facts['size'])} MB")
    browser = throttled_browser_run(playwright, profile, proxy, title, start, end, remaining())
    clip = client.newest_clip(proxy.url, recording_id)
    browser["clip_bytes"] = clip["size_bytes"] if clip and clip["mode"] == "browser" else None
    log(f"[{name}]   Generate->ready {browser['generate_to_ready_s']} s, fetched {mb(browser['bytes_fetched'])} MB "
        f"in {browser['requests']} requests, memory +{browser['memory']['growth_peak_mb']} MB (peak)")
    log(f"[{name}] native ffmpeg from the throttled URL")
    native = native_from_url(client, proxy, recording_id, start, end, workdir / f"native-{name}.mp4", remaining())
    log(f"[{name}]   cut {native['cut_s']} s + upload {native['upload_s']} s, fetched {mb(native['bytes_fetched'])} MB")
    clip_bytes = browser["clip_bytes"] or native["clip_bytes"]
    bytes_limit = 2 * clip_bytes + facts["moov_bytes"] + AHEAD_CHUNKS * CHUNK_BYTES
    whole_estimate = facts["size"] / proxy.rate
    column = {
        "source": {"bytes": facts["size"], "duration_s": round(facts["duration"], 1),
                   "mbit_s": round(facts["mbit_s"], 2), "moov_bytes": facts["moov_bytes"],
                   "moov_at_end": name in LONG},
        "clip": {"start_s": start, "end_s": end},
        "browser": browser,
        "native": native,
        "bytes_limit": bytes_limit,
        "ratio_generate_to_ready": round(browser["generate_to_ready_s"] / native["total_s"], 3),
        "whole_file_estimate": {
            "fetch_s": round(whole_estimate, 1),
            "what": "an estimate, not measured: source bytes / 50 Mbit/s, the whole-file path's download alone",
            "in_browser": facts["size"] <= browser_max_bytes,
        },
    }
    if facts["size"] > browser_max_bytes:
        column["whole_file_estimate"]["note"] = (
            f"over BROWSER_TRIM_MAX_BYTES ({browser_max_bytes} bytes): on the whole-file path the "
            "editor would not cut this in the browser at all but send it to the server")
    if name == "10min":
        log("[10min] the whole-file path through the throttle (the proxy drops Range: the storage answers 200)")
        whole = throttled_browser_run(playwright, profile, proxy, title, start, end, remaining(), ignore_range=True)
        log(f"[10min]   Generate->ready {whole['generate_to_ready_s']} s, open->ready {whole['open_to_ready_s']} s, "
            f"fetched {mb(whole['bytes_fetched'])} MB")
        column["browser_whole_file"] = whole
    return column


def long_targets(columns):
    """targets_met entries of the throttled columns."""
    met = {}
    for name, column in columns.items():
        browser = column["browser"]
        if name in LONG:
            met[f"bytes_fetched_{name}"] = browser["bytes_fetched"] <= column["bytes_limit"]
            met[f"core_cached_{name}"] = browser["load_core_cached_s"] < TARGET_CORE_CACHED_S
    if "3h" in columns:
        met["generate_to_ready_3h"] = columns["3h"]["ratio_generate_to_ready"] <= TARGET_RATIO
    if "6h" in columns:
        met["memory_6h"] = columns["6h"]["browser"]["memory"]["growth_peak_mb"] < TARGET_MEMORY_GROWTH_MB
    return met


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def parse_parts(values):
    parts = []
    for value in values or [",".join(PARTS)]:
        for part in value.split(","):
            part = part.strip()
            if part not in PARTS:
                raise SystemExit(f"--only takes {', '.join(PARTS)} (comma-separated or repeated), not {part!r}")
            if part not in parts:
                parts.append(part)
    return [part for part in PARTS if part in parts]


# --- main --------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=900, help="seconds before the watchdog stops the run")
    parser.add_argument("--only", action="append", metavar="PARTS",
                        help=f"run only these columns: {', '.join(PARTS)} (comma-separated or repeated)")
    args = parser.parse_args()
    parts = parse_parts(args.only)
    started = time.monotonic()
    cleanup = Cleanup()
    signal.signal(signal.SIGTERM, _interrupted)
    figures, status = {"bench": "browser_clip", "parts": parts}, 1
    try:
        if not os.path.exists(CHROMIUM):
            raise RuntimeError(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
        source = ensure_source()
        long_sources = {name: ensure_long_source(LONG[name]) for name in parts if name in LONG}
        sources_s = time.monotonic() - started
        watchdog = start_watchdog(cleanup, args.budget, time.monotonic())
        cleanup.add("watchdog", watchdog.cancel)
        deadline = time.monotonic() + args.budget
        remaining = lambda: max(30.0, deadline - time.monotonic() - 30)
        workdir = Path(tempfile.mkdtemp(prefix="reclip-bench-clip-"))
        cleanup.add("workdir", lambda: shutil.rmtree(workdir, ignore_errors=True))
        instance = workdir / "instance"
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        config = app_config(instance)
        log(f"setting up the app in {workdir}")
        recording_ids, browser_max_bytes = setup_app(config, instance, long_sources)
        gunicorn = start_gunicorn(cleanup, workdir, config, instance, port)
        log(f"gunicorn on {base_url} (-c gunicorn.conf.py: {gunicorn['workers_running']} workers, "
            f"{gunicorn['worker_class']})")
        proxy = ThrottleProxy(port, mbit_s=THROTTLE_MBIT_S, latency_s=THROTTLE_LATENCY_S).start()
        cleanup.add("throttle", proxy.stop)
        log(f"throttle on {proxy.url}: {THROTTLE_MBIT_S} Mbit/s, {THROTTLE_LATENCY_S * 1000:.0f} ms per request")
        client = ApiClient(base_url)
        figures["settings"] = {
            "gunicorn": (f"-c gunicorn.conf.py: {gunicorn['workers']} workers, {gunicorn['worker_class']}, "
                         f"{gunicorn['worker_connections']} connections each, keepalive {gunicorn['keepalive']} s"),
            "gunicorn_workers_running": gunicorn["workers_running"],
            "storage": "local", "cpus": os.cpu_count(),
            "throttle": {"mbit_s": THROTTLE_MBIT_S, "latency_ms": THROTTLE_LATENCY_S * 1000,
                         "what": "one token bucket for every connection and both directions; the delay before "
                                 "each request is forwarded"},
            "sources_ready_s": round(sources_s, 1),
        }
        targets = {"ratio_max": TARGET_RATIO, "core_cached_max_s": TARGET_CORE_CACHED_S}
        met = {}

        if "10min" in parts:
            log("[10min] unthrottled: browser on gunicorn directly")
            runs = browser_runs(base_url, workdir / "chromium-profile", timeout_s=min(300, remaining()))
            browser = summarize_browser(runs)
            log("[10min] native path")
            native = native_run(client, base_url, recording_ids["10min"], workdir)
            ratio = round(browser["work_s"] / native["total_s"], 3)
            figures.update({
                "source_mb": round(source["size"] / 1e6, 1),
                "source_mbit_s": round(source["mbit_s"], 2),
                "clip": {"start_s": CLIP_START, "end_s": CLIP_END},
                "browser": browser,
                "native": native,
                "ratio": ratio,
                "ratio_generate_to_ready": round(browser["generate_to_ready_s"] / native["total_s"], 3),
            })
            met.update({"ratio": ratio <= TARGET_RATIO,
                        "core_cached": browser["load_core_cached_s"] <= TARGET_CORE_CACHED_S})

        from playwright.sync_api import sync_playwright
        profile = workdir / "chromium-profile-throttled"
        columns = {}
        with sync_playwright() as playwright:
            log("warming up: loading FFmpeg.wasm once through the throttle")
            throttled = {"warm_up": warm_up(playwright, profile, proxy, min(300, remaining()))}
            for name in parts:
                facts = source if name == "10min" else long_sources[name]
                columns[name] = throttled_column(name, playwright, profile, proxy, client, recording_ids[name],
                                                 facts, workdir, remaining, browser_max_bytes)
        throttled.update(columns)
        figures["throttled"] = throttled
        targets.update({
            "bytes_fetched_max": "2 x clip bytes + moov bytes + 4 x 1 MiB (each column's bytes_limit)",
            "generate_to_ready_3h_max_ratio": TARGET_RATIO,
            "core_cached_throttled_below_s": TARGET_CORE_CACHED_S,
            "memory_growth_6h_below_mb": TARGET_MEMORY_GROWTH_MB,
        })
        met.update(long_targets(columns))
        figures["targets"], figures["met"] = targets, met
        figures["settings"]["load_avg_1m"] = round(os.getloadavg()[0], 2)
        status = 0
    except (Exception, KeyboardInterrupt) as exc:
        log(f"failed: {exc!r}")
        figures["error"] = f"{exc.__class__.__name__}: {exc}"
    finally:
        cleanup.run()
    figures["elapsed_s"] = round(time.monotonic() - started, 1)
    emit(figures)
    return status


if __name__ == "__main__":
    sys.exit(main())
