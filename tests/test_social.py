"""Post for me without the platforms: tokens at rest, key rotation, configuration, and the API's
checks on what is asked for. The flows against the platforms' contract doubles are in
test_social_publish.py."""
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from webapp.extensions import db
from webapp.social import service
from webapp.social.models import Publication, SocialConnection, SocialDestination
from webapp.timeutil import utcnow
from tests.assertions import assert_json_error
from tests.factories import make_ready_clip, make_recording, make_user

KEY_1, KEY_2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SOCIAL = {"META_APP_ID": "1234", "META_APP_SECRET": "meta-secret", "TIKTOK_CLIENT_KEY": "tt-key",
          "TIKTOK_CLIENT_SECRET": "tt-secret", "TOKEN_ENCRYPTION_KEYS": [KEY_1]}


@pytest.fixture
def app_config():
    return dict(SOCIAL)


def connect(user, provider="meta", token="EAAB-user-token-plaintext", destinations=None):
    destinations = destinations if destinations is not None else (
        [("facebook", "p1", "Acme Page", "EAAB-page-token-plaintext"),
         ("instagram", "ig1", "@acme", "EAAB-page-token-plaintext")] if provider == "meta"
        else [("tiktok", "open-1", "acme", None)])
    return service.save_connection(user, provider, external_user_id="u-1", display_name="Acme",
                                   token={"access_token": token, "refresh_token": "rt-plaintext",
                                          "expires_in": 3600}, destinations=destinations)


def destination(connection, platform):
    return next(d for d in connection.destinations if d.platform == platform)


# --- tokens at rest ---------------------------------------------------------------------------

def test_the_database_holds_no_plaintext_token(app):
    connection = connect(make_user("member@example.com"))
    dumped = " ".join(str(value) for table in ("social_connections", "social_destinations")
                      for row in db.session.execute(text(f"SELECT * FROM {table}")) for value in row)
    assert "plaintext" not in dumped and "EAAB" not in dumped
    assert service.access_token(connection) == "EAAB-user-token-plaintext"


def test_rotating_keys_reencrypts_every_token(app, runner):
    connection = connect(make_user("member@example.com"))
    before = connection.access_token
    app.config["TOKEN_ENCRYPTION_KEYS"] = [KEY_2, KEY_1]  # a new key first; the old one still reads

    result = runner.invoke(args=["social", "rotate-keys"])

    assert result.exit_code == 0 and "Encrypted 4 tokens" in result.output  # access, refresh, two page tokens
    db.session.expire_all()
    connection = db.session.get(SocialConnection, connection.id)
    assert connection.access_token != before
    app.config["TOKEN_ENCRYPTION_KEYS"] = [KEY_2]  # the old key dropped: everything still reads
    assert service.access_token(connection) == "EAAB-user-token-plaintext"
    from webapp.social import crypto
    assert crypto.decrypt(destination(connection, "facebook").page_token) == "EAAB-page-token-plaintext"


def test_rotating_without_the_old_key_refuses_and_changes_nothing(app, runner):
    connection = connect(make_user("member@example.com"))
    before = connection.access_token
    app.config["TOKEN_ENCRYPTION_KEYS"] = [KEY_2]
    result = runner.invoke(args=["social", "rotate-keys"])
    assert result.exit_code != 0 and "cannot be decrypted" in result.output
    db.session.expire_all()
    assert db.session.get(SocialConnection, connection.id).access_token == before


@pytest.mark.parametrize("keys", [[], ["not-a-fernet-key"]])
def test_platform_keys_need_encryption_keys(keys, tmp_path):
    from webapp import create_app
    from tests.conftest import _test_config
    with pytest.raises(RuntimeError, match="TOKEN_ENCRYPTION_KEYS"):
        create_app(_test_config("sqlite://", tmp_path, **{**SOCIAL, "TOKEN_ENCRYPTION_KEYS": keys}),
                   instance_path=str(tmp_path))


# --- off unless configured ------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{}])
def test_without_platform_keys_nothing_appears(app, login, client):
    member = make_user("member@example.com")
    as_member = login(member)
    assert "Connected accounts" not in as_member.get("/recordings").get_data(as_text=True)
    assert as_member.get("/api/social/destinations").get_json()["platforms"] == []
    page = as_member.get("/settings/connections").get_data(as_text=True)
    assert "not set up on this Reclip" in page
    assert as_member.post("/settings/connections/meta/connect").status_code == 404


def test_with_keys_the_header_links_the_settings_page(app, login):
    page = login(make_user("member@example.com")).get("/recordings").get_data(as_text=True)
    assert 'href="/settings/connections"' in page


def test_connecting_needs_the_csrf_token(app, login):
    as_member = login(make_user("member@example.com"))
    assert as_member.flask.post("/settings/connections/meta/connect").status_code == 400
    started = as_member.post("/settings/connections/meta/connect")
    assert started.status_code == 302 and "/dialog/oauth?" in started.headers["Location"]
    assert "code_challenge_method=S256" in started.headers["Location"]


# --- what may be posted ------------------------------------------------------------------------------

@pytest.fixture
def member(app):
    return make_user("member@example.com")


@pytest.fixture
def ready_clip(member, media_dir):
    recording = make_recording(owner=member, file=media_dir / "sample.mp4", title="Standup", duration_seconds=20.0)
    return make_ready_clip(recording, media_dir / "sample.mp4", user=member)


def post(client, **body):
    return client.post("/api/social/publications", json=body)


BAD_BODIES = [
    (None, 400, "invalid_json"), ([], 400, "invalid_json"),
    ({"target_type": "album", "target_id": "x", "destination_id": 1}, 400, "invalid_target_type"),
    ({"target_type": "clip", "target_id": "CLIP", "destination_id": "1"}, 400, "invalid_destination"),
    ({"target_type": "clip", "target_id": "CLIP", "destination_id": True}, 400, "invalid_destination"),
    ({"target_type": "clip", "target_id": "CLIP", "destination_id": "DEST", "shape": "round"}, 400, "invalid_shape"),
    ({"target_type": "clip", "target_id": "CLIP", "destination_id": "DEST", "fill": "stretch"}, 400, "invalid_fill"),
    ({"target_type": "clip", "target_id": "CLIP", "destination_id": "DEST", "caption": 5}, 400, "invalid_caption"),
    ({"target_type": "clip", "target_id": "CLIP", "destination_id": "DEST", "caption": "x" * 2201}, 400,
     "not_allowed_by_platform"),
    ({"target_type": "clip", "target_id": "CLIP", "destination_id": "DEST",
      "caption": " ".join(f"#tag{i}" for i in range(31))}, 400, "not_allowed_by_platform"),
    ({"target_type": "clip", "target_id": "f" * 32, "destination_id": "DEST"}, 404, "not_found"),
    ({"target_type": "clip", "target_id": "CLIP", "destination_id": 2**31 + 5}, 404, "not_found"),
    ({"target_type": "meet", "target_id": -1, "destination_id": "DEST"}, 400, "invalid_id"),
]


@pytest.mark.parametrize("body, status, code", BAD_BODIES)
def test_bad_publication_requests_are_refused_and_leave_nothing(app, login, member, ready_clip, body, status, code):
    instagram = destination(connect(member), "instagram")
    if isinstance(body, dict):
        body = {k: (ready_clip.id if v == "CLIP" else instagram.id if v == "DEST" else v) for k, v in body.items()}
    response = login(member).post("/api/social/publications", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == code or status == 400 and code == "invalid_id"
    assert db.session.query(Publication).count() == 0


def test_someone_elses_destination_or_clip_is_404(app, login, member, ready_clip):
    other = make_user("other@example.com")
    theirs = destination(connect(other), "instagram")
    as_member = login(member)
    assert_json_error(post(as_member, target_type="clip", target_id=ready_clip.id, destination_id=theirs.id),
                      404, "not_found")
    mine = destination(connect(member), "instagram")
    assert_json_error(post(login(other), target_type="clip", target_id=ready_clip.id, destination_id=mine.id),
                      404, "not_found")


def test_a_connection_that_needs_reconnecting_cannot_post(app, login, member, ready_clip):
    connection = connect(member)
    service.mark_refused(connection, "Instagram refused the connection. Reconnect it in Connected accounts.")
    response = post(login(member), target_type="clip", target_id=ready_clip.id,
                    destination_id=destination(connection, "instagram").id)
    assert_json_error(response, 409, "reconnect_needed")
    page = login(member).get("/settings/connections").get_data(as_text=True)
    assert "Instagram refused the connection" in page and "Reconnect" in page


def test_someone_elses_publication_is_404(app, login, member, ready_clip):
    publication = Publication(user_id=member.id, target_type="clip", target_id=ready_clip.id, platform="instagram",
                              destination_name="@acme", shape="vertical")
    db.session.add(publication)
    db.session.commit()
    other = login(make_user("other@example.com"))
    assert_json_error(other.get(f"/api/social/publications/{publication.id}"), 404, "not_found")
    assert_json_error(other.post(f"/api/social/publications/{publication.id}/retry"), 404, "not_found")
    assert other.get(f"/api/social/publications?target_type=clip&target_id={ready_clip.id}").get_json() == \
        {"publications": []}
    assert_json_error(other.get("/api/social/publications?target_type=x"), 400, "invalid_target_type")


def test_without_a_target_the_list_is_the_persons_posts_of_the_last_30_days(app, login, member, ready_clip):
    def publication(user, days_ago):
        made = utcnow() - timedelta(days=days_ago)
        row = Publication(user_id=user.id, target_type="clip", target_id=ready_clip.id, platform="instagram",
                          destination_name="@acme", shape="vertical", created_at=made, updated_at=made)
        db.session.add(row)
        db.session.commit()
        return row.id
    other = make_user("other@example.com")
    recent, _old, _others = publication(member, 1), publication(member, 31), publication(other, 1)
    listed = login(member).get("/api/social/publications").get_json()["publications"]
    assert [p["id"] for p in listed] == [recent]
    assert (listed[0]["target_type"], listed[0]["target_id"]) == ("clip", ready_clip.id)
    assert_json_error(login(member).get("/api/social/publications?target_id=1"), 400, "invalid_target_type")


def test_disconnect_deletes_the_tokens_even_when_the_platform_cannot_be_reached(app, login, member):
    app.config["META_GRAPH_URL"] = "http://127.0.0.1:9/v24.0"  # nothing listens there
    app.config["SOCIAL_BACKOFF_SECONDS"] = 0
    connection = connect(member)
    response = login(member).post(f"/settings/connections/{connection.id}/disconnect", follow_redirects=True)
    assert "did not confirm" in response.get_data(as_text=True)
    assert db.session.query(SocialConnection).count() == 0 and db.session.query(SocialDestination).count() == 0
    other = connect(make_user("other@example.com"))
    assert login(member).post(f"/settings/connections/{other.id}/disconnect").status_code == 404
