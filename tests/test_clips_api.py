"""Browser clips over the API: create, upload with the presigned POST, complete, list, download, delete."""
import base64
import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.assertions import assert_json_error
from tests.clip_helpers import (CLIPS_URL, clip_count, clip_row, create, cut, local_path,
                                upload_local, upload_s3)
from tests.factories import make_recording, make_user
from tests.range_server import RangeServer
from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.storage import get_storage

UPLOAD_KEY = re.compile(r"^clips/uploads/[0-9a-f]{32}\.(mp4|m4a)$")  # the prefix the bucket lifecycle expires
CLIP_FIELDS = {"id", "type", "recording_id", "start_seconds", "end_seconds", "mode", "precise", "status",
               "size_bytes", "duration_seconds", "error", "created_at", "links"}





# --- fixtures ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cuts(media_dir, tmp_path_factory):
    """Real clips cut once with ffmpeg's stream copy, and bytes that are no media at all."""
    directory = tmp_path_factory.mktemp("cuts")
    garbage = directory / "garbage.mp4"
    garbage.write_bytes(os.urandom(64 * 1024))
    return {
        "10s": cut(media_dir / "sample.mp4", directory / "ten.mp4", 3, 10),
        "18s": cut(media_dir / "sample.mp4", directory / "eighteen.mp4", 1, 18),
        "voice10s": cut(media_dir / "sample.m4a", directory / "voice.m4a", 3, 10),
        "garbage": garbage,
    }


@pytest.fixture
def backend():
    """local unless a test parametrizes it to s3."""
    return "local"


@pytest.fixture
def cdn(media_dir):
    """An allow-listed external host (a CDN) serving the sample recording with Range."""
    with RangeServer() as server:
        server.add_file("/rec/standup.mp4", (media_dir / "sample.mp4").read_bytes(), "video/mp4")
        yield server


@pytest.fixture
def app_config(backend, request):
    if backend == "s3":
        return request.getfixturevalue("s3_config")
    if "cdn" in request.fixturenames:
        cdn = request.getfixturevalue("cdn")
        return {"PROXY_ALLOWED_HOSTS": [f"127.0.0.1:{cdn.port}"], "PROXY_ALLOW_PRIVATE_ADDRESSES": True}
    return {}


@pytest.fixture
def people(app):
    return {"a": make_user("a@example.com"), "b": make_user("b@example.com"),
            "admin": make_user("admin@example.com", super_admin=True)}


@pytest.fixture
def recording(people, media_dir):
    """Member A's 20 s meet recording, stored in the bucket."""
    return make_recording(owner=people["a"], file=media_dir / "sample.mp4", title="Weekly standup")


@pytest.fixture
def as_a(login, people):
    return login(people["a"])


@pytest.fixture
def send(backend):
    """send(client, upload, path, fields=None) -> HTTP status of the browser's presigned POST."""
    def _send(client, upload, path, **kwargs):
        if backend == "s3":
            return upload_s3(upload, path, **kwargs).status_code
        return upload_local(client, upload, path, **kwargs).status_code
    return _send


def fetch(client, url):
    """(status, headers, bytes) of a presigned URL: the app serves local ones, moto S3 ones."""
    if url.startswith("http://localhost/"):
        response = client.get(local_path(url))
        return response.status_code, response.headers, response.get_data()
    response = requests.get(url, timeout=30)
    return response.status_code, response.headers, response.content


def stored(key):
    return get_storage().head(key)


def local_clip_files(app):
    """Every file (temporary ones included) under the local backend's clips/ directory."""
    directory = Path(app.config["STORAGE_LOCAL_ROOT"]) / "clips"
    return sorted(path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file())


def created(response):
    """The 201 body of a browser clip request, checked."""
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"clip", "source_url", "upload"}
    assert body["clip"]["status"] == "awaiting_upload"
    return body


def new_clip(client, recording, start=3, end=13, **extra):
    """(clip JSON, upload, row) of a new browser clip."""
    body = created(create(client, recording, start, end, **extra))
    return body["clip"], body["upload"], clip_row(body["clip"]["id"])


def ready_clip(client, recording, path, send, start=3, end=13):
    """A clip uploaded and completed: its JSON."""
    clip, upload, _row = new_clip(client, recording, start, end)
    assert send(client, upload, path) in (200, 201, 204)
    response = client.post(f"{CLIPS_URL}/{clip['id']}/complete")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["clip"]


# --- creating: the happy path --------------------------------------------------------------

def test_create_gives_a_clip_awaiting_upload_a_source_url_and_a_presigned_post(app, as_a, recording, people):
    response = create(as_a, recording, 3, 13)

    body = created(response)
    clip = body["clip"]
    assert CLIP_FIELDS <= set(clip)  # the documented fields (server clips add progress ones)
    assert clip["type"] == "meet" and clip["recording_id"] == recording.id
    assert (clip["start_seconds"], clip["end_seconds"]) == (3.0, 13.0)
    assert (clip["mode"], clip["precise"]) == ("browser", False)
    assert clip["size_bytes"] is None and clip["duration_seconds"] is None and clip["error"] is None
    assert clip["links"] == {"self": f"{CLIPS_URL}/{clip['id']}", "complete": f"{CLIPS_URL}/{clip['id']}/complete"}
    upload = body["upload"]
    assert upload["url"].startswith("http://localhost/storage/upload?policy=")
    assert set(upload["fields"]) == {"key", "Content-Type"}
    assert UPLOAD_KEY.match(upload["fields"]["key"]) and upload["fields"]["key"].endswith(".mp4")
    assert upload["fields"]["Content-Type"] == "video/mp4"
    row = clip_row(clip["id"])
    assert row.status == "awaiting_upload" and row.storage_key == upload["fields"]["key"]
    assert row.user_id == people["a"].id and row.recording_url == recording.recording_url
    assert row.source_type == "meet" and row.source_id == recording.id and row.mode == "browser"
    assert clip_count() == 1
    assert stored(row.storage_key) is None  # nothing until the browser uploads
    fetched = as_a.get(f"{CLIPS_URL}/{clip['id']}")
    assert fetched.status_code == 200 and fetched.get_json() == {"clip": clip}


def test_create_accepts_the_edges_and_ignores_a_key_from_the_client(app, as_a, recording):
    shortest = created(create(as_a, recording, 0, 1, precise=False))["clip"]
    fractional = created(create(as_a, recording, 0.25, 1.75))["clip"]
    to_the_end = created(create(as_a, recording, 10, 20))["clip"]
    with_a_key = created(create(as_a, recording, 3, 13, key="recordings/meet/evil.mp4", storage_key="x.mp4"))

    assert (shortest["start_seconds"], shortest["end_seconds"], shortest["precise"]) == (0.0, 1.0, False)
    assert (fractional["start_seconds"], fractional["end_seconds"]) == (0.25, 1.75)
    assert to_the_end["end_seconds"] == 20.0
    key = with_a_key["upload"]["fields"]["key"]
    assert UPLOAD_KEY.match(key) and clip_row(with_a_key["clip"]["id"]).storage_key == key
    assert stored("recordings/meet/evil.mp4") is None and stored("x.mp4") is None
    assert clip_count() == 4


# --- creating: bad input is a 400 with a code, and no row ----------------------------------

MISSING = object()
BAD_FIELDS = [
    pytest.param({"type": MISSING}, "invalid_type", id="type-missing"),
    pytest.param({"type": "video"}, "invalid_type", id="type-video"),
    pytest.param({"type": "MEET"}, "invalid_type", id="type-uppercase"),
    pytest.param({"type": None}, "invalid_type", id="type-null"),
    pytest.param({"type": ["meet"]}, "invalid_type", id="type-list"),
    pytest.param({"id": MISSING}, "invalid_id", id="id-missing"),
    pytest.param({"id": "x"}, "invalid_id", id="id-x"),
    pytest.param({"id": -1}, "invalid_id", id="id-negative"),
    pytest.param({"id": 0}, "invalid_id", id="id-zero"),
    pytest.param({"id": 1.5}, "invalid_id", id="id-fraction"),
    pytest.param({"id": True}, "invalid_id", id="id-true"),
    pytest.param({"id": None}, "invalid_id", id="id-null"),
    pytest.param({"id": 10**30}, "invalid_id", id="id-huge"),
    pytest.param({"id": {"id": 1}}, "invalid_id", id="id-object"),
    pytest.param({"start_seconds": MISSING}, "invalid_start_seconds", id="start-missing"),
    pytest.param({"start_seconds": "3"}, "invalid_start_seconds", id="start-string"),
    pytest.param({"start_seconds": None}, "invalid_start_seconds", id="start-null"),
    pytest.param({"start_seconds": True}, "invalid_start_seconds", id="start-true"),
    pytest.param({"start_seconds": "Infinity"}, "invalid_start_seconds", id="start-Infinity-string"),
    pytest.param({"start_seconds": "NaN"}, "invalid_start_seconds", id="start-NaN-string"),
    pytest.param({"start_seconds": [3]}, "invalid_start_seconds", id="start-list"),
    pytest.param({"start_seconds": 10**400}, "invalid_start_seconds", id="start-beyond-float"),
    pytest.param({"end_seconds": MISSING}, "invalid_end_seconds", id="end-missing"),
    pytest.param({"end_seconds": "13"}, "invalid_end_seconds", id="end-string"),
    pytest.param({"end_seconds": None}, "invalid_end_seconds", id="end-null"),
    pytest.param({"end_seconds": False}, "invalid_end_seconds", id="end-false"),
    pytest.param({"end_seconds": "-Infinity"}, "invalid_end_seconds", id="end-minus-Infinity-string"),
    pytest.param({"end_seconds": -(10**400)}, "invalid_end_seconds", id="end-beyond-float"),
    pytest.param({"start_seconds": -1}, "invalid_range", id="start-negative"),
    pytest.param({"start_seconds": -0.001, "end_seconds": 5}, "invalid_range", id="start-slightly-negative"),
    pytest.param({"start_seconds": 13, "end_seconds": 13}, "invalid_range", id="end-equals-start"),
    pytest.param({"start_seconds": 13, "end_seconds": 3}, "invalid_range", id="end-before-start"),
    pytest.param({"start_seconds": 3, "end_seconds": 3.5}, "clip_too_short", id="half-a-second"),
    pytest.param({"start_seconds": 3, "end_seconds": 3.999}, "clip_too_short", id="just-under-a-second"),
    pytest.param({"start_seconds": 10, "end_seconds": 21}, "invalid_range", id="end-past-the-recording"),
    pytest.param({"start_seconds": 30, "end_seconds": 40}, "invalid_range", id="start-past-the-recording"),
    pytest.param({"mode": "fast"}, "invalid_mode", id="mode-fast"),
    pytest.param({"mode": "BROWSER"}, "invalid_mode", id="mode-uppercase"),
    pytest.param({"mode": None}, "invalid_mode", id="mode-null"),
    pytest.param({"precise": "yes"}, "invalid_precise", id="precise-yes"),
    pytest.param({"precise": 1}, "invalid_precise", id="precise-one"),
    pytest.param({"precise": None}, "invalid_precise", id="precise-null"),
]


def test_bad_fields_are_400_and_create_nothing(app, as_a, recording, subtests):
    # One app and login for every case (subtests): nothing is created, so the cases cannot interfere.
    for case in BAD_FIELDS:
        changes, code = case.values
        with subtests.test(case.id):
            body = {"type": "meet", "id": recording.id, "start_seconds": 3, "end_seconds": 13, "mode": "browser"}
            body.update(changes)
            body = {name: value for name, value in body.items() if value is not MISSING}

            response = as_a.post(CLIPS_URL, json=body)

            assert_json_error(response, 400, code)
            assert clip_count() == 0
            assert local_clip_files(app) == []


BAD_BODIES = [
    pytest.param("not json", "invalid_json", id="not-json"),
    pytest.param("", "invalid_json", id="empty"),
    pytest.param("[1, 2]", "invalid_json", id="array"),
    pytest.param('"a clip please"', "invalid_json", id="string"),
    pytest.param("null", "invalid_json", id="null"),
    pytest.param("42", "invalid_json", id="number"),
    pytest.param('{"type": "meet", "id": RID, "start_seconds": 3', "invalid_json", id="truncated"),
    # Python's JSON parser takes these non-standard literals; they must not become seconds.
    pytest.param('{"type": "meet", "id": RID, "start_seconds": NaN, "end_seconds": 13}',
                 "invalid_start_seconds", id="NaN-literal"),
    pytest.param('{"type": "meet", "id": RID, "start_seconds": 3, "end_seconds": Infinity}',
                 "invalid_end_seconds", id="Infinity-literal"),
    pytest.param('{"type": "meet", "id": RID, "start_seconds": -Infinity, "end_seconds": 13}',
                 "invalid_start_seconds", id="minus-Infinity-literal"),
    pytest.param('{"type": "meet", "id": RID, "start_seconds": 3, "end_seconds": 1e400}',
                 "invalid_end_seconds", id="overflowing-exponent"),
]


def test_bad_bodies_are_400_and_create_nothing(app, as_a, recording, subtests):
    for case in BAD_BODIES:
        raw, code = case.values
        with subtests.test(case.id):
            response = as_a.post(CLIPS_URL, data=raw.replace("RID", str(recording.id)),
                                 content_type="application/json")

            assert_json_error(response, 400, code)
            assert clip_count() == 0


def test_a_form_body_is_400_and_creates_nothing(app, as_a, recording):
    response = as_a.post(CLIPS_URL, data={"type": "meet", "id": str(recording.id), "start_seconds": "3",
                                          "end_seconds": "13"})

    assert_json_error(response, 400, "invalid_json")
    assert clip_count() == 0


def test_clips_longer_than_the_default_600_seconds_are_refused(app, as_a, people, media_dir):
    long_recording = make_recording(owner=people["a"], file=media_dir / "sample.mp4", duration_seconds=3600)

    too_long = create(as_a, long_recording, 0, 600.5)
    longest = create(as_a, long_recording, 0, 600)

    assert_json_error(too_long, 400, "clip_too_long")
    assert created(longest)["clip"]["end_seconds"] == 600.0
    assert clip_count() == 1


@pytest.mark.parametrize("app_config", [{"CLIP_MAX_SECONDS": 5}])
def test_clip_max_seconds_is_configurable(app, as_a, recording):
    too_long = create(as_a, recording, 3, 8.01)

    body = assert_json_error(too_long, 400, "clip_too_long")
    assert "5 seconds" in body["error"]["message"]
    assert clip_count() == 0
    assert created(create(as_a, recording, 3, 8))["clip"]["end_seconds"] == 8.0
    assert clip_count() == 1


def test_server_mode_does_not_create_a_browser_upload(app, as_a, recording):
    response = as_a.post(CLIPS_URL, json={"type": "meet", "id": recording.id, "start_seconds": 3,
                                          "end_seconds": 13, "mode": "server"})

    assert response.status_code != 201, response.get_data(as_text=True)
    assert "upload" not in (response.get_json() or {})
    db.session.expire_all()
    assert db.session.query(RecordingClip).filter_by(status="awaiting_upload").count() == 0
    assert db.session.query(RecordingClip).filter_by(mode="browser").count() == 0


def test_a_recording_whose_file_is_missing_gets_no_clip_row(app, as_a, people):
    ghost = make_recording(owner=people["a"])  # a key with no object behind it

    response = create(as_a, ghost, 3, 13)

    assert_json_error(response, 404, "media_missing")
    assert clip_count() == 0


# --- who may clip what ---------------------------------------------------------------------

def test_anonymous_is_401_json_everywhere(app, client, as_a, recording):
    clip, _upload, _row = new_clip(as_a, recording)
    clip_url = f"{CLIPS_URL}/{clip['id']}"

    responses = [
        create(client, recording, 3, 13),
        client.get(f"{CLIPS_URL}?type=meet&id={recording.id}"),
        client.get(clip_url),
        client.post(f"{clip_url}/complete"),
        client.get(f"{clip_url}/download"),
        client.delete(clip_url),
    ]

    for response in responses:
        assert_json_error(response, 401, "unauthorized")
    assert clip_count() == 1
    assert clip_row(clip["id"]).status == "awaiting_upload"


def test_unsafe_requests_need_the_csrf_token(app, as_a, recording):
    clip, _upload, _row = new_clip(as_a, recording)
    body = {"type": "meet", "id": recording.id, "start_seconds": 3, "end_seconds": 13, "mode": "browser"}

    create_without = as_a.flask.post(CLIPS_URL, json=body)
    create_forged = as_a.post(CLIPS_URL, json=body, headers={"X-CSRFToken": "forged"})
    complete_without = as_a.flask.post(f"{CLIPS_URL}/{clip['id']}/complete")
    delete_without = as_a.flask.delete(f"{CLIPS_URL}/{clip['id']}")

    for response in (create_without, create_forged, complete_without, delete_without):
        assert_json_error(response, 400, "csrf_failed")
    assert clip_count() == 1
    assert clip_row(clip["id"]).status == "awaiting_upload"


def test_a_member_cannot_clip_another_members_recording(app, login, people, recording):
    response = create(login(people["b"]), recording, 3, 13)

    assert_json_error(response, 404, "not_found")
    assert clip_count() == 0


@pytest.mark.parametrize("actor", ["a", "admin"])
def test_nobody_can_clip_a_djdash_recording(actor, app, login, people, media_dir):
    djdash = make_recording(owner=people["a"], product="djdash", file=media_dir / "sample.mp4")

    response = create(login(people[actor]), djdash, 3, 13)

    assert_json_error(response, 404, "not_found")
    assert clip_count() == 0


def test_a_member_cannot_clip_a_voice_call_even_their_own(app, as_a, people, media_dir):
    call = make_recording("voice", owner=people["a"], file=media_dir / "sample.m4a")

    response = create(as_a, call, 3, 13)

    assert_json_error(response, 404, "not_found")
    assert clip_count() == 0


def test_a_missing_recording_is_404(app, as_a, recording):
    response = as_a.post(CLIPS_URL, json={"type": "meet", "id": recording.id + 1000, "start_seconds": 3,
                                          "end_seconds": 13, "mode": "browser"})

    assert_json_error(response, 404, "not_found")
    assert clip_count() == 0


def test_a_super_admin_clips_a_voice_call_into_an_m4a(app, login, people, media_dir, cuts):
    call = make_recording("voice", owner=people["a"], file=media_dir / "sample.m4a", title="Support call")
    admin = login(people["admin"])

    clip, upload, row = new_clip(admin, call, 3, 13)

    assert clip["type"] == "voice" and clip["recording_id"] == call.id
    assert upload["fields"]["key"].endswith(".m4a") and UPLOAD_KEY.match(upload["fields"]["key"])
    assert upload["fields"]["Content-Type"] == "audio/mp4"
    assert row.storage_key == upload["fields"]["key"] and row.user_id == people["admin"].id
    assert upload_local(admin, upload, cuts["voice10s"], filename="clip.m4a").status_code == 204
    done = admin.post(f"{CLIPS_URL}/{clip['id']}/complete")
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["clip"]["status"] == "ready"
    assert done.get_json()["clip"]["size_bytes"] == cuts["voice10s"].stat().st_size
    download = admin.get(f"{CLIPS_URL}/{clip['id']}/download")
    assert download.status_code == 302
    status, headers, data = fetch(admin, download.headers["Location"])
    assert status == 200 and data == cuts["voice10s"].read_bytes()
    assert headers["Content-Type"] == "audio/mp4"
    assert headers["Content-Disposition"] == ("attachment; filename=\"Support call 0.03-0.13.m4a\"; "
                                              "filename*=UTF-8''Support%20call%200.03%E2%80%930.13.m4a")


def test_a_super_admin_clips_a_members_meet_and_the_member_sees_it(app, login, people, recording, cuts, send):
    clip = ready_clip(login(people["admin"]), recording, cuts["10s"], send)

    listed = login(people["a"]).get(f"{CLIPS_URL}?type=meet&id={recording.id}")

    assert listed.status_code == 200
    assert [c["id"] for c in listed.get_json()["clips"]] == [clip["id"]]


# --- the upload's size limit -----------------------------------------------------------------

def test_the_upload_limit_is_the_bitrate_times_the_length_with_a_margin(app, as_a, people, media_dir, tmp_path):
    # 100 MB over an hour: a 10 s clip may have 100e6 / 3600 * 10 * 1.5 + 2e6 bytes.
    hour = make_recording(owner=people["a"], file=media_dir / "sample.mp4", size_bytes=100_000_000,
                          duration_seconds=3600)
    limit = int(100_000_000 / 3600 * 10 * 1.5 + 2_000_000)

    clip, upload, row = new_clip(as_a, hour, 100, 110)

    assert row.upload_max_bytes == limit == 2_416_666
    one_more = tmp_path / "one-more.bin"
    one_more.write_bytes(b"\0" * (limit + 1))
    response = upload_local(as_a, upload, one_more)
    assert_json_error(response, 413, "too_large")
    assert stored(row.storage_key) is None
    assert local_clip_files(app) == []  # no temporary file left either
    exactly = tmp_path / "exactly.bin"
    exactly.write_bytes(b"\0" * limit)
    assert upload_local(as_a, upload, exactly).status_code == 204
    assert stored(row.storage_key).size == limit


def test_the_upload_limit_is_never_more_than_the_source(app, as_a, recording, media_dir, tmp_path):
    source_size = (media_dir / "sample.mp4").stat().st_size
    assert source_size / 20 * 10 * 1.5 + 2_000_000 > source_size  # a small source: the margin would pass it

    clip, upload, row = new_clip(as_a, recording, 3, 13)

    assert row.upload_max_bytes == source_size
    bigger = tmp_path / "bigger-than-source.bin"
    bigger.write_bytes(b"\0" * (source_size + 1))
    assert_json_error(upload_local(as_a, upload, bigger), 413, "too_large")
    assert stored(row.storage_key) is None


def test_the_upload_limit_of_an_external_source_of_unknown_size_is_the_browser_trim_maximum(cdn, app, as_a, people):
    external = make_recording(owner=people["a"], url=cdn.url("/rec/standup.mp4"))

    _clip, _upload, row = new_clip(as_a, external, 3, 13)

    assert row.upload_max_bytes == app.config["BROWSER_TRIM_MAX_BYTES"]


# --- the local backend's presigned POST refuses what its policy does not allow ----------------

def test_local_upload_refuses_another_content_type(app, as_a, recording, cuts):
    clip, upload, row = new_clip(as_a, recording)

    response = upload_local(as_a, upload, cuts["10s"], fields={"Content-Type": "text/html"})

    assert_json_error(response, 403, "policy_content_type")
    assert stored(row.storage_key) is None
    completed = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")
    assert completed.status_code == 422
    assert completed.get_json()["clip"]["status"] == "failed"


def test_local_upload_refuses_a_key_outside_its_policy(app, as_a, people, recording, media_dir, cuts):
    other = make_recording(owner=people["a"], file=media_dir / "sample.mp4")
    x, x_upload, x_row = new_clip(as_a, recording)
    _y, y_upload, y_row = new_clip(as_a, other)

    to_y_key = upload_local(as_a, x_upload, cuts["10s"], fields={"key": y_row.storage_key})
    to_recording = upload_local(as_a, x_upload, cuts["10s"], fields={"key": recording.recording_url})

    assert_json_error(to_y_key, 403, "policy_key")
    assert_json_error(to_recording, 403, "policy_key")
    assert stored(y_row.storage_key) is None and stored(x_row.storage_key) is None
    assert stored(recording.recording_url).size == (media_dir / "sample.mp4").stat().st_size
    # The bytes meant for Y are fine under X's own key: the server checks what arrived, not where it came from.
    assert upload_local(as_a, x_upload, cuts["10s"]).status_code == 204
    assert as_a.post(f"{CLIPS_URL}/{x['id']}/complete").status_code == 200


def test_local_upload_refuses_a_tampered_policy(app, as_a, recording, cuts):
    _clip, upload, row = new_clip(as_a, recording)
    tampered = {**upload, "url": upload["url"][:-3] + ("AAA" if not upload["url"].endswith("AAA") else "BBB")}

    response = upload_local(as_a, tampered, cuts["10s"])

    assert_json_error(response, 403, "bad_signature")
    assert stored(row.storage_key) is None


# --- completing: the server checks what arrived -------------------------------------------------

@pytest.mark.parametrize("backend", ["local", "s3"])
def test_an_upload_after_complete_cannot_replace_the_checked_clip(backend, app, as_a, recording, send, cuts):
    """The presigned POST lives on after complete: what was checked is a copy it cannot reach."""
    clip, upload, row = new_clip(as_a, recording, 3, 13)
    upload_key = row.storage_key
    assert send(as_a, upload, cuts["10s"]) == 204
    assert as_a.post(f"{CLIPS_URL}/{clip['id']}/complete").status_code == 200
    ready = clip_row(clip["id"])
    assert ready.storage_key != upload_key and stored(upload_key) is None

    assert send(as_a, upload, cuts["garbage"]) == 204  # the same, still valid, presigned POST

    download = as_a.get(f"{CLIPS_URL}/{clip['id']}/download")
    _status, _headers, data = fetch(as_a, download.headers["Location"])
    assert data == cuts["10s"].read_bytes()
    assert clip_row(clip["id"]).storage_key == ready.storage_key


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_complete_marks_a_real_clip_ready_and_it_downloads(backend, app, as_a, recording, send, cuts):
    clip, upload, row = new_clip(as_a, recording, 3, 13)
    assert send(as_a, upload, cuts["10s"]) == 204
    size = cuts["10s"].stat().st_size

    response = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")

    assert response.status_code == 200, response.get_data(as_text=True)
    done = response.get_json()["clip"]
    assert CLIP_FIELDS <= set(done)
    assert done["status"] == "ready" and done["error"] is None
    assert done["size_bytes"] == size
    assert abs(done["duration_seconds"] - 10) <= 2.5
    assert done["links"]["download"] == f"{CLIPS_URL}/{clip['id']}/download"
    row = clip_row(clip["id"])
    assert (row.status, row.size_bytes, row.clip_url) == ("ready", size, row.storage_key)
    assert stored(row.storage_key).size == size

    download = as_a.get(f"{CLIPS_URL}/{clip['id']}/download")
    assert download.status_code == 302
    assert download.headers["Cache-Control"] == "no-store"
    status, headers, data = fetch(as_a, download.headers["Location"])
    assert status == 200 and data == cuts["10s"].read_bytes()
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert 'filename="Weekly standup 0.03-0.13.mp4"' in disposition

    play = as_a.get(f"{CLIPS_URL}/{clip['id']}/play")
    assert play.status_code == 302
    status, headers, data = fetch(as_a, play.headers["Location"])
    assert status == 200 and data == cuts["10s"].read_bytes()
    assert headers["Content-Disposition"].startswith("inline; filename=")

    again = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")
    assert again.status_code == 200 and again.get_json() == {"clip": done}
    assert clip_row(clip["id"]).status == "ready"


def assert_rejected(response, clip_id, reason):
    """422 with the failed clip in the body, the row failed with the reason, the object gone."""
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error", "clip"}
    assert body["error"]["code"] == "clip_rejected"
    assert re.search(reason, body["error"]["message"]), body["error"]["message"]
    assert body["clip"]["id"] == clip_id and body["clip"]["status"] == "failed"
    assert body["clip"]["error"] == body["error"]["message"]
    assert "download" not in body["clip"]["links"]
    row = clip_row(clip_id)
    assert row.status == "failed" and row.error == body["error"]["message"]
    assert stored(row.storage_key) is None
    return body


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_complete_rejects_garbage_and_deletes_it(backend, app, as_a, recording, send, cuts):
    clip, upload, row = new_clip(as_a, recording)
    assert send(as_a, upload, cuts["garbage"]) == 204
    assert stored(row.storage_key).size == cuts["garbage"].stat().st_size

    response = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")

    assert_rejected(response, clip["id"], "cannot be played")
    again = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")
    assert again.status_code == 422 and again.get_json()["clip"]["status"] == "failed"
    assert_json_error(as_a.get(f"{CLIPS_URL}/{clip['id']}/download"), 409, "not_ready")


def test_complete_without_an_upload_fails_the_clip(app, as_a, recording):
    clip, _upload, _row = new_clip(as_a, recording)

    response = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")

    assert_rejected(response, clip["id"], "Nothing was uploaded")


@pytest.mark.parametrize("start, end, cut_name, reason", [
    pytest.param(3, 13, "18s", r"lasts 1[78]\.\d s, but 10\.0 s", id="18s-for-10s"),
    pytest.param(3, 5, "10s", r"but 2\.0 s were asked for", id="10s-for-2s"),
    pytest.param(3, 13, "voice10s", "no video", id="audio-for-a-video-clip"),
])
def test_complete_rejects_a_clip_that_is_not_what_was_asked(start, end, cut_name, reason, app, as_a, recording,
                                                             cuts):
    clip, upload, _row = new_clip(as_a, recording, start, end)
    assert upload_local(as_a, upload, cuts[cut_name]).status_code == 204

    response = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")

    assert_rejected(response, clip["id"], reason)


def test_a_clip_cannot_be_completed_twice_into_a_different_answer(app, as_a, recording, cuts):
    """A failed clip stays failed, even when a valid file arrives afterwards."""
    clip, upload, row = new_clip(as_a, recording)
    assert_rejected(as_a.post(f"{CLIPS_URL}/{clip['id']}/complete"), clip["id"], "Nothing was uploaded")
    upload_local(as_a, upload, cuts["10s"])

    response = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")

    assert response.status_code == 422 and response.get_json()["clip"]["status"] == "failed"
    assert clip_row(clip["id"]).status == "failed"


def test_complete_of_someone_elses_clip_is_404_and_changes_nothing(app, as_a, login, people, recording, cuts):
    clip, upload, row = new_clip(as_a, recording)
    assert upload_local(as_a, upload, cuts["garbage"]).status_code == 204

    response = login(people["b"]).post(f"{CLIPS_URL}/{clip['id']}/complete")

    assert_json_error(response, 404, "not_found")
    assert clip_row(clip["id"]).status == "awaiting_upload"
    assert stored(row.storage_key) is not None


def test_complete_of_a_deleted_clip_is_404(app, as_a, recording, cuts):
    clip, upload, row = new_clip(as_a, recording)
    key = row.storage_key
    assert upload_local(as_a, upload, cuts["10s"]).status_code == 204
    assert as_a.delete(f"{CLIPS_URL}/{clip['id']}").status_code == 204

    response = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")

    assert_json_error(response, 404, "not_found")
    assert clip_count() == 0 and stored(key) is None


def test_unknown_clip_ids_are_404(app, as_a):
    for clip_id in ("nope", "0" * 32, "A" * 32, "..%2F..%2Fetc", "0" * 33):
        for response in (as_a.get(f"{CLIPS_URL}/{clip_id}"), as_a.post(f"{CLIPS_URL}/{clip_id}/complete"),
                         as_a.get(f"{CLIPS_URL}/{clip_id}/download"), as_a.delete(f"{CLIPS_URL}/{clip_id}")):
            assert_json_error(response, 404, "not_found")


# --- S3: what moto does not enforce, complete still checks --------------------------------------

@pytest.mark.parametrize("backend", ["s3"])
def test_s3_create_signs_a_post_limited_in_size_and_type(backend, app, as_a, recording, media_dir, s3_endpoint,
                                                         s3_bucket):
    clip, upload, row = new_clip(as_a, recording)

    assert upload["url"].startswith(s3_endpoint)
    assert upload["fields"]["key"] == row.storage_key and UPLOAD_KEY.match(row.storage_key)
    assert upload["fields"]["Content-Type"] == "video/mp4"
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    assert {"Content-Type": "video/mp4"} in policy["conditions"]
    assert ["content-length-range", 1, row.upload_max_bytes] in policy["conditions"]
    assert {"bucket": s3_bucket} in policy["conditions"] and {"key": row.storage_key} in policy["conditions"]
    assert row.upload_max_bytes == (media_dir / "sample.mp4").stat().st_size


@pytest.mark.parametrize("backend", ["s3"])
def test_s3_complete_rejects_the_wrong_content_type(backend, app, as_a, recording, cuts):
    clip, upload, row = new_clip(as_a, recording)
    assert upload_s3(upload, cuts["10s"], fields={"Content-Type": "text/html"}).status_code == 204
    assert stored(row.storage_key).content_type == "text/html"

    response = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")

    assert_rejected(response, clip["id"], "text/html, not video/mp4")


@pytest.mark.parametrize("backend", ["s3"])
def test_s3_complete_rejects_an_object_over_the_limit(backend, app, as_a, people, media_dir, tmp_path):
    hour = make_recording(owner=people["a"], file=media_dir / "sample.mp4", size_bytes=100_000_000,
                          duration_seconds=3600)
    clip, upload, row = new_clip(as_a, hour, 100, 110)
    too_big = tmp_path / "too-big-for-s3.bin"
    too_big.write_bytes(b"\0" * (row.upload_max_bytes + 1))
    assert upload_s3(upload, too_big).status_code == 204  # moto does not enforce content-length-range

    response = as_a.post(f"{CLIPS_URL}/{clip['id']}/complete")

    assert_rejected(response, clip["id"], f"more than the {row.upload_max_bytes} allowed")


# --- listing ---------------------------------------------------------------------------------

def test_list_shows_the_recordings_clips_newest_first(app, as_a, people, recording, media_dir, cuts, send):
    other = make_recording(owner=people["a"], file=media_dir / "sample.mp4")
    first = ready_clip(as_a, recording, cuts["10s"], send, 1, 11)
    elsewhere = ready_clip(as_a, other, cuts["10s"], send, 1, 11)
    second = ready_clip(as_a, recording, cuts["10s"], send, 6, 16)
    new_clip(as_a, recording, 2, 4)  # an upload in progress is the editor's own business: not listed

    response = as_a.get(f"{CLIPS_URL}?type=meet&id={recording.id}")

    assert response.status_code == 200
    clips = response.get_json()["clips"]
    assert [c["id"] for c in clips] == [second["id"], first["id"]]
    assert clips == [second, first]
    assert [c["id"] for c in as_a.get(f"{CLIPS_URL}?type=meet&id={other.id}").get_json()["clips"]] == [elsewhere["id"]]


LIST_QUERIES = [
    ("type=meet&id={own}", 200, None),
    ("type=meet&id={other}", 404, "not_found"),
    ("type=voice&id={own}", 404, "not_found"),
    ("type=video&id={own}", 400, "invalid_type"),
    ("id={own}", 400, "invalid_type"),
    ("type=meet", 400, "invalid_id"),
    ("type=meet&id=x", 400, "invalid_id"),
    ("type=meet&id=0", 400, "invalid_id"),
]


def test_list_query_checks(app, as_a, people, recording, subtests):
    b_recording = make_recording(owner=people["b"])

    for query, status, code in LIST_QUERIES:
        with subtests.test(query):
            response = as_a.get(f"{CLIPS_URL}?{query.format(own=recording.id, other=b_recording.id)}")

            if code is None:
                assert response.status_code == 200 and response.get_json() == {"clips": []}
            else:
                assert_json_error(response, status, code)


def test_the_recordings_list_carries_ready_and_failed_clips_only(app, as_a, people, recording, media_dir, cuts,
                                                                  send):
    other = make_recording(owner=people["a"], file=media_dir / "sample.mp4")
    ready = ready_clip(as_a, recording, cuts["10s"], send)
    failed, _upload, _row = new_clip(as_a, recording)
    assert as_a.post(f"{CLIPS_URL}/{failed['id']}/complete").status_code == 422
    waiting, _upload, _row = new_clip(as_a, recording)

    response = as_a.get("/api/livekit/recordings?type=meet")

    assert response.status_code == 200
    by_id = {r["id"]: r for r in response.get_json()["recordings"]}
    assert set(by_id) == {recording.id, other.id}
    listed = by_id[recording.id]["clips"]
    assert [c["id"] for c in listed] == [failed["id"], ready["id"]]
    assert [c["status"] for c in listed] == ["failed", "ready"]
    assert listed[1] == ready
    assert waiting["id"] not in {c["id"] for c in listed}
    assert by_id[other.id]["clips"] == []
    # The clip list of the recording itself says the same (one definition: states.LISTED).
    own_list = as_a.get(f"{CLIPS_URL}?type=meet&id={recording.id}").get_json()["clips"]
    assert own_list == listed


# --- downloading and deleting ------------------------------------------------------------------

def test_download_of_a_clip_that_is_not_ready_is_409(app, as_a, recording):
    clip, _upload, _row = new_clip(as_a, recording)

    response = as_a.get(f"{CLIPS_URL}/{clip['id']}/download")

    assert_json_error(response, 409, "not_ready")


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_delete_removes_the_row_and_the_object(backend, app, as_a, recording, cuts, send):
    clip = ready_clip(as_a, recording, cuts["10s"], send)
    key = clip_row(clip["id"]).storage_key
    assert stored(key) is not None

    response = as_a.delete(f"{CLIPS_URL}/{clip['id']}")

    assert response.status_code == 204 and response.get_data() == b""
    assert clip_row(clip["id"]) is None and clip_count() == 0
    assert stored(key) is None
    assert_json_error(as_a.get(f"{CLIPS_URL}/{clip['id']}"), 404, "not_found")
    assert stored(recording.recording_url) is not None  # the source is never touched


def test_delete_of_a_clip_that_was_never_uploaded(app, as_a, recording):
    clip, _upload, _row = new_clip(as_a, recording)

    response = as_a.delete(f"{CLIPS_URL}/{clip['id']}")

    assert response.status_code == 204
    assert clip_count() == 0


def test_another_member_can_neither_see_download_nor_delete_a_clip(app, as_a, login, people, recording, cuts, send):
    clip = ready_clip(as_a, recording, cuts["10s"], send)
    key = clip_row(clip["id"]).storage_key
    as_b = login(people["b"])

    for response in (as_b.get(f"{CLIPS_URL}/{clip['id']}"), as_b.get(f"{CLIPS_URL}/{clip['id']}/download"),
                     as_b.delete(f"{CLIPS_URL}/{clip['id']}")):
        assert_json_error(response, 404, "not_found")
    assert clip_row(clip["id"]).status == "ready"
    assert stored(key).size == cuts["10s"].stat().st_size


def test_a_super_admin_can_delete_a_members_clip(app, as_a, login, people, recording, cuts, send):
    clip = ready_clip(as_a, recording, cuts["10s"], send)
    key = clip_row(clip["id"]).storage_key

    response = login(people["admin"]).delete(f"{CLIPS_URL}/{clip['id']}")

    assert response.status_code == 204
    assert clip_count() == 0 and stored(key) is None


# --- where the browser reads the source ----------------------------------------------------------

@pytest.mark.parametrize("backend", ["local", "s3"])
def test_source_url_of_a_stored_recording_serves_its_bytes(backend, app, as_a, recording, media_dir):
    body = created(create(as_a, recording))

    status, headers, data = fetch(as_a, body["source_url"])

    assert status == 200
    assert data == (media_dir / "sample.mp4").read_bytes()
    assert headers["Content-Disposition"].startswith("inline")


def test_source_url_of_an_external_recording_is_the_same_origin_play_url(cdn, app, as_a, people):
    external = make_recording(owner=people["a"], url=cdn.url("/rec/standup.mp4"))

    body = created(create(as_a, external))

    source = urlsplit(body["source_url"])
    assert source.scheme == "" and source.netloc == ""
    assert source.path == "/api/livekit/recordings/play"
    assert parse_qs(source.query) == {"type": ["meet"], "id": [str(external.id)]}


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_play_as_json_gives_the_source_url_its_size_and_lifetime(backend, app, as_a, recording, media_dir):
    response = as_a.get(f"/api/livekit/recordings/play?type=meet&id={recording.id}&format=json")

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"url", "size_bytes", "expires_in", "container"}
    assert body["container"] == "mp4"  # the editor reads an MP4 by ranges
    assert body["size_bytes"] == (media_dir / "sample.mp4").stat().st_size
    assert body["expires_in"] == app.config["SIGNED_URL_TTL"] == 600
    status, _headers, data = fetch(as_a, body["url"])
    assert status == 200 and data == (media_dir / "sample.mp4").read_bytes()


def test_play_as_json_of_an_external_recording_points_at_the_proxy(app, as_a, people):
    external = make_recording(owner=people["a"], url="https://cdn.example.com/rec/standup.mp4")

    response = as_a.get(f"/api/livekit/recordings/play?type=meet&id={external.id}&format=json")

    assert response.status_code == 200
    assert response.get_json() == {"url": f"/api/livekit/recordings/play?type=meet&id={external.id}",
                                   "size_bytes": None, "expires_in": 600, "container": "mp4"}


def test_play_as_json_follows_the_scope(app, login, people, recording):
    response = login(people["b"]).get(f"/api/livekit/recordings/play?type=meet&id={recording.id}&format=json")

    assert_json_error(response, 404, "not_found")
