"""How many clips a person may start, `complete` made atomic, and who may finish or delete a clip
(security review, findings 6, 7 and 12)."""
import threading

import pytest
from playwright.sync_api import expect

from tests.assertions import assert_json_error
from tests.clip_helpers import CLIPS_URL, clip_row, create, cut, upload_local
from tests.conftest import log_in
from tests.factories import make_recording, make_user
from webapp.storage import get_storage


@pytest.fixture
def recording(member, media_dir):
    return make_recording(owner=member, file=media_dir / "sample.mp4", title="Weekly standup")


@pytest.fixture(scope="module")
def ten_seconds(media_dir, tmp_path_factory):
    return cut(media_dir / "sample.mp4", tmp_path_factory.mktemp("limits") / "ten.mp4", 3, 10)


def server_clip(client, recording):
    return client.post(CLIPS_URL, json={"type": "meet", "id": recording.id, "start_seconds": 1, "end_seconds": 5,
                                        "mode": "server"})


def assert_too_many(response, code="too_many_clips"):
    body = assert_json_error(response, 429, code)
    assert int(response.headers["Retry-After"]) >= 1
    return body["error"]["message"]


# --- the rate of new clips -----------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"CLIP_RATE_LIMIT": "3 per minute"}])
def test_clip_creation_is_rate_limited_per_person(app, login, member, recording, media_dir):
    client = login(member)
    assert create(client, recording).status_code == 201
    assert create(client, recording, 5, 2).status_code == 400  # a mistake is not a clip: not counted
    assert create(client, recording).status_code == 201
    assert create(client, recording).status_code == 201

    message = assert_too_many(create(client, recording), "rate_limited")
    assert "Wait a minute" in message

    other = make_user("other@example.com")
    theirs = make_recording(owner=other, file=media_dir / "sample.mp4")
    assert create(login(other), theirs).status_code == 201  # one person's limit is theirs alone


# --- uploads authorised and not yet made ------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{"CLIP_PENDING_UPLOADS_MAX": 2}])
def test_pending_uploads_are_capped_until_one_is_completed(app, login, member, recording, ten_seconds):
    client = login(member)
    first = create(client, recording).get_json()
    assert create(client, recording).status_code == 201

    message = assert_too_many(create(client, recording))
    assert "2 clips waiting for their upload" in message
    retry_after = int(create(client, recording).headers["Retry-After"])
    assert app.config["SIGNED_URL_TTL"] - 5 <= retry_after <= app.config["SIGNED_URL_TTL"]

    assert upload_local(client, first["upload"], ten_seconds).status_code == 204
    assert client.post(f"{CLIPS_URL}/{first['clip']['id']}/complete").status_code == 200
    assert create(client, recording).status_code == 201


@pytest.mark.parametrize("app_config", [{"CLIP_PENDING_UPLOAD_BYTES_MAX": 10_000_000}])
def test_pending_upload_bytes_are_capped(app, login, member, media_dir):
    big = make_recording(owner=member, file=media_dir / "sample.mp4", size_bytes=8_000_000, duration_seconds=20.0)
    client = login(member)
    assert create(client, big, 0, 10).status_code == 201  # may upload 8 MB / 20 s × 10 s × 1.5 + 2 MB = 8 MB
    assert_too_many(create(client, big, 0, 10))


@pytest.mark.parametrize("app_config", [{"CLIP_SERVER_JOBS_MAX": 1}])
def test_server_jobs_in_flight_are_capped_per_person(app, login, member, admin, recording):
    assert server_clip(login(member), recording).status_code == 202
    message = assert_too_many(server_clip(login(member), recording))
    assert "being cut on the server" in message
    assert server_clip(login(admin), recording).status_code == 202  # someone else's jobs do not count


# --- complete, once --------------------------------------------------------------------------------

def test_two_completes_at_once_check_the_clip_once(app, login, member, recording, ten_seconds):
    client = login(member)
    body = create(client, recording).get_json()
    assert upload_local(client, body["upload"], ten_seconds).status_code == 204
    complete = f"{CLIPS_URL}/{body['clip']['id']}/complete"

    storage = get_storage()
    real_copy = storage.copy
    first_is_checking, second_answered = threading.Event(), threading.Event()

    def copy_while_the_other_call_runs(source, target):
        first_is_checking.set()
        second_answered.wait(10)
        return real_copy(source, target)

    storage.copy = copy_while_the_other_call_runs
    answers = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", client.post(complete)))
    first.start()
    try:
        assert first_is_checking.wait(10)
        answers["second"] = client.post(complete)
    finally:
        second_answered.set()
        first.join(30)
        del storage.copy

    assert_json_error(answers["second"], 409, "already_checking")
    assert answers["first"].status_code == 200
    row = clip_row(body["clip"]["id"])
    assert row.status == "ready"
    assert storage.head(row.storage_key) is not None
    assert client.post(complete).status_code == 200  # and once ready, complete is idempotent


# --- who may finish or delete a clip ---------------------------------------------------------------------

def test_only_the_creator_completes_a_clip(app, login, member, admin, recording, ten_seconds):
    as_admin = login(admin)
    body = create(as_admin, recording).get_json()  # a super admin clips the member's recording
    assert upload_local(as_admin, body["upload"], ten_seconds).status_code == 204
    complete = f"{CLIPS_URL}/{body['clip']['id']}/complete"

    assert_json_error(login(member).post(complete), 403, "not_your_clip")
    assert_json_error(login(make_user("admin2@example.com", super_admin=True)).post(complete), 403, "not_your_clip")
    assert clip_row(body["clip"]["id"]).status == "awaiting_upload"  # nobody else could fail it
    assert as_admin.post(complete).status_code == 200


def test_a_clip_is_deleted_by_its_creator_the_recordings_owner_or_a_super_admin(app, login, member, admin,
                                                                                recording):
    stranger = make_user("stranger@example.com")
    by_admin = create(login(admin), recording).get_json()["clip"]["id"]
    by_member = create(login(member), recording).get_json()["clip"]["id"]
    another = create(login(member), recording).get_json()["clip"]["id"]

    assert_json_error(login(stranger).delete(f"{CLIPS_URL}/{by_member}"), 404, "not_found")  # not even visible
    assert login(member).delete(f"{CLIPS_URL}/{by_admin}").status_code == 204  # the recording's owner
    assert login(member).delete(f"{CLIPS_URL}/{by_member}").status_code == 204  # its creator
    assert login(admin).delete(f"{CLIPS_URL}/{another}").status_code == 204  # a super admin
    assert [clip_row(clip_id) for clip_id in (by_admin, by_member, another)] == [None, None, None]


# --- what the page says ------------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("app_config", [{"CLIP_SERVER_JOBS_MAX": 0}])
def test_the_page_says_why_a_clip_was_refused(app, live_server, page, member, recording):
    log_in(page, live_server, member.email)
    row = page.locator(".recording", has=page.get_by_role("heading", name="Weekly standup"))
    row.get_by_role("button", name="Create clip").click()
    row.get_by_label("Exact cut").check()
    row.get_by_role("button", name="Generate clip").click()
    expect(row.locator(".clip-message")).to_contain_text("being cut on the server", timeout=15_000)
