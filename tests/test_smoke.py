from tests.factories import make_recording, make_user


def test_healthz_reports_every_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"db": "ok", "storage": "ok", "queue": "ok"}}


def test_member_lists_own_meet_recording(app, login, media_dir):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
    response = login(owner).get("/api/livekit/recordings?type=meet")
    assert response.status_code == 200
    body = response.get_json()
    assert [r["id"] for r in body["recordings"]] == [recording.id]
    assert body["recordings"][0]["owner"] == owner.email
    assert body["next_cursor"] is None
