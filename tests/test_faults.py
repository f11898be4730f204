"""Faults: storage, PostgreSQL, Redis and the disk go away (or an upload stops half-way); the app says so
in a clear 503/507 and works again, without a restart, once they are back."""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

import boto3
import psycopg
import pytest
import requests
from playwright.sync_api import expect

from tests.app_server import AppServer
from tests.assertions import assert_json_error
from tests.clip_helpers import CLIPS_URL, clip_count, clip_row, create, cut, upload_local
from tests.conftest import TEST_DATABASE_URL, Client, _test_config, collect_console_errors, log_in, scratch_database
from tests.factories import PASSWORD, make_ready_clip, make_recording, make_share_link, make_user
from tests.services import RedisServer, SwitchableS3, child_pids, logged_in_session, wait_until
from webapp import create_app
from webapp.extensions import db

CREATED = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)


def media_url(recording, action="download"):
    return f"/api/livekit/recordings/{action}?type={recording.source_type}&id={recording.id}"


def clip_request(recording, mode, start=3, end=13):
    return {"type": recording.source_type, "id": recording.id, "start_seconds": start, "end_seconds": end,
            "mode": mode}


def post_login(client, email, password):
    """POST the login form with the client's CSRF token; the response."""
    return client.flask.post("/login", data={"email": email, "password": password, "csrf_token": client.csrf_token})


# --- storage unreachable ------------------------------------------------------------------------------

@pytest.fixture
def s3():
    """A moto S3 of this test's own, which the test stops and starts again; stopped at teardown."""
    server = SwitchableS3().up()
    yield server
    server.down()


@pytest.fixture
def s3_down_config(s3):
    """App settings for a new bucket on that S3 (CORS open, as the browser uploads there)."""
    bucket = f"reclip-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    client.create_bucket(Bucket=bucket)
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD", "POST", "PUT"], "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "Content-Length", "Content-Range"]}]})
    return {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3.url, "S3_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class TestStorageUnreachable:
    @pytest.fixture
    def app_config(self, s3_down_config):
        return s3_down_config

    def test_download_play_and_clips_answer_503_then_work_when_it_is_back(self, app, login, s3, media_dir):
        owner = make_user()
        recording = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
        client = login(owner)

        s3.down()
        for action in ("download", "play"):
            body = assert_json_error(client.get(media_url(recording, action)), 503, "storage_unavailable")
            assert body["error"]["message"] == "Storage cannot be reached right now. Try again shortly."
        for mode in ("browser", "server"):
            assert_json_error(client.post(CLIPS_URL, json=clip_request(recording, mode)), 503, "storage_unavailable")
        assert clip_count() == 0  # nothing half-made is left behind
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["checks"]["storage"].startswith("error")

        s3.up()  # the same bucket, the same objects: no restart of the app
        for action in ("download", "play"):
            response = client.get(media_url(recording, action))
            assert response.status_code == 302, response.get_data(as_text=True)
            assert requests.get(response.headers["Location"], timeout=10).content == \
                (media_dir / "sample.mp4").read_bytes()
        assert client.post(CLIPS_URL, json=clip_request(recording, "browser")).status_code == 201
        assert client.get("/healthz").status_code == 200


@pytest.mark.browser
@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
class TestStorageUnreachableOnThePage:
    @pytest.fixture
    def app_config(self, s3_down_config):
        return s3_down_config

    def test_the_page_says_so_in_words_and_plays_again_when_it_is_back(self, app, live_server, page, s3, media_dir):
        owner = make_user()
        make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
        log_in(page, live_server, owner.email)
        row = page.locator("li.recording").filter(has=page.get_by_role("heading", name="Standup", exact=True))

        s3.down()
        row.get_by_role("button", name="Play").click()
        expect(row.locator(".player-error")).to_have_text(
            "This recording cannot be played right now. Try Download instead.")
        row.get_by_role("button", name="Close player").click()
        row.get_by_role("button", name="Create clip").click()
        row.get_by_label("Start", exact=True).fill("3")
        row.get_by_label("End", exact=True).fill("13")
        row.get_by_role("button", name="Generate clip").click()
        alert = row.get_by_role("alert")
        expect(alert).to_have_text(
            "Opening the recording failed: Storage cannot be reached right now. Try again shortly.")
        assert clip_count() == 0

        s3.up()  # back, with nothing restarted: the same page tries again and the clip is made
        row.get_by_role("button", name="Generate clip").click()
        expect(row.get_by_text("Clip ready").first).to_be_visible(timeout=60_000)
        expect(row.locator(".clip")).to_have_count(1)
        # The player that failed keeps its error until Try again asks for the recording anew.
        row.get_by_role("button", name="Close editor").click()
        row.get_by_role("button", name="Play", exact=True).click()
        player = row.locator(".recording-player")
        expect(player.locator(".player-error")).to_be_visible()
        player.get_by_role("button", name="Try again").click()
        page.wait_for_function("video => video.readyState >= 1", arg=player.locator("video").element_handle(),
                               timeout=15_000)
        expect(player.locator(".player-error")).to_be_hidden()
        # Chromium logs each refused request itself; nothing else may go wrong.
        assert [error for error in page.console_errors if "503" not in error] == []

    def test_download_says_so_in_words_and_downloads_when_it_is_back(self, app, live_server, page, s3, media_dir,
                                                                    tmp_path):
        owner = make_user()
        recording = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup", created_at=CREATED)
        clip = make_ready_clip(recording, media_dir / "sample.mp4", user=owner)
        token = make_share_link(owner, recording)
        log_in(page, live_server, owner.email)
        row = page.locator("li.recording").filter(has=page.get_by_role("heading", name="Standup", exact=True))
        recording_download = row.locator(".recording-actions").get_by_role("link", name="Download", exact=True)
        clip_download = row.locator(".clip").get_by_role("link", name="Download", exact=True)
        shared = collect_console_errors(page.context.new_page())
        shared.goto(f"{live_server.url}/s/{token}")
        shared_download = shared.get_by_role("link", name="Download", exact=True)
        started = []
        for tab in (page, shared):
            tab.on("download", lambda download: started.append(download))

        s3.down()
        for tab, link in ((page, recording_download), (page, clip_download), (shared, shared_download)):
            url = tab.url
            expect(link).to_have_attribute("href", re.compile(r"/download"))  # middle-click, Save link as
            tab.evaluate("document.querySelector('.toast').textContent = ''")
            link.click()
            expect(tab.locator(".toast")).to_have_text(
                "Download failed: Storage cannot be reached right now. Try again shortly.")
            expect(tab.locator(".toast")).to_have_class(re.compile(r"toast-error"))
            assert tab.url == url  # still on the page, no JSON shown instead of it
        assert started == []  # nothing saved: no JSON file, no failed download

        s3.up()  # back, with nothing restarted: the same buttons download
        for tab, link, name, data in (
                (page, recording_download, "Standup-2024-03-15.mp4", (media_dir / "sample.mp4").read_bytes()),
                (page, clip_download, None, None),
                (shared, shared_download, "Standup-2024-03-15.mp4", (media_dir / "sample.mp4").read_bytes())):
            with tab.expect_download() as info:
                link.click()
            download = info.value
            assert download.failure() is None
            saved = tmp_path / f"saved-{len(list(tmp_path.iterdir()))}"
            download.save_as(saved)
            if name is None:  # the clip: its own name and the bytes cut into storage
                assert download.suggested_filename.endswith(".mp4")
                assert saved.stat().st_size == clip.size_bytes
            else:
                assert download.suggested_filename == name
                assert saved.read_bytes() == data
        # Chromium logs each refused request itself (503s, and the players' and posters' own fetches from
        # the stopped bucket); nothing else may go wrong.
        for tab in (page, shared):
            assert [error for error in tab.console_errors
                    if "503" not in error and not error.startswith("Failed to load resource: net::")] == []


# --- Redis down ------------------------------------------------------------------------------------

@pytest.fixture
def redis_server(tmp_path):
    """A redis-server of this test's own on a free port (no other test's keys), stopped at teardown."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: Redis going away and coming back is not simulated")
    server = RedisServer(tmp_path / "redis.log").start()
    yield server
    server.stop()


class TestRedisDown:
    @pytest.fixture
    def app_config(self, redis_server):
        return {"REDIS_URL": redis_server.url, "RATELIMIT_STORAGE_URI": redis_server.url,
                "JOB_QUEUE_NAME": f"reclip-faults-{uuid.uuid4().hex[:8]}"}

    @pytest.fixture(autouse=True)
    def revive_the_limiter(self):
        """The Limiter is one object for every app in this process: leave it counting in its real store."""
        yield
        from webapp.extensions import limiter
        limiter._storage_dead = False

    def test_clips_answer_503_logins_stay_limited_and_both_come_back(self, app, client, login, redis_server,
                                                                      media_dir):
        from redis import Redis
        owner = make_user()
        make_user(email="ada@example.com")
        recording = make_recording(owner=owner, file=media_dir / "sample.mp4")
        member = login(owner)

        redis_server.stop()
        body = assert_json_error(member.post(CLIPS_URL, json=clip_request(recording, "server")), 503,
                                 "queue_unavailable")
        assert body["error"]["message"] == "The job queue cannot be reached right now. Try again shortly."
        assert clip_count() == 0
        # The limit still holds, counted in memory (a per-process fallback) while Redis is away.
        assert [post_login(client, "ada@example.com", f"guess {n}").status_code for n in range(10)] == [401] * 10
        limited = post_login(client, "ada@example.com", PASSWORD)
        assert limited.status_code == 429 and "Retry-After" in limited.headers
        assert client.get("/healthz").get_json()["checks"]["queue"].startswith("error")

        redis_server.start()  # an empty Redis, as after a restart without persistence
        accepted = member.post(CLIPS_URL, json=clip_request(recording, "server"))
        assert accepted.status_code == 202, accepted.get_data(as_text=True)
        assert app.extensions["job_queue"].pending_count() == 1
        # The limiter goes back to Redis by itself (it checks the store with a backoff of a few seconds).
        wait_until(lambda: post_login(Client(app), "ada@example.com", "a new guess").status_code == 401, 30,
                   interval=0.5, message="failed logins to be counted in Redis again")
        assert Redis.from_url(redis_server.url).keys("LIMITS*")
        assert post_login(Client(app), "ada@example.com", PASSWORD).status_code == 302
        assert client.get("/healthz").status_code == 200


# --- PostgreSQL restarted under load ----------------------------------------------------------------

def served_recording(server, media_dir, database_url=None, email="ada@example.com"):
    """A user and a recording of theirs in a served app's database and storage (written from this process,
    faster than its CLI); the recording's id."""
    instance = server.instance_path
    console = create_app(_test_config(database_url or f"sqlite:///{instance / 'reclip.db'}", instance,
                                      SECRET_KEY=server.env["SECRET_KEY"]), instance_path=str(instance / "console"))
    with console.app_context():
        recording = make_recording(owner=make_user(email), file=media_dir / "sample.mp4", title="Standup")
        recording_id = recording.id
        db.session.remove()
        db.engine.dispose()
    return recording_id


def terminate_backends(admin_url, database):
    """What a PostgreSQL restart does to the app: every connection to its database is cut. How many were."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchall()
    return sum(1 for (terminated,) in rows if terminated)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set: the PostgreSQL fault is not run")
@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_postgresql_connections_cut_under_load_fail_cleanly_and_the_pool_recovers(db_backend, tmp_path, media_dir):
    with scratch_database("reclip_faults_pg") as url:
        parts = urlsplit(url)
        database = parts.path.lstrip("/")
        admin_url = parts._replace(scheme="postgresql", path="/postgres").geturl()
        with AppServer(tmp_path / "instance", workers=2, DATABASE_URL=url) as server:
            recording_id = served_recording(server, media_dir, url)
            paths = ["/api/livekit/recordings?type=meet",
                     f"/api/livekit/recordings/download?type=meet&id={recording_id}", "/recordings"]
            sessions = [logged_in_session(server.url, "ada@example.com") for _ in range(4)]
            workers = child_pids(server.process.pid)
            results, stop = [], threading.Event()

            def load(session):
                while not stop.is_set():
                    for path in paths:
                        try:
                            response = session.get(f"{server.url}{path}", allow_redirects=False, timeout=30)
                        except requests.RequestException as exc:  # a connection reset is no clean failure
                            results.append((path, None, "", repr(exc)))
                            continue
                        results.append((path, response.status_code, response.headers.get("Content-Type", ""),
                                        response.text))

            threads = [threading.Thread(target=load, args=(session,)) for session in sessions]
            for thread in threads:
                thread.start()
            try:
                wait_until(lambda: len(results) >= 20, 30, message="the load to run")
                terminated = 0
                for _ in range(15):  # cut every connection, again and again, while requests run
                    terminated += terminate_backends(admin_url, database)
                    time.sleep(0.1)
            finally:
                stop.set()
                for thread in threads:
                    thread.join(30)

            assert terminated > 0
            statuses = {}
            for path, status, content_type, body in results:
                statuses[status] = statuses.get(status, 0) + 1
                assert status in (200, 302, 503), f"{path}: {status}: {body[:300]}"
                if status == 503 and path.startswith("/api/"):
                    assert content_type == "application/json"
                    assert json.loads(body)["error"]["code"] == "database_unavailable", body
                elif status == 503:  # the page says it in words
                    assert content_type.startswith("text/html")
                    assert "The database cannot be reached right now. Try again shortly." in body
            print(f"{len(results)} requests while {terminated} connections were cut: {statuses}")
            # The pool replaced its dead connections: every request works again, from the same workers.
            for session in sessions:
                for path in paths:
                    assert session.get(f"{server.url}{path}", allow_redirects=False, timeout=30).status_code \
                        in (200, 302)
            assert child_pids(server.process.pid) == workers
            assert "Traceback" not in server.log.read_text()


# --- an upload cut off half-way ------------------------------------------------------------------------

def multipart(fields, file_bytes, filename="clip.mp4", content_type="video/mp4"):
    """A multipart/form-data body as a browser's form sends it; (body, content type header)."""
    boundary = f"----reclip{uuid.uuid4().hex}"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n".encode() + file_bytes + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def post_cut_off(url, body, content_type):
    """POST with the whole body's Content-Length, send half of it and stop sending (the tab closed, the
    network went); what the server answers to that, or b"" when it just closes."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = (f"POST {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
        sock.sendall(head.encode() + body[:len(body) // 2])
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):  # until the server has dealt with it and closed
            answer += chunk
    return answer


def stored_files(root):
    """Every file under the storage root, hidden ones (half-written uploads) included."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def test_an_upload_cut_off_half_way_keeps_nothing_and_the_clip_never_becomes_ready(tmp_path, media_dir):
    clip_file = cut(media_dir / "sample.mp4", tmp_path / "clip.mp4", 3, 7).read_bytes()  # 3 s to 10 s
    with AppServer(tmp_path / "instance") as server:
        recording_id = served_recording(server, media_dir)
        storage_root = server.instance_path / "storage"
        before = stored_files(storage_root)  # the recording
        session = logged_in_session(server.url, "ada@example.com")

        def new_clip():
            response = session.post(f"{server.url}{CLIPS_URL}", json={
                "type": "meet", "id": recording_id, "start_seconds": 3, "end_seconds": 10, "mode": "browser"})
            assert response.status_code == 201, response.text
            return response.json()

        given_up = new_clip()
        body, content_type = multipart(given_up["upload"]["fields"], clip_file)
        answer = post_cut_off(given_up["upload"]["url"], body, content_type)
        assert not answer.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2")), answer[:200]
        assert stored_files(storage_root) == before  # no object, no half-written temporary file
        clip_url = f"{server.url}{CLIPS_URL}/{given_up['clip']['id']}"
        assert session.get(clip_url).json()["clip"]["status"] == "awaiting_upload"
        completed = session.post(f"{clip_url}/complete")
        assert completed.status_code == 422 and completed.json()["error"]["message"] == \
            "Nothing was uploaded for this clip."
        assert session.get(clip_url).json()["clip"]["status"] == "failed"
        assert stored_files(storage_root) == before

        # Cut off, then sent again whole with the same presigned POST: only the whole file is kept.
        retried = new_clip()
        body, content_type = multipart(retried["upload"]["fields"], clip_file)
        post_cut_off(retried["upload"]["url"], body, content_type)
        assert stored_files(storage_root) == before
        assert requests.post(retried["upload"]["url"], data=body, headers={"Content-Type": content_type},
                             timeout=30).status_code == 204
        completed = session.post(f"{server.url}{CLIPS_URL}/{retried['clip']['id']}/complete")
        assert completed.status_code == 200, completed.text
        assert completed.json()["clip"]["status"] == "ready"
        assert completed.json()["clip"]["size_bytes"] == len(clip_file)
        assert "Traceback" not in server.log.read_text()


# --- the local backend's disk full ---------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A real 8 MB filesystem (tmpfs) for the local backend, so that writes fail with ENOSPC as on a full disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"a full disk is simulated with a small tmpfs, and mounting one was refused "
                    f"(needs root with CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=False)


def fill(disk, leave=64 * 1024):
    """Fill the disk up to `leave` bytes free; the file that does it (delete it to make room again)."""
    stat = os.statvfs(disk)
    filler = disk / f"filler-{uuid.uuid4().hex[:6]}"
    filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))
    return filler


class TestDiskFull:
    @pytest.fixture
    def app_config(self, small_disk):
        return {"STORAGE_LOCAL_ROOT": str(small_disk / "storage")}

    def test_a_full_disk_answers_507_keeps_nothing_half_written_and_works_once_there_is_room(
            self, app, login, small_disk, media_dir, tmp_path):
        owner = make_user()
        recording = make_recording(owner=owner, file=media_dir / "sample.mp4")
        client = login(owner)
        clip_file = cut(media_dir / "sample.mp4", tmp_path / "clip.mp4", 3, 7)  # 3 s to 10 s, about 1.4 MB
        root = small_disk / "storage"
        created = create(client, recording, 3, 10)
        assert created.status_code == 201
        clip, upload = created.get_json()["clip"], created.get_json()["upload"]
        before = stored_files(root)

        filler = fill(small_disk)
        body = assert_json_error(upload_local(client, upload, clip_file), 507, "storage_full")
        assert body["error"]["message"] == "There is no room left in storage. Try again later."
        assert stored_files(root) == before  # not a byte of it, no temporary file
        filler.unlink()
        assert upload_local(client, upload, clip_file).status_code == 204
        uploaded = stored_files(root)

        # Full again while `complete` copies the checked clip out of the uploads: 507, and it can be tried again.
        filler = fill(small_disk)
        assert_json_error(client.post(f"{CLIPS_URL}/{clip['id']}/complete"), 507, "storage_full")
        assert stored_files(root) == uploaded
        assert clip_row(clip["id"]).status == "awaiting_upload"
        filler.unlink()
        completed = client.post(f"{CLIPS_URL}/{clip['id']}/complete")
        assert completed.status_code == 200, completed.get_data(as_text=True)
        assert completed.get_json()["clip"]["status"] == "ready"
        assert completed.get_json()["clip"]["size_bytes"] == clip_file.stat().st_size
