"""Fixtures: the app on SQLite and (with TEST_DATABASE_URL) PostgreSQL, clients, media, servers."""
import os
from contextlib import contextmanager
import re
import shutil
import socket
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.serving import make_server

from webapp import create_app
from webapp.extensions import db
from webapp.media import generate_test_media, run_ffmpeg

from tests.factories import PASSWORD, make_recording, make_user

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
CHROMIUM = "/usr/bin/chromium"
# Tests hash with a cheap scrypt so that logins are fast; the production cost is tested on its own.
TEST_PASSWORD_HASH = "scrypt:1024:8:1"
SIX_HOURS = 6 * 3600
TABLES = ("publications", "social_exports", "social_destinations", "social_connections", "share_links",
          "recording_clips", "meet_rooms", "voice_calls", "users")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: runs in headless Chromium")


def pytest_report_header(config):
    return [
        f"PostgreSQL variant: {'on (' + TEST_DATABASE_URL + ')' if TEST_DATABASE_URL else 'SKIPPED: TEST_DATABASE_URL is not set'}",
        f"Redis variant: {'on (' + TEST_REDIS_URL + ')' if TEST_REDIS_URL else 'SKIPPED: TEST_REDIS_URL is not set'}",
    ]


def pytest_terminal_summary(terminalreporter):
    for line in pytest_report_header(None):
        terminalreporter.write_line(line)


# --- databases ------------------------------------------------------------------

@contextmanager
def scratch_database(prefix):
    """A new, empty database on the TEST_DATABASE_URL server (psycopg URL), dropped afterwards."""
    server = urlsplit(TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"))
    name = f"{prefix}_{os.getpid()}"
    admin_url = urlunsplit(server)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(server._replace(scheme="postgresql+psycopg", path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database_url():
    """A database of its own on the TEST_DATABASE_URL server for this run, migrated once."""
    with scratch_database("reclip_test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file that each test copies (migrating once is faster)."""
    directory = tmp_path_factory.mktemp("sqlite-template")
    path = directory / "template.db"
    app = create_app(_test_config(f"sqlite:///{path}", directory), instance_path=str(directory / "instance"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


_pg_migrated = set()


@pytest.fixture(params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql",
                 marks=pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set")),
])
def db_backend(request):
    return request.param


@pytest.fixture
def db_url(db_backend, request, tmp_path):
    if db_backend == "sqlite":
        path = tmp_path / "reclip.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_database_url")


def _test_config(database_url, tmp_path, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(Path(tmp_path) / "storage"),
        "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH,
        "RATELIMIT_STORAGE_URI": f"sqlite:///{Path(tmp_path) / 'ratelimits.db'}",
        "REDIS_URL": None,
        "PUBLIC_BASE_URL": "",
        "ALLOWED_PRODUCTS": ["tipjar", "m10"],
        "PROXY_ALLOWED_HOSTS": [],
        "PROXY_ALLOW_PRIVATE_ADDRESSES": False,
        "SIGNED_URL_TTL": 600,
    }
    config.update(overrides)
    return config


@pytest.fixture
def app_config():
    """Overrides for the app under test; a test changes it before asking for `app`."""
    return {}


@pytest.fixture
def app(db_url, tmp_path, app_config):
    app = create_app(_test_config(db_url, tmp_path, **app_config), instance_path=str(tmp_path / "instance"))

    # The test keeps an app context open (for factories); each request gets one of its own, as in
    # production, so no request sees another's `g` (the logged-in user, the CSRF token) or session.
    app.test_client_class = FreshContextClient

    with app.app_context():
        if db_url.startswith("postgresql"):
            if db_url not in _pg_migrated:
                upgrade()
                _pg_migrated.add(db_url)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def member(app):
    return make_user("member@example.com")


@pytest.fixture
def admin(app):
    return make_user("admin@example.com", super_admin=True)


@pytest.fixture
def standup(member, media_dir):
    """The member's 20 s meet recording (320x240 H.264/AAC) in storage."""
    return make_recording(owner=member, file=media_dir / "sample.mp4", title="Team standup", duration_seconds=20.0)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def run_queued_jobs(app):
    """Run every job waiting on the app's queue, here and now, as the consumer would; their results."""
    queue = app.extensions["job_queue"]
    results = []
    while (task := queue.dequeue()) is not None:
        results.append(queue.execute(task))
    return results


# --- clients ----------------------------------------------------------------------

class Client:
    """A test client that sends the page's CSRF token with every unsafe request."""

    def __init__(self, app):
        self.flask = app.test_client()
        self.csrf_token = self.refresh_csrf()

    def refresh_csrf(self):
        response = self.flask.get("/login")
        if response.status_code == 302:  # logged in: the recordings page carries the token
            response = self.flask.get("/recordings")
        html = response.get_data(as_text=True)
        self.csrf_token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
        return self.csrf_token

    def _headers(self, kwargs):
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("X-CSRFToken", self.csrf_token)
        return headers

    def get(self, *args, **kwargs):
        return self.flask.get(*args, **kwargs)

    def head(self, *args, **kwargs):
        return self.flask.head(*args, **kwargs)

    def post(self, *args, **kwargs):
        return self.flask.post(*args, headers=self._headers(kwargs), **kwargs)

    def put(self, *args, **kwargs):
        return self.flask.put(*args, headers=self._headers(kwargs), **kwargs)

    def patch(self, *args, **kwargs):
        return self.flask.patch(*args, headers=self._headers(kwargs), **kwargs)

    def delete(self, *args, **kwargs):
        return self.flask.delete(*args, headers=self._headers(kwargs), **kwargs)

    def login(self, email, password=PASSWORD):
        response = self.flask.post("/login", data={"email": email, "password": password,
                                                   "csrf_token": self.csrf_token})
        assert response.status_code == 302, f"login as {email} failed: {response.status_code}"
        self.refresh_csrf()  # the session changed; the page gives the new token
        return self


class FreshContextClient(FlaskClient):
    """Each request in an app context (and database session) of its own, as in production."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    """An anonymous client (with a CSRF token)."""
    return Client(app)


@pytest.fixture
def login(app):
    """login(user) -> a Client logged in as that user, through the real login form."""
    def _login(user, password=PASSWORD):
        return Client(app).login(user.email, password)
    return _login


# --- media ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    """Short real media made once per run with ffmpeg: sample.mp4 (H.264/AAC, 20 s) and sample.m4a."""
    directory = tmp_path_factory.mktemp("media")
    generate_test_media(directory / "sample.mp4", 20, size="320x240")
    generate_test_media(directory / "sample.m4a", 20, video=False)
    return directory


@pytest.fixture(scope="session")
def six_hour_recording(tmp_path_factory):
    """Six hours by stream-copy concatenation of one small minute (moov at the end, as Egress writes)."""
    directory = tmp_path_factory.mktemp("six-hours")
    minute = directory / "minute.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10:duration=60", "-f", "lavfi", "-i",
                "sine=frequency=330:sample_rate=22050:duration=60", "-c:v", "libx264", "-preset", "ultrafast",
                "-b:v", "60k", "-g", "20", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "24k", str(minute)])
    listing = directory / "list.txt"
    listing.write_text(f"file '{minute}'\n" * (SIX_HOURS // 60))
    path = directory / "six-hours.mp4"
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(path)], timeout=300)
    return path


# --- servers ---------------------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server over real HTTP on a free local port."""
    from moto.server import ThreadedMotoServer
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint):
    """A new, empty bucket on the moto server (with CORS open for browser uploads)."""
    import boto3
    name = f"reclip-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket=name)
    client.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD", "POST", "PUT"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "Content-Length", "Content-Range"]}]})
    return name


@pytest.fixture
def s3_config(s3_endpoint, s3_bucket):
    """App settings for the S3 backend against moto."""
    return {"STORAGE_BACKEND": "s3", "S3_BUCKET": s3_bucket, "S3_ENDPOINT_URL": s3_endpoint,
            "S3_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="session")
def supabase_server():
    """The fake of Supabase Storage's REST API (tests/supabase_storage_server.py) over real HTTP."""
    from tests.supabase_storage_server import FakeSupabaseStorage
    server = FakeSupabaseStorage(buckets=()).start()
    yield server
    server.stop()


@pytest.fixture
def supabase_config(supabase_server):
    """App settings for the supabase backend, on a new, empty bucket of the fake server."""
    bucket = f"reclip-{uuid.uuid4().hex[:12]}"
    supabase_server.create_bucket(bucket)
    supabase_server.fail_with = None
    return {"STORAGE_BACKEND": "supabase", "SUPABASE_URL": supabase_server.url,
            "SUPABASE_SERVICE_KEY": supabase_server.service_key, "SUPABASE_BUCKET": bucket}


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(5)


@pytest.fixture
def live_server(app):
    """The app served over real HTTP in a thread, for the browser."""
    app.config["PUBLIC_BASE_URL"] = ""
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"])
        yield browser
        browser.close()


def collect_console_errors(page):
    """Keep the page's console errors and uncaught exceptions in page.console_errors."""
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    return page


@pytest.fixture
def page(browser):
    """A fresh browser context and page that collects console errors (page.console_errors)."""
    context = browser.new_context(accept_downloads=True)
    yield collect_console_errors(context.new_page())
    context.close()


def log_in(page, live_server, email, password=PASSWORD):
    """Log in through the real login form and land on the recordings page."""
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/recordings")
    page.get_by_role("heading", name="Recordings", exact=True).wait_for()
