"""LiveKit Egress webhook: signature and body hash checked; egress_ended registers the recording."""
import base64
import hashlib
import json
import time

import jwt
import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.recordings.models import MeetRoom
from tests.assertions import assert_json_error
from tests.factories import make_recording, make_user

KEY, SECRET = "APIkey123", "secret-of-at-least-32-characters-long!!"


@pytest.fixture
def app_config():
    return {"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET}


def signed(body, *, key=KEY, secret=SECRET, sha=None, exp_in=600):
    claims = {"iss": key, "nbf": int(time.time()) - 5, "exp": int(time.time()) + exp_in,
              "sha256": sha or base64.b64encode(hashlib.sha256(body).digest()).decode()}
    return jwt.encode(claims, secret, algorithm="HS256")


def egress_event(room_name="standup-42", egress_id="EG_abc123", status="EGRESS_COMPLETE"):
    return {"event": "egress_ended", "id": "EV_1", "egressInfo": {
        "egressId": egress_id, "roomName": room_name, "status": status,
        "fileResults": [{"filename": "recordings/standup-42.mp4", "location": "recordings/standup-42.mp4",
                         "duration": "61500000000", "size": "7340032"}]}}


def post(client, event, token=None, raw=None):
    body = raw if raw is not None else json.dumps(event).encode()
    headers = {"Content-Type": "application/webhook+json"}
    if token is not False:
        headers["Authorization"] = token or signed(body)
    return client.flask.post("/api/livekit/webhook", data=body, headers=headers)


def count_rooms():
    return db.session.scalar(select(func.count()).select_from(MeetRoom))


def test_egress_ended_fills_the_rooms_recording(app, client):
    owner = make_user()
    room = make_recording(owner=owner, url=None, key=None, room_name="standup-42", title="Standup")
    room.recording_url = ""
    db.session.commit()
    response = post(client, egress_event())
    assert response.status_code == 200
    assert response.get_json() == {"status": "registered", "recording_id": room.id, "skipped": []}
    db.session.refresh(room)
    assert (room.recording_url, room.egress_id, room.duration_seconds, room.size_bytes) == (
        "recordings/standup-42.mp4", "EG_abc123", 61.5, 7340032)
    redelivered = post(client, egress_event())  # LiveKit retries: once is enough
    assert redelivered.get_json() == {"status": "already_registered", "recording_id": room.id}
    assert count_rooms() == 1


def test_a_second_recording_of_a_room_gets_its_own_row(app, client):
    owner = make_user()
    make_recording(owner=owner, room_name="standup-42", product="tipjar")
    assert post(client, egress_event(egress_id="EG_second")).get_json()["status"] == "registered"
    new = db.session.scalar(select(MeetRoom).where(MeetRoom.egress_id == "EG_second"))
    assert (new.owner_id, new.product, new.room_name) == (owner.id, "tipjar", "standup-42")


@pytest.mark.parametrize("event, expected", [
    (egress_event(status="EGRESS_ACTIVE"), "ignored"),
    ({"event": "room_finished", "room": {"name": "standup-42"}}, "ignored"),
])
def test_events_that_register_nothing(app, client, event, expected):
    make_recording(room_name="standup-42")
    before = count_rooms()
    response = post(client, event)
    assert response.status_code == 200 and response.get_json() == {"status": expected}
    assert count_rooms() == before


@pytest.mark.parametrize("make_token", [
    lambda body: False,                                   # no Authorization header
    lambda body: "not-a-jwt",
    lambda body: signed(body, secret="another-secret-of-32-characters-long!!"),
    lambda body: signed(body, key="someone-else"),
    lambda body: signed(body, sha=base64.b64encode(hashlib.sha256(b"other").digest()).decode()),
    lambda body: signed(body, exp_in=-3600),
])
def test_forged_or_tampered_webhooks_are_refused(app, client, make_token):
    make_recording(room_name="standup-42")
    body = json.dumps(egress_event()).encode()
    before = count_rooms()
    response = post(client, None, token=make_token(body), raw=body)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] in ("unauthorized", "bad_signature")
    assert count_rooms() == before


@pytest.mark.parametrize("raw", [b"{not json", b"[]", json.dumps({"event": "egress_ended"}).encode(),
                                 json.dumps({"event": "egress_ended", "egressInfo": {"egressId": "EG_1",
                                             "status": "EGRESS_COMPLETE", "fileResults": []}}).encode()])
def test_bad_bodies_are_400(app, client, raw):
    response = post(client, None, raw=raw)
    assert response.status_code == 400
    assert "error" in response.get_json()


@pytest.mark.parametrize("app_config", [{}], indirect=False)
def test_without_livekit_keys_the_webhook_is_off(app, client):
    body = json.dumps(egress_event()).encode()
    assert post(client, None, raw=body).status_code == 404


# --- no Egress file is lost (issue 13) -------------------------------------------------------------

def test_a_room_never_seen_becomes_a_recording_a_super_admin_sees_assigns_and_downloads(app, client, login,
                                                                                       media_dir):
    from webapp.storage import get_storage
    with (media_dir / "sample.mp4").open("rb") as fh:
        get_storage().put("recordings/standup-42.mp4", fh, content_type="video/mp4")
    admin, member = make_user(super_admin=True), make_user("member@example.com")

    response = post(client, egress_event(room_name="board-meeting"))

    assert response.get_json()["status"] == "registered"
    room = db.session.get(MeetRoom, response.get_json()["recording_id"])
    assert (room.owner_id, room.product, room.title, room.room_name) == (None, "tipjar", "board-meeting",
                                                                           "board-meeting")
    as_admin, as_member = login(admin), login(member)
    listed = as_admin.get("/api/livekit/recordings?type=meet").get_json()["recordings"]
    assert [(r["title"], r["owner"]) for r in listed] == [("board-meeting", None)]
    assert as_member.get("/api/livekit/recordings?type=meet").get_json()["recordings"] == []

    owner_url = f"/api/livekit/recordings/owner?type=meet&id={room.id}"
    assert as_member.patch(owner_url, json={"owner": member.email}).status_code == 404  # not even visible
    assigned = as_admin.patch(owner_url, json={"owner": member.email})
    assert assigned.status_code == 200 and assigned.get_json()["recording"]["owner"] == member.email
    assert [r["id"] for r in as_member.get("/api/livekit/recordings?type=meet").get_json()["recordings"]] == [room.id]
    download = as_member.get(f"/api/livekit/recordings/download?type=meet&id={room.id}")
    assert download.status_code == 302
    assert as_admin.patch(owner_url, json={"owner": "nobody@example.com"}).status_code == 400


@pytest.mark.parametrize("app_config", [{"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET,
                                         "LIVEKIT_DEFAULT_PRODUCT": "m10"}])
def test_the_default_product_is_configurable(app, client):
    response = post(client, egress_event(room_name="new-room"))
    assert db.session.get(MeetRoom, response.get_json()["recording_id"]).product == "m10"


@pytest.mark.parametrize("status", ["EGRESS_FAILED", "EGRESS_ABORTED"])
def test_a_failed_egress_is_recorded_for_super_admins(app, client, login, status):
    member = make_user("member@example.com")
    make_recording(owner=member, room_name="standup-42", title="Standup")
    event = egress_event(status=status, egress_id="EG_failed")
    event["egressInfo"]["error"] = "Start signal not received"

    response = post(client, event)

    assert response.get_json()["status"] == "failed_recorded"
    failed = db.session.get(MeetRoom, response.get_json()["recording_id"])
    assert failed.failure == f"The recording {status.removeprefix('EGRESS_').lower()}: Start signal not received"
    assert post(client, event).get_json()["status"] == "already_registered"
    admin_view = login(make_user(super_admin=True)).get("/api/livekit/recordings?type=meet").get_json()
    assert [r["failure"] for r in admin_view["recordings"]] == [failed.failure, None]
    member_view = login(member).get("/api/livekit/recordings?type=meet").get_json()
    assert [r["title"] for r in member_view["recordings"]] == ["Standup"]  # members see their playable ones
    download = login(make_user(super_admin=True)).get(f"/api/livekit/recordings/download?type=meet&id={failed.id}")
    assert download.status_code == 409 and download.get_json()["error"]["code"] == "recording_failed"


@pytest.mark.parametrize("app_config", [{"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET,
                                         "STORAGE_BACKEND": "s3", "S3_BUCKET": "egress-bucket",
                                         "S3_ENDPOINT_URL": "https://s3.eu-west-1.example.com",
                                         "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}])
def test_a_full_url_into_the_bucket_is_kept_as_its_key(app, client):
    event = egress_event(room_name="new-room")
    event["egressInfo"]["fileResults"][0]["location"] = \
        "https://s3.eu-west-1.example.com/egress-bucket/rooms/new-room/2026-11-30.mp4"
    response = post(client, event)
    assert db.session.get(MeetRoom, response.get_json()["recording_id"]).recording_url == \
        "rooms/new-room/2026-11-30.mp4"


def test_several_results_register_what_plays_and_say_what_was_skipped(app, client):
    event = egress_event(room_name="new-room")
    info = event["egressInfo"]
    info["fileResults"] = [{"location": "rooms/new-room/live.m3u8"}, {"location": "rooms/new-room/full.mp4",
                                                                      "duration": "1000000000"},
                           {"location": "rooms/new-room/audio.ogg"}]
    info["segmentResults"] = [{"playlistLocation": "rooms/new-room/segments.m3u8"}]

    body = post(client, event).get_json()

    assert body["status"] == "registered"
    assert db.session.get(MeetRoom, body["recording_id"]).recording_url == "rooms/new-room/full.mp4"
    assert body["skipped"] == ["rooms/new-room/live.m3u8: not a single playable file",
                               "rooms/new-room/audio.ogg: another file of the same egress",
                               "rooms/new-room/segments.m3u8: segment output is not played here"]


def test_a_segmented_egress_alone_registers_nothing_and_says_why(app, client):
    event = egress_event(room_name="new-room")
    event["egressInfo"]["fileResults"] = []
    event["egressInfo"]["segmentResults"] = [{"playlistLocation": "rooms/new-room/segments.m3u8"}]
    body = post(client, event).get_json()
    assert body == {"status": "nothing_playable",
                    "skipped": ["rooms/new-room/segments.m3u8: segment output is not played here"]}
    assert count_rooms() == 0


def test_recordings_assign_on_the_command_line(app, runner):
    member = make_user("member@example.com")
    room = make_recording(owner=None, room_name="board-meeting")
    result = runner.invoke(args=["recordings", "assign", str(room.id), "--owner", member.email])
    assert result.exit_code == 0 and "now belongs to member@example.com" in result.output
    db.session.refresh(room)
    assert room.owner_id == member.id
    refused = runner.invoke(args=["recordings", "assign", str(room.id), "--owner", "who@example.com"])
    assert refused.exit_code != 0 and "No user with the email who@example.com" in refused.output


@pytest.mark.parametrize("body", [None, [], {}, {"owner": 42}, {"owner": "  "}, {"owner": ["a@b.c"]}])
def test_assigning_an_owner_refuses_bad_bodies(app, login, body):
    room = make_recording(owner=None, room_name="board-meeting")
    response = login(make_user(super_admin=True)).patch(f"/api/livekit/recordings/owner?type=meet&id={room.id}",
                                                        json=body)
    assert_json_error(response, 400, "invalid_json" if not isinstance(body, dict) or "owner" not in body else "invalid_owner")
    db.session.refresh(room)
    assert room.owner_id is None


def test_only_a_super_admin_assigns_an_owner(app, login):
    member = make_user("member@example.com")
    room = make_recording(owner=member)
    response = login(member).patch(f"/api/livekit/recordings/owner?type=meet&id={room.id}", json={"owner": None})
    assert_json_error(response, 403, "not_allowed")
    db.session.refresh(room)
    assert room.owner_id == member.id
