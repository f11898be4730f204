#!/usr/bin/env python3
"""Benchmark: a 60 s clip cut in headless Chromium with FFmpeg.wasm, next to native ffmpeg.

Run on demand (not by the test suite), from the project root:

    .venv/bin/python bench/browser_clip.py

It prints ONE JSON line on stdout; progress goes to stderr. Everything runs on 127.0.0.1 and
stops by itself: a watchdog ends the run after --budget seconds (290 by default), counted
after the source exists. The source, a 10-minute 1280x720 H.264/AAC recording (~1.6 Mbit/s,
~120 MB), is made once with ffmpeg into bench/.cache/ (git-ignored; 1-3 minutes the first time).

The app runs under gunicorn like scripts/serve.sh (2 workers, gthread, 4 threads) with local
storage, a temporary instance directory and a migrated SQLite database. Three browser runs in
one persistent context (a profile on disk, so the HTTP cache is a disk cache as in a person's
browser) of Debian's Chromium with the test suite's flags, each clipping 270..330 s:

1. cold: a fresh profile, Generate clicked as soon as the editor opens (nothing cached);
2. cached: a new page, Generate clicked once the editor has loaded the core and fetched the
   source (ClipEditor.prepare() starts both when the editor opens, while the person picks
   in and out points); this run gives the step figures below;
3. cached at once: a new page, Generate clicked as soon as the editor opens.

The page is instrumented, not the app: a MutationObserver timestamps the editor's data-step
transitions with performance.now(), the core's readiness is the settling of trim.js's shared
loadFFmpeg() promise, and the source fetch comes from Resource Timing.

Figures (seconds):
- browser.load_core_s / load_core_cached_s: editor opened -> FFmpeg.wasm loaded (runs 1 / 2);
- browser.fetch_s: start of the source-URL request -> last byte of the source (run 2);
- browser.create_s, trim_s, upload_s, complete_s: the editor's steps (run 2);
- browser.generate_to_ready_s: Generate -> "Clip ready" once prepared (run 2);
- browser.open_to_ready_cold_s / open_to_ready_cached_s: editor opened -> "Clip ready" (runs 1 / 3);
- browser.total_s = open_to_ready_cold_s, what a first-time user waits at worst;
- native: the same work without a browser in the same run: GET the source URL from the API and
  the same signed storage URL into a local file, ffmpeg (webapp.media.ffmpeg_binary) with the
  editor's exact stream-copy arguments, and the same presigned POST upload (+ create, complete);
  native.total_s = fetch_s + trim_s + upload_s;
- ratio = browser (fetch_s + trim_s + upload_s) / native.total_s: the same work, in the browser
  vs natively. Targets: ratio <= 1.3, load_core_cached_s <= 0.3.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import Cleanup, HOST, free_port, log, stop_process

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))
CACHE = PROJECT / "bench" / ".cache"
SOURCE_SECONDS = 600
SOURCE = CACHE / f"recording-{SOURCE_SECONDS}s-1280x720.mp4"
CLIP_START, CLIP_END = 270.0, 330.0
EMAIL = "bench-clipper@example.com"
PASSWORD = "bench password 123"
TITLE = "Bench all-hands"
SECRET_KEY = "reclip-bench-secret-key-not-for-production"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]  # as tests/conftest.py's browser fixture
WORKERS, THREADS = 2, 4  # as scripts/serve.sh
TARGET_RATIO = 1.3
TARGET_CORE_CACHED_S = 0.3
BITRATE_RANGE_MBIT = (1.2, 2.5)

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
  const wasm = resources((e) => e.name.endsWith('/core/ffmpeg-core.wasm') && e.startTime >= opened)[0];
  return {
    outcome, message: $editor.querySelector('.clip-message')?.textContent ?? '',
    opened, generated, ready, core, steps,
    source: { requested: sourceUrl ? sourceUrl.startTime : source.startTime, start: source.startTime,
              end: source.responseEnd, bytes: source.decodedBodySize },
    wasm: wasm ? { start: wasm.startTime, end: wasm.responseEnd, transfer: wasm.transferSize,
                   encoded: wasm.encodedBodySize, decoded: wasm.decodedBodySize } : null,
  };
}
"""


def seconds(ms):
    return round(ms / 1000, 3)


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


# --- the source ----------------------------------------------------------------------------------

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
    return {"size": size, "duration": info.duration_seconds, "mbit_s": mbit}


# --- the app -----------------------------------------------------------------------------------

def app_config(instance, base_url):
    return {
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'reclip.db'}",
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(instance / "storage"),
        "PUBLIC_BASE_URL": base_url,
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SIGNED_URL_TTL": 600,
        "CLIP_MAX_SECONDS": 600,
    }


def setup_app(config, instance):
    """Migrate the database, create the member and register the recording; its id."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.auth.service import create_user
    from webapp.extensions import db
    from webapp.recordings.service import add_recording

    app = create_app(config, instance_path=str(instance))
    with app.app_context():
        upgrade()
        create_user(EMAIL, PASSWORD)
        recording = add_recording(source_type="meet", product="tipjar", owner_email=EMAIL, title=TITLE,
                                  file=str(SOURCE))
        recording_id = recording.id
        db.session.remove()
        db.engine.dispose()
    return recording_id


def start_gunicorn(cleanup, workdir, config, instance, port):
    (workdir / "bench_wsgi.py").write_text(APP_WSGI)
    env = dict(os.environ, RECLIP_BENCH_CONFIG=json.dumps(config), RECLIP_BENCH_INSTANCE=str(instance),
               PYTHONPATH=f"{workdir}:{PROJECT}")
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", str(WORKERS),
           "--threads", str(THREADS), "--worker-class", "gthread", "--timeout", "120",
           "--log-level", "warning", "--error-logfile", str(workdir / "gunicorn.log"), "bench_wsgi:app"]
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
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up in 60 s")


# --- the browser -------------------------------------------------------------------------------

def browser_runs(base_url, profile, timeout_s):
    """The three runs in one Chromium context; the raw page figures of each."""
    from playwright.sync_api import sync_playwright

    runs = {}
    with sync_playwright() as playwright:
        # A profile on disk, like a person's browser: an off-the-record context (browser.new_context())
        # keeps its HTTP cache in memory, where no entry may pass 1/8 of 50 MB, so the 10 MB
        # ffmpeg-core.wasm.gz would never be cached there.
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            errors = []
            for name, wait in (("cold", False), ("cached", True), ("cached_at_once", False)):
                page = context.new_page()
                page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                if name == "cold":
                    page.goto(f"{base_url}/login")
                    page.get_by_label("Email").fill(EMAIL)
                    page.get_by_label("Password").fill(PASSWORD)
                    page.get_by_role("button", name="Log in").click()
                    page.wait_for_url(f"{base_url}/recordings")
                else:
                    page.goto(f"{base_url}/recordings")
                page.locator(".recording").first.wait_for()
                log(f"browser run {name}: clipping {CLIP_START:.0f}..{CLIP_END:.0f} s")
                run = page.evaluate(RUN_JS, {"title": TITLE, "start": CLIP_START, "end": CLIP_END,
                                             "waitForPrepared": wait, "timeoutMs": timeout_s * 1000})
                if run["outcome"] != "ready":
                    raise RuntimeError(f"browser run {name} failed: {run['message']}")
                runs[name] = run
                log(f"  open->ready {seconds(run['ready'] - run['opened'])} s, "
                    f"core {seconds(run['core'] - run['opened'])} s, wasm {run['wasm']}")
                page.close()
            runs["console_errors"] = errors
        finally:
            context.close()
    return runs


def step_times(run):
    """{step: seconds} from the editor's data-step transitions."""
    marks = run["steps"]
    return {step: (marks[i + 1][1] - at) / 1000 for i, (step, at) in enumerate(marks[:-1])}


def summarize_browser(runs):
    cold, cached, at_once = runs["cold"], runs["cached"], runs["cached_at_once"]
    steps = step_times(cached)
    figures = {
        "load_core_s": seconds(cold["core"] - cold["opened"]),
        "load_core_cached_s": seconds(cached["core"] - cached["opened"]),
        "load_core_cached_at_once_s": seconds(at_once["core"] - at_once["opened"]),
        "core_from_http_cache": bool(cached["wasm"] and cached["wasm"]["transfer"] == 0),
        "fetch_s": seconds(cached["source"]["end"] - cached["source"]["requested"]),
        "create_s": round(steps["create"], 3),
        "trim_s": round(steps["trim"], 3),
        "upload_s": round(steps["upload"], 3),
        "complete_s": round(steps["complete"], 3),
        "generate_to_ready_s": seconds(cached["ready"] - cached["generated"]),
        "open_to_ready_cold_s": seconds(cold["ready"] - cold["opened"]),
        "open_to_ready_cached_s": seconds(at_once["ready"] - at_once["opened"]),
        "cold_steps_s": {step: round(value, 3) for step, value in step_times(cold).items()},
        "wasm_transfer_cold_bytes": cold["wasm"]["transfer"] if cold["wasm"] else None,
        "console_errors": len(runs["console_errors"]),
    }
    figures["work_s"] = round(figures["fetch_s"] + figures["trim_s"] + figures["upload_s"], 3)
    figures["total_s"] = figures["open_to_ready_cold_s"]
    return figures


# --- the native path -----------------------------------------------------------------------------

def native_run(base_url, recording_id, workdir):
    """Fetch, cut with the ffmpeg binary and upload through the same API and storage URLs."""
    import requests

    from webapp.media import ffmpeg_binary

    session = requests.Session()
    page = session.get(f"{base_url}/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = session.post(f"{base_url}/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                            allow_redirects=False, timeout=30)
    if response.status_code != 302:
        raise RuntimeError(f"native login answered {response.status_code}")
    html = session.get(f"{base_url}/recordings", timeout=30).text
    session.headers["X-CSRFToken"] = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    local_copy, clip_path = workdir / "native-source.mp4", workdir / "native-clip.mp4"

    began = time.perf_counter()
    source = session.get(f"{base_url}/api/livekit/recordings/play",
                         params={"type": "meet", "id": recording_id, "format": "json"}, timeout=30).json()
    with session.get(source["url"], stream=True, timeout=60) as response, local_copy.open("wb") as out:
        response.raise_for_status()
        for chunk in response.iter_content(1 << 20):
            out.write(chunk)
    fetched = time.perf_counter()

    # The editor's exact arguments (static/js/trim.js).
    cmd = [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
           "-ss", f"{CLIP_START:.3f}", "-i", str(local_copy), "-t", f"{CLIP_END - CLIP_START:.3f}",
           "-c", "copy", "-avoid_negative_ts", "make_zero", "-movflags", "+faststart", str(clip_path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    trimmed = time.perf_counter()

    created = session.post(f"{base_url}/api/livekit/recordings/clips", timeout=30, json={
        "type": "meet", "id": recording_id, "start_seconds": CLIP_START, "end_seconds": CLIP_END, "mode": "browser"})
    if created.status_code != 201:
        raise RuntimeError(f"creating the native clip answered {created.status_code}: {created.text[:300]}")
    body = created.json()
    create_done = time.perf_counter()
    with clip_path.open("rb") as fh:
        uploaded = session.post(body["upload"]["url"], data=body["upload"]["fields"],
                                files={"file": ("clip.mp4", fh, "video/mp4")}, timeout=120)
    if not 200 <= uploaded.status_code < 300:
        raise RuntimeError(f"the native upload answered {uploaded.status_code}: {uploaded.text[:300]}")
    upload_done = time.perf_counter()
    complete = session.post(body["clip"]["links"]["complete"] if body["clip"]["links"]["complete"].startswith("http")
                            else base_url + body["clip"]["links"]["complete"], json={}, timeout=60)
    if complete.status_code != 200:
        raise RuntimeError(f"completing the native clip answered {complete.status_code}: {complete.text[:300]}")
    completed = time.perf_counter()
    figures = {
        "fetch_s": round(fetched - began, 3),
        "trim_s": round(trimmed - fetched, 3),
        "create_s": round(create_done - trimmed, 3),
        "upload_s": round(upload_done - create_done, 3),
        "complete_s": round(completed - upload_done, 3),
        "clip_mb": round(clip_path.stat().st_size / 1e6, 2),
    }
    figures["total_s"] = round(figures["fetch_s"] + figures["trim_s"] + figures["upload_s"], 3)
    return figures


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# --- main --------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=290, help="seconds before the watchdog stops the run")
    args = parser.parse_args()
    started = time.monotonic()
    cleanup = Cleanup()
    signal.signal(signal.SIGTERM, _interrupted)
    figures, status = {"bench": "browser_clip"}, 1
    try:
        if not os.path.exists(CHROMIUM):
            raise RuntimeError(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
        source = ensure_source()
        watchdog = start_watchdog(cleanup, args.budget, started)
        cleanup.add("watchdog", watchdog.cancel)
        workdir = Path(tempfile.mkdtemp(prefix="reclip-bench-clip-"))
        cleanup.add("workdir", lambda: shutil.rmtree(workdir, ignore_errors=True))
        instance = workdir / "instance"
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        config = app_config(instance, base_url)
        log(f"setting up the app in {workdir}")
        recording_id = setup_app(config, instance)
        start_gunicorn(cleanup, workdir, config, instance, port)
        log(f"gunicorn on {base_url} ({WORKERS} workers x {THREADS} threads)")

        runs = browser_runs(base_url, workdir / "chromium-profile", timeout_s=max(30, args.budget - (time.monotonic() - started) - 30))
        browser = summarize_browser(runs)
        log("native path")
        native = native_run(base_url, recording_id, workdir)
        ratio = round(browser["work_s"] / native["total_s"], 3)
        figures.update({
            "source_mb": round(source["size"] / 1e6, 1),
            "source_mbit_s": round(source["mbit_s"], 2),
            "clip": {"start_s": CLIP_START, "end_s": CLIP_END},
            "browser": browser,
            "native": native,
            "ratio": ratio,
            "ratio_generate_to_ready": round(browser["generate_to_ready_s"] / native["total_s"], 3),
            "targets": {"ratio_max": TARGET_RATIO, "core_cached_max_s": TARGET_CORE_CACHED_S},
            "met": {"ratio": ratio <= TARGET_RATIO,
                    "core_cached": browser["load_core_cached_s"] <= TARGET_CORE_CACHED_S},
            "settings": {"gunicorn": f"{WORKERS} workers, gthread, {THREADS} threads", "storage": "local",
                         "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)},
        })
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
