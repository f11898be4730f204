"""Share links over the API: create, open, play, download, poster, revoke, the default link, scope."""
import hashlib
import re
import tempfile
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import av
import pytest
import requests
from sqlalchemy import func, select, text, update

from tests.assertions import assert_json_error
from tests.clip_helpers import local_path
from tests.conftest import run_queued_jobs
from tests.factories import make_ready_clip, make_recording, make_user
from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.recordings.models import MeetRoom
from webapp.shares.models import ShareLink
from webapp.storage import get_storage
from webapp.timeutil import utcnow

SHARE_LINKS = "/api/share-links"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43,}")
JPEG_MAGIC = b"\xff\xd8"


# --- helpers (the share page and browser tests use them too) --------------------------------

def poster_after_its_job(client, token):
    """The poster response once its job has run (the first request queues it for a row that has none)."""
    client.get(f"/s/{token}/poster.jpg")
    run_queued_jobs(client.flask.application)
    return client.get(f"/s/{token}/poster.jpg")


def target_of(thing):
    if isinstance(thing, RecordingClip):
        return {"target_type": "clip", "target_id": thing.id}
    return {"target_type": thing.source_type, "target_id": thing.id}


def share(client, thing, **options):
    """POST /api/share-links for a recording or clip; the response."""
    return client.post(SHARE_LINKS, json={**target_of(thing), **options})


def created_link(response, status=201):
    """The share_link of a successful create, checked."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()["share_link"]


def token_of(url):
    path = urlsplit(url).path
    assert path.startswith("/s/"), url
    return path[len("/s/"):]


def new_token(client, thing, **options):
    return token_of(created_link(share(client, thing, **options))["url"])


def follow(client, response):
    """The app's answer at a 302's Location (the local backend serves presigned URLs itself)."""
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(local_path(response.headers["Location"]))


def link_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ShareLink))


def link_row(link_id):
    db.session.expire_all()
    return db.session.get(ShareLink, link_id)


def jpeg_size(data):
    """(width, height) of a JPEG, decoded with PyAV."""
    with tempfile.NamedTemporaryFile(suffix=".jpg") as fh:
        fh.write(data)
        fh.flush()
        with av.open(fh.name) as container:
            frame = next(container.decode(video=0))
            return frame.width, frame.height


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture
def other(app):
    return make_user("other@example.com")


@pytest.fixture
def voice_call(member, media_dir):
    return make_recording("voice", owner=member, file=media_dir / "sample.m4a", title="Support call")


@pytest.fixture
def as_member(login, member):
    return login(member)


# --- the lifecycle ---------------------------------------------------------------------------------

def test_a_link_opens_plays_downloads_and_has_a_poster_until_revoked(as_member, client, standup, media_dir):
    response = share(as_member, standup)
    link = created_link(response)
    token = token_of(link["url"])

    assert TOKEN.fullmatch(token) and len(token) == 43
    assert link["url"] == f"http://localhost/s/{token}"
    assert link["target_type"] == "meet" and link["target_id"] == str(standup.id)
    assert link["expires_at"] is None and link["revoked_at"] is None
    assert (link["state"], link["allow_download"], link["has_password"], link["is_default"], link["view_count"]) \
        == ("active", True, False, False, 0)

    page = client.get(f"/s/{token}")  # anonymous
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "<title>Team standup · Reclip</title>" in html
    assert '<h1 class="share-title">Team standup</h1>' in html
    assert f'src="/s/{token}/media"' in html

    media = client.get(f"/s/{token}/media")
    assert media.status_code == 302 and media.headers["Cache-Control"] == "no-store"
    played = follow(client, media)
    assert played.status_code == 200 and played.mimetype == "video/mp4"
    assert played.headers["Content-Disposition"].startswith("inline")
    assert played.get_data() == (media_dir / "sample.mp4").read_bytes()

    downloaded = follow(client, client.get(f"/s/{token}/download"))
    assert downloaded.status_code == 200
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    assert f"Team standup-{standup.created_at:%Y-%m-%d}.mp4" in downloaded.headers["Content-Disposition"]
    assert downloaded.get_data() == (media_dir / "sample.mp4").read_bytes()

    poster = follow(client, poster_after_its_job(client, token))
    assert poster.status_code == 200 and poster.mimetype == "image/jpeg"
    assert poster.get_data().startswith(JPEG_MAGIC)
    assert jpeg_size(poster.get_data()) == (1200, 900)  # a frame, scaled from 320x240
    assert get_storage().head(f"posters/meet-{standup.id}.jpg") is not None

    revoked = as_member.delete(f"{SHARE_LINKS}/{link['id']}")
    assert revoked.status_code == 204 and revoked.get_data() == b""
    assert link_row(link["id"]).revoked_at is not None

    gone = client.get(f"/s/{token}")
    assert gone.status_code == 410 and gone.mimetype == "text/html"
    assert "This link has ended" in gone.get_data(as_text=True)
    assert "revoked by its owner" in gone.get_data(as_text=True)
    assert "Team standup" not in gone.get_data(as_text=True)
    for part in ("media", "download", "poster.jpg"):
        response = client.get(f"/s/{token}/{part}")
        assert response.status_code == 410, part
        assert "Location" not in response.headers


def test_revoking_twice_is_harmless(as_member, client, standup):
    link = created_link(share(as_member, standup))
    assert as_member.delete(f"{SHARE_LINKS}/{link['id']}").status_code == 204
    first = link_row(link["id"]).revoked_at

    assert as_member.delete(f"{SHARE_LINKS}/{link['id']}").status_code == 204
    assert link_row(link["id"]).revoked_at == first
    assert client.get(urlsplit(link["url"]).path).status_code == 410


def test_an_unknown_token_is_404(client):
    for token in ("A" * 43, "x" * 20, "short", "A" * 65, "..%2F..%2Fetc"):
        for path in (f"/s/{token}", f"/s/{token}/media", f"/s/{token}/download", f"/s/{token}/poster.jpg"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert "Location" not in response.headers


def test_a_clip_link_plays_the_clip(as_member, client, member, standup, media_dir):
    clip = make_ready_clip(standup, media_dir / "sample.mp4", member, start=3, seconds=5)
    link = created_link(share(as_member, clip))
    token = token_of(link["url"])
    assert link["target_type"] == "clip" and link["target_id"] == clip.id

    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert "<title>Team standup 0:03–0:08 · Reclip</title>" in page.get_data(as_text=True)

    played = follow(client, client.get(f"/s/{token}/media"))
    assert played.status_code == 200 and played.mimetype == "video/mp4"
    assert played.get_data() == (get_storage().path_for(clip.storage_key)).read_bytes()
    assert played.get_data() != (media_dir / "sample.mp4").read_bytes()

    downloaded = follow(client, client.get(f"/s/{token}/download"))
    assert downloaded.headers["Content-Disposition"].startswith("attachment")
    assert 'filename="Team standup 0.03-0.08.mp4"' in downloaded.headers["Content-Disposition"]

    poster = follow(client, poster_after_its_job(client, token))
    assert poster.mimetype == "image/jpeg" and poster.get_data().startswith(JPEG_MAGIC)
    assert get_storage().head(f"posters/clip-{clip.id}.jpg") is not None


def test_a_voice_recording_gets_a_waveform_poster(login, admin, client, voice_call, media_dir):
    token = new_token(login(admin), voice_call)

    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "<audio" in page and "<video" not in page

    poster = poster_after_its_job(client, token)
    image = follow(client, poster)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.get_data().startswith(JPEG_MAGIC)
    assert jpeg_size(image.get_data()) == (1200, 630)  # showwavespic's size, not a video frame
    assert get_storage().head(f"posters/voice-{voice_call.id}.jpg") is not None

    played = follow(client, client.get(f"/s/{token}/media"))
    assert played.mimetype == "audio/mp4"
    assert played.get_data() == (media_dir / "sample.m4a").read_bytes()


def test_a_voice_clip_gets_a_waveform_poster_too(login, admin, client, voice_call, media_dir):
    clip = make_ready_clip(voice_call, media_dir / "sample.m4a", admin, start=2, seconds=5)
    token = new_token(login(admin), clip)

    assert "<audio" in client.get(f"/s/{token}").get_data(as_text=True)
    image = follow(client, poster_after_its_job(client, token))
    assert image.mimetype == "image/jpeg" and jpeg_size(image.get_data()) == (1200, 630)
    assert get_storage().head(f"posters/clip-{clip.id}.jpg") is not None
    assert follow(client, client.get(f"/s/{token}/media")).mimetype == "audio/mp4"


def test_a_poster_is_made_once_and_then_reused(as_member, client, standup):
    token = new_token(as_member, standup)
    first = follow(client, poster_after_its_job(client, token)).get_data()
    key = f"posters/meet-{standup.id}.jpg"
    before = get_storage().head(key)

    second = follow(client, client.get(f"/s/{token}/poster.jpg")).get_data()
    assert second == first
    assert get_storage().head(key).etag == before.etag


def test_media_that_cannot_be_read_has_no_poster(as_member, client, member, tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 4096)
    broken = make_recording(owner=member, file=garbage, title="Broken")
    token = new_token(as_member, broken)

    assert client.get(f"/s/{token}").status_code == 200
    assert run_queued_jobs(client.flask.application) == ["failed"]
    assert client.get(f"/s/{token}/poster.jpg").status_code == 404
    # The failure is remembered: no job, no ffmpeg, however often it is asked for.
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert 'property="og:image"' not in page and "poster=" not in page
    for _ in range(3):
        assert client.get(f"/s/{token}/poster.jpg").status_code == 404
    assert run_queued_jobs(client.flask.application) == []


class TestOnS3:
    """The same links when the media lives in an S3 bucket (moto over HTTP)."""

    @pytest.fixture
    def app_config(self, s3_config):
        return s3_config

    def test_media_download_and_poster_are_presigned_bucket_urls(self, as_member, client, standup, media_dir,
                                                                  s3_config):
        token = new_token(as_member, standup)
        expected = (media_dir / "sample.mp4").read_bytes()

        media = client.get(f"/s/{token}/media")
        assert media.status_code == 302 and media.headers["Location"].startswith(s3_config["S3_ENDPOINT_URL"])
        assert media.headers["Referrer-Policy"] == "no-referrer"
        played = requests.get(media.headers["Location"], timeout=30)
        assert played.status_code == 200 and played.content == expected
        assert played.headers["Content-Disposition"].startswith("inline")

        download = client.get(f"/s/{token}/download")
        saved = requests.get(download.headers["Location"], timeout=30)
        assert saved.status_code == 200 and saved.content == expected
        assert saved.headers["Content-Disposition"].startswith("attachment")

        poster = poster_after_its_job(client, token)
        assert poster.status_code == 302 and poster.headers["Location"].startswith(s3_config["S3_ENDPOINT_URL"])
        image = requests.get(poster.headers["Location"], timeout=30)
        assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
        assert image.content.startswith(JPEG_MAGIC)
        assert get_storage().head(f"posters/meet-{standup.id}.jpg").content_type == "image/jpeg"


# --- the default (Copy link) link ----------------------------------------------------------------------

def test_the_default_link_is_handed_out_again(as_member, client, standup):
    first = created_link(share(as_member, standup, default=True), 201)
    again = created_link(share(as_member, standup, default=True), 200)

    assert again["url"] == first["url"] and again["id"] == first["id"]
    assert first["is_default"] is True and first["expires_at"] is None and first["allow_download"] is True
    assert TOKEN.fullmatch(token_of(first["url"]))
    assert link_count() == 1
    assert client.get(urlsplit(first["url"]).path).status_code == 200


def test_a_revoked_default_link_is_replaced_by_a_new_one(as_member, client, standup):
    old = created_link(share(as_member, standup, default=True))
    assert as_member.delete(f"{SHARE_LINKS}/{old['id']}").status_code == 204

    new = created_link(share(as_member, standup, default=True), 201)
    assert new["url"] != old["url"] and new["id"] != old["id"]
    assert client.get(urlsplit(old["url"]).path).status_code == 410
    assert client.get(urlsplit(new["url"]).path).status_code == 200
    assert created_link(share(as_member, standup, default=True), 200)["url"] == new["url"]


def test_default_links_are_per_person_and_per_target(login, as_member, admin, member, standup, media_dir):
    second = make_recording(owner=member, file=media_dir / "sample.mp4", title="Retro")
    mine = created_link(share(as_member, standup, default=True))
    other_target = created_link(share(as_member, second, default=True))
    admins = created_link(share(login(admin), standup, default=True), 201)

    assert len({mine["url"], other_target["url"], admins["url"]}) == 3
    # A plain link is never the default link.
    plain = created_link(share(as_member, standup), 201)
    assert plain["url"] != mine["url"] and plain["is_default"] is False


def test_the_default_link_refuses_limits(as_member, standup):
    for options in ({"expires_in_seconds": 3600}, {"password": "secret words"}, {"allow_download": False}):
        response = share(as_member, standup, default=True, **options)
        assert response.status_code == 400, options
        assert_json_error(response, 400, "invalid_default")
    assert link_count() == 0


# --- expiry --------------------------------------------------------------------------------------------

def test_a_link_expires(as_member, client, standup):
    before = utcnow()
    link = created_link(share(as_member, standup, expires_in_seconds=60))
    token = token_of(link["url"])
    row = link_row(link["id"])
    assert before + timedelta(seconds=59) <= row.expires_at <= utcnow() + timedelta(seconds=61)
    assert link["expires_at"] == row.expires_at.isoformat()
    assert client.get(f"/s/{token}").status_code == 200

    db.session.execute(update(ShareLink).where(ShareLink.id == link["id"])
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    gone = client.get(f"/s/{token}")
    assert gone.status_code == 410 and "This link has expired." in gone.get_data(as_text=True)
    for part in ("media", "download", "poster.jpg"):
        assert client.get(f"/s/{token}/{part}").status_code == 410
    listed = as_member.get(SHARE_LINKS).get_json()["share_links"]
    assert [item["state"] for item in listed] == ["expired"]


def test_expiry_out_of_range_is_refused(as_member, standup):
    for expires in (0, 59, -60, 10**9, 365 * 24 * 3600 + 1, "60", True, 60.5, [60], {"s": 60}):
        response = share(as_member, standup, expires_in_seconds=expires)
        assert response.status_code == 400, expires
        assert_json_error(response, 400, "invalid_expires_in_seconds")
    assert link_count() == 0


def test_expiry_at_the_limits_is_accepted(as_member, standup):
    for expires in (60, 365 * 24 * 3600, None):
        link = created_link(share(as_member, standup, expires_in_seconds=expires))
        assert (link["expires_at"] is None) == (expires is None)
    assert link_count() == 3


# --- allow_download=false ----------------------------------------------------------------------------

def test_a_link_without_download_still_plays(as_member, client, standup):
    link = created_link(share(as_member, standup, allow_download=False))
    token = token_of(link["url"])
    assert link["allow_download"] is False

    response = client.get(f"/s/{token}/download")
    assert response.status_code == 403 and "Location" not in response.headers
    assert "does not allow downloads" in response.get_data(as_text=True)
    assert client.get(f"/s/{token}/download", headers={"Accept": "application/json"}).get_json()["error"]["code"] \
        == "download_not_allowed"
    assert follow(client, client.get(f"/s/{token}/media")).status_code == 200


# --- scope ---------------------------------------------------------------------------------------------------

def test_someone_elses_recording_cannot_be_shared(login, other, standup):
    assert_json_error(share(login(other), standup), 404, "not_found")
    assert_json_error(share(login(other), standup, default=True), 404, "not_found")
    assert link_count() == 0


def test_a_member_cannot_share_a_voice_call_even_their_own(as_member, voice_call):
    assert_json_error(share(as_member, voice_call), 404, "not_found")
    assert link_count() == 0


def test_djdash_is_invisible_to_super_admins_too(login, admin, member, media_dir):
    djdash = make_recording(owner=member, product="djdash", file=media_dir / "sample.mp4")
    assert_json_error(share(login(admin), djdash), 404, "not_found")
    assert_json_error(share(login(member), djdash), 404, "not_found")
    assert link_count() == 0


def test_missing_targets_are_404(as_member, login, other, member, standup, media_dir):
    for body in ({"target_type": "meet", "target_id": 999999}, {"target_type": "voice", "target_id": 999999},
                 {"target_type": "clip", "target_id": uuid.uuid4().hex},
                 {"target_type": "clip", "target_id": "Z" * 32}):
        assert_json_error(as_member.post(SHARE_LINKS, json=body), 404, "not_found")
    clip = make_ready_clip(standup, media_dir / "sample.mp4", member)
    assert_json_error(share(login(other), clip), 404, "not_found")
    assert link_count() == 0


def test_a_super_admin_may_share_anything_visible(login, admin, client, standup, voice_call):
    as_admin = login(admin)
    for thing in (standup, voice_call):
        token = new_token(as_admin, thing)
        assert client.get(f"/s/{token}").status_code == 200


def test_the_list_shows_own_links_and_counts_views(login, as_member, other, admin, client, member, media_dir):
    theirs = make_recording(owner=other, file=media_dir / "sample.mp4", title="Their standup")
    mine = make_recording(owner=member, file=media_dir / "sample.mp4", title="My standup")
    my_link = created_link(share(as_member, mine))
    as_other = login(other)
    their_link = created_link(share(as_other, theirs))

    listed = as_member.get(SHARE_LINKS)
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    assert [item["id"] for item in listed.get_json()["share_links"]] == [my_link["id"]]
    assert [item["id"] for item in as_other.get(SHARE_LINKS).get_json()["share_links"]] == [their_link["id"]]
    assert {item["id"] for item in login(admin).get(SHARE_LINKS).get_json()["share_links"]} \
        == {my_link["id"], their_link["id"]}

    path = urlsplit(my_link["url"]).path
    for views in (1, 2, 3):
        assert client.get(path).status_code == 200
        item = as_member.get(SHARE_LINKS).get_json()["share_links"][0]
        assert item["view_count"] == views
        assert item["url"] is None  # the token is not stored, so it cannot be shown again
    assert client.get(f"{path}/media").status_code == 302
    assert as_member.get(SHARE_LINKS).get_json()["share_links"][0]["view_count"] == 3  # media is no page view

    anonymous = client.get(SHARE_LINKS)
    assert_json_error(anonymous, 401, "unauthorized")


def test_the_list_filters_by_target(as_member, member, standup, media_dir):
    clip = make_ready_clip(standup, media_dir / "sample.mp4", member)
    recording_link = created_link(share(as_member, standup))
    clip_link = created_link(share(as_member, clip))

    def listed(**params):
        response = as_member.get(SHARE_LINKS, query_string=params)
        assert response.status_code == 200
        return [item["id"] for item in response.get_json()["share_links"]]

    assert listed(target_type="meet", target_id=standup.id) == [recording_link["id"]]
    assert listed(target_type="clip", target_id=clip.id) == [clip_link["id"]]
    assert listed(target_type="voice", target_id=standup.id) == []
    assert_json_error(as_member.get(SHARE_LINKS, query_string={"target_type": "x", "target_id": 1}), 400, "invalid_target")
    assert_json_error(as_member.get(SHARE_LINKS, query_string={"target_type": "meet"}), 400, "invalid_target")


def test_someone_elses_link_cannot_be_revoked(login, as_member, other, admin, client, standup):
    link = created_link(share(as_member, standup))
    path = urlsplit(link["url"]).path

    assert_json_error(login(other).delete(f"{SHARE_LINKS}/{link['id']}"), 404, "not_found")
    assert link_row(link["id"]).revoked_at is None
    assert client.get(path).status_code == 200
    assert_json_error(as_member.delete(f"{SHARE_LINKS}/999999"), 404, "not_found")
    assert client.flask.delete(f"{SHARE_LINKS}/{link['id']}").status_code in (400, 401)  # no session, no CSRF

    assert login(admin).delete(f"{SHARE_LINKS}/{link['id']}").status_code == 204  # super admin: all
    assert client.get(path).status_code == 410


def test_a_recording_that_became_invisible_ends_its_links(as_member, client, standup):
    token = new_token(as_member, standup)
    assert client.get(f"/s/{token}").status_code == 200

    db.session.execute(update(MeetRoom).where(MeetRoom.id == standup.id).values(product="djdash"))
    db.session.commit()

    gone = client.get(f"/s/{token}")
    assert gone.status_code == 410 and "no longer available" in gone.get_data(as_text=True)
    assert client.get(f"/s/{token}/media").status_code == 410
    assert client.get(f"/s/{token}/poster.jpg").status_code == 410


def test_a_deleted_recording_ends_its_links(as_member, client, standup):
    token = new_token(as_member, standup)
    db.session.execute(text("DELETE FROM meet_rooms WHERE id = :id"), {"id": standup.id})
    db.session.commit()
    assert client.get(f"/s/{token}").status_code == 410


def test_a_deleted_clip_ends_its_links(as_member, client, member, standup, media_dir):
    clip = make_ready_clip(standup, media_dir / "sample.mp4", member)
    token = new_token(as_member, clip)
    assert client.get(f"/s/{token}").status_code == 200

    assert as_member.delete(f"/api/livekit/recordings/clips/{clip.id}").status_code == 204

    assert client.get(f"/s/{token}").status_code == 410
    assert client.get(f"/s/{token}/media").status_code == 410


def test_a_clip_that_is_no_longer_ready_ends_its_links(as_member, client, member, standup, media_dir):
    clip = make_ready_clip(standup, media_dir / "sample.mp4", member)
    token = new_token(as_member, clip)
    db.session.execute(update(RecordingClip).where(RecordingClip.id == clip.id).values(status="expired"))
    db.session.commit()
    assert client.get(f"/s/{token}").status_code == 410


def test_an_anonymous_create_is_401(client, standup):
    assert_json_error(client.post(SHARE_LINKS, json=target_of(standup)), 401, "unauthorized")
    assert link_count() == 0


def test_a_create_without_csrf_token_is_refused(as_member, standup):
    response = as_member.flask.post(SHARE_LINKS, json=target_of(standup))
    assert_json_error(response, 400, "csrf_failed")
    assert link_count() == 0


# --- junk bodies ---------------------------------------------------------------------------------------

ID = object()  # stands for the recording's id


JUNK_BODIES = [
    ([], "invalid_json"),
    ([{"target_type": "meet", "target_id": ID}], "invalid_json"),
    ("meet", "invalid_json"),
    (None, "invalid_json"),
    (42, "invalid_json"),
    ({}, "invalid_target_type"),
    ({"target_type": "x", "target_id": ID}, "invalid_target_type"),
    ({"target_type": "MEET", "target_id": ID}, "invalid_target_type"),
    ({"target_type": ["meet"], "target_id": ID}, "invalid_target_type"),
    ({"target_type": "meet"}, "invalid_target_id"),
    ({"target_type": "meet", "target_id": "abc"}, "invalid_target_id"),
    ({"target_type": "meet", "target_id": -1}, "invalid_target_id"),
    ({"target_type": "meet", "target_id": 0}, "invalid_target_id"),
    ({"target_type": "meet", "target_id": True}, "invalid_target_id"),
    ({"target_type": "meet", "target_id": 1.5}, "invalid_target_id"),
    ({"target_type": "meet", "target_id": 2**63}, "invalid_target_id"),
    ({"target_type": "meet", "target_id": 2**31}, "invalid_target_id"),  # past INTEGER: was a 500 on PostgreSQL
    ({"target_type": "meet", "target_id": "9" * 40}, "invalid_target_id"),
    ({"target_type": "clip", "target_id": "abc"}, "invalid_target_id"),
    ({"target_type": "clip", "target_id": "a" * 33}, "invalid_target_id"),
    ({"target_type": "clip", "target_id": 10**31}, "invalid_target_id"),
    ({"target_type": "meet", "target_id": ID, "password": "abc"}, "invalid_password"),
    ({"target_type": "meet", "target_id": ID, "password": "7 chars"}, "invalid_password"),
    ({"target_type": "meet", "target_id": ID, "password": "x" * 129}, "invalid_password"),
    ({"target_type": "meet", "target_id": ID, "password": 1234}, "invalid_password"),
    ({"target_type": "meet", "target_id": ID, "password": 0}, "invalid_password"),
    ({"target_type": "meet", "target_id": ID, "password": False}, "invalid_password"),
    ({"target_type": "meet", "target_id": ID, "password": ["secret"]}, "invalid_password"),
    ({"target_type": "meet", "target_id": ID, "allow_download": "yes"}, "invalid_allow_download"),
    ({"target_type": "meet", "target_id": ID, "allow_download": 1}, "invalid_allow_download"),
    ({"target_type": "meet", "target_id": ID, "allow_download": None}, "invalid_allow_download"),
    ({"target_type": "meet", "target_id": ID, "default": "true"}, "invalid_default"),
    ({"target_type": "meet", "target_id": ID, "default": 1}, "invalid_default"),
]


def test_junk_bodies_are_400(as_member, standup):
    def fill(value):
        if isinstance(value, dict):
            return {key: standup.id if item is ID else item for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value

    for body, code in JUNK_BODIES:
        response = as_member.post(SHARE_LINKS, json=fill(body))
        assert response.status_code == 400, (body, response.get_data(as_text=True))
        assert_json_error(response, 400, code)
    assert link_count() == 0


def test_bodies_that_are_not_json_are_400(as_member, standup):
    for data, content_type in (("{not json", "application/json"),
                               ('{"target_type": "meet", "target_id": 1}', "text/plain"),
                               ("", "application/json"),
                               (b"\xff\xfe\x00", "application/json"),
                               ("target_type=meet&target_id=1", "application/x-www-form-urlencoded")):
        response = as_member.post(SHARE_LINKS, data=data, content_type=content_type)
        assert response.status_code == 400, data
        assert_json_error(response, 400, "invalid_json")
    assert link_count() == 0


# --- tokens --------------------------------------------------------------------------------------------

def test_the_database_never_holds_a_token(as_member, login, admin, member, standup, media_dir):
    clip = make_ready_clip(standup, media_dir / "sample.mp4", member)
    tokens = [new_token(as_member, standup) for _ in range(48)]
    tokens.append(new_token(as_member, standup, default=True))
    tokens.append(new_token(login(admin), clip, password="open sesame", expires_in_seconds=600))

    assert len(set(tokens)) == 50
    assert all(TOKEN.fullmatch(token) for token in tokens)
    assert all(len(token) >= 43 for token in tokens)

    db.session.expire_all()
    rows = db.session.execute(text("SELECT * FROM share_links")).mappings().all()
    assert len(rows) == 50
    assert {row["token_hash"] for row in rows} == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    for row in rows:
        for value in row.values():
            assert not any(token in str(value) for token in tokens)
    # The one with a password stores a hash of it, not the password.
    assert not any("open sesame" in str(value) for row in rows for value in row.values())
