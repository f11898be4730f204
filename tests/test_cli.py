"""`flask recordings add` and `flask demo seed`."""
import functools
import os
import re
import stat
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.recordings.models import MeetRoom, VoiceCall
from webapp.storage import get_storage

from tests.conftest import Client, free_port
from tests.factories import make_user

OWNER = "owner@example.com"


@pytest.fixture
def owner(app):
    return make_user(email=OWNER)


def add(runner, *options, source_type="meet", title="Standup", owner_email=OWNER, product="m10"):
    args = ["recordings", "add", "--type", source_type, "--product", product, "--owner", owner_email,
            "--title", title, *options]
    return runner.invoke(args=args)


def added_id(result):
    """The id that `recordings add` prints alone on the last line of its standard output."""
    assert result.exit_code == 0, result.output + repr(result.exception)
    last_line = result.stdout.rstrip("\n").splitlines()[-1]
    assert re.fullmatch(r"\d+", last_line), f"last line is not an id: {last_line!r}"
    return int(last_line)


def row_count(model=MeetRoom):
    return db.session.scalar(select(func.count()).select_from(model))


def stored_keys():
    return sorted(info.key for info in get_storage().list(""))


@pytest.fixture
def media_server(media_dir):
    """The media files over plain HTTP on a local port, like an external CDN."""
    QuietHandler.requested = []
    handler = functools.partial(QuietHandler, directory=str(media_dir))
    server = QuietServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


class QuietHandler(SimpleHTTPRequestHandler):
    requested = []  # paths asked for, across the test

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        QuietHandler.requested.append(self.path)
        super().do_GET()


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the prober hangs up once it has read enough: not an error


# --- recordings add --file / --key / --url -----------------------------------------------

def test_add_file_copies_it_into_storage_and_probes_it(app, runner, owner, media_dir):
    source = media_dir / "sample.mp4"
    result = add(runner, "--file", str(source), title="Weekly sync")
    recording_id = added_id(result)

    recording = db.session.get(MeetRoom, recording_id)
    assert recording is not None
    assert (recording.title, recording.product, recording.owner_id) == ("Weekly sync", "m10", owner.id)
    assert recording.duration_seconds == pytest.approx(20, abs=0.5)
    assert recording.size_bytes == source.stat().st_size
    assert re.fullmatch(r"recordings/meet/[0-9a-f]{32}\.mp4", recording.recording_url)
    assert "Added meet recording 'Weekly sync'" in result.output

    info = get_storage().head(recording.recording_url)
    assert (info.size, info.content_type) == (source.stat().st_size, "video/mp4")
    assert b"".join(get_storage().read_range(recording.recording_url)) == source.read_bytes()
    assert source.exists()  # copied, not moved


def test_add_voice_file(app, runner, owner, media_dir):
    result = add(runner, "--file", str(media_dir / "sample.m4a"), source_type="voice", title="Call",
                 product="TipJar")
    recording = db.session.get(VoiceCall, added_id(result))
    assert recording.product == "tipjar"
    assert recording.duration_seconds == pytest.approx(20, abs=0.5)
    assert re.fullmatch(r"recordings/voice/[0-9a-f]{32}\.m4a", recording.recording_url)
    assert get_storage().head(recording.recording_url).content_type == "audio/mp4"
    assert row_count(MeetRoom) == 0


def test_add_key_of_an_object_already_in_storage(app, runner, owner, media_dir):
    source = media_dir / "sample.mp4"
    with source.open("rb") as fh:
        get_storage().put("egress/room-1/recording.mp4", fh, content_type="video/mp4")
    result = add(runner, "--key", "egress/room-1/recording.mp4")
    recording = db.session.get(MeetRoom, added_id(result))
    assert recording.recording_url == "egress/room-1/recording.mp4"
    assert recording.size_bytes == source.stat().st_size
    assert recording.duration_seconds == pytest.approx(20, abs=0.5)
    assert stored_keys() == ["egress/room-1/recording.mp4"]  # nothing copied


@pytest.mark.parametrize("app_config", [{"PROXY_ALLOWED_HOSTS": ["127.0.0.1"], "PROXY_ALLOW_PRIVATE_ADDRESSES": True}])
def test_add_external_url_that_can_be_probed(app, runner, owner, media_server):
    url = f"{media_server}/sample.mp4"
    recording = db.session.get(MeetRoom, added_id(add(runner, "--url", url)))
    assert recording.recording_url == url
    assert recording.duration_seconds == pytest.approx(20, abs=0.5)
    assert (recording.width, recording.height) == (320, 240)
    assert recording.size_bytes is None
    assert stored_keys() == []


def test_an_external_url_off_the_allow_list_is_added_but_never_fetched(app, runner, owner, media_server):
    url = f"{media_server}/sample.mp4"  # PROXY_ALLOWED_HOSTS is empty
    recording = db.session.get(MeetRoom, added_id(add(runner, "--url", url)))
    assert recording.recording_url == url
    assert recording.duration_seconds is None
    assert QuietHandler.requested == []


def test_add_external_url_that_cannot_be_probed_is_still_added(app, runner, owner):
    url = f"http://127.0.0.1:{free_port()}/recordings/offline.mp4"  # nothing listens there
    result = add(runner, "--url", url)
    recording = db.session.get(MeetRoom, added_id(result))
    assert recording.recording_url == url
    assert recording.duration_seconds is None
    assert "(? s, ? bytes)" in result.output


# --- what it refuses -------------------------------------------------------------------------

def assert_refused(result, message):
    assert result.exit_code != 0
    assert message in result.output
    assert row_count(MeetRoom) == 0 and row_count(VoiceCall) == 0
    assert stored_keys() == []
    assert not any(name.startswith(".") for _, _, names in os.walk(get_storage().root) for name in names)


def test_add_refuses_an_unknown_owner(app, runner, owner, media_dir):
    result = add(runner, "--file", str(media_dir / "sample.mp4"), owner_email="nobody@example.com")
    assert_refused(result, "Error: No user with the email nobody@example.com.")


def test_add_refuses_a_missing_file(app, runner, owner, tmp_path):
    missing = tmp_path / "missing.mp4"
    assert_refused(add(runner, "--file", str(missing)), f"Error: {missing} is not a file.")


def test_add_refuses_a_file_that_is_not_media(app, runner, owner, tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_text("meeting notes, not a video\n" * 100)
    assert_refused(add(runner, "--file", str(notes)), "Error: That recording cannot be read:")


def test_add_refuses_a_missing_key(app, runner, owner):
    assert_refused(add(runner, "--key", "egress/none.mp4"), "Error: No object egress/none.mp4 in storage.")


def test_add_refuses_a_key_that_is_not_media(app, runner, owner, tmp_path):
    get_storage().put("egress/notes.mp4", open(__file__, "rb"), content_type="video/mp4")
    result = add(runner, "--key", "egress/notes.mp4")
    assert result.exit_code != 0
    assert "Error: That recording cannot be read:" in result.output
    assert row_count(MeetRoom) == 0


def test_add_refuses_a_non_http_url(app, runner, owner):
    assert_refused(add(runner, "--url", "file:///etc/passwd"), "Error: url must be http or https.")


@pytest.mark.parametrize("options", [[], ["--key", "a.mp4", "--url", "https://cdn.example.com/a.mp4"]])
def test_add_needs_exactly_one_source(app, runner, owner, options):
    assert_refused(add(runner, *options), "Error: Give exactly one of file, key or url.")


def test_add_refuses_an_unknown_type(app, runner, owner, media_dir):
    result = add(runner, "--file", str(media_dir / "sample.mp4"), source_type="video")
    assert result.exit_code == 2
    assert "Invalid value for '--type'" in result.output
    assert row_count() == 0


def test_add_leaves_no_object_when_the_row_cannot_be_saved(app, runner, owner, media_dir):
    # A title longer than the column: PostgreSQL refuses the row after the file was copied.
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    result = add(runner, "--file", str(media_dir / "sample.mp4"), title="x" * 300)
    assert result.exit_code != 0
    assert row_count() == 0
    assert stored_keys() == []


# --- demo seed -------------------------------------------------------------------------------

@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_demo_seed_creates_a_super_admin_and_recordings_once(app, runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output + repr(first.exception)
    match = re.search(r"^Demo super admin: admin@reclip\.local / (\S+)$", first.output, re.MULTILINE)
    assert match, first.output
    password = match.group(1)
    assert first.stdout.rstrip("\n").splitlines()[-1] == match.group(0)

    meet = db.session.scalars(select(MeetRoom).order_by(MeetRoom.created_at.desc())).all()
    voice = db.session.scalars(select(VoiceCall)).all()
    assert len(meet) == 2 and len(voice) == 1
    for recording in [*meet, *voice]:
        assert recording.product == "m10"
        assert recording.duration_seconds and recording.duration_seconds > 30
        assert get_storage().head(recording.recording_url).size == recording.size_bytes

    credentials = os.path.join(app.instance_path, "demo-credentials.txt")
    assert stat.S_IMODE(os.stat(credentials).st_mode) == 0o600

    client = Client(app)
    response = client.flask.post("/login", data={"email": "admin@reclip.local", "password": password,
                                                 "csrf_token": client.csrf_token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/recordings"
    client.refresh_csrf()
    listed = client.get("/api/livekit/recordings?type=voice").get_json()["recordings"]
    assert [r["title"] for r in listed] == ["Call with +1 555 0100"]

    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0, second.output
    assert f"Demo super admin: admin@reclip.local / {password}" in second.output
    assert "Generating" not in second.output
    assert row_count(MeetRoom) == 2 and row_count(VoiceCall) == 1
    assert len(stored_keys()) == 3
