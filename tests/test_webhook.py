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
    assert response.get_json() == {"status": "registered"}
    db.session.refresh(room)
    assert (room.recording_url, room.egress_id, room.duration_seconds, room.size_bytes) == (
        "recordings/standup-42.mp4", "EG_abc123", 61.5, 7340032)
    assert post(client, egress_event()).get_json() == {"status": "already_registered"}
    assert count_rooms() == 1


def test_a_second_recording_of_a_room_gets_its_own_row(app, client):
    owner = make_user()
    make_recording(owner=owner, room_name="standup-42", product="tipjar")
    assert post(client, egress_event(egress_id="EG_second")).get_json() == {"status": "registered"}
    new = db.session.scalar(select(MeetRoom).where(MeetRoom.egress_id == "EG_second"))
    assert (new.owner_id, new.product, new.room_name) == (owner.id, "tipjar", "standup-42")


@pytest.mark.parametrize("event, expected", [
    (egress_event(room_name="nobody-has-this"), "unknown_room"),
    (egress_event(status="EGRESS_FAILED"), "ignored"),
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
