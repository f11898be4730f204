"""Download and play of recordings in the bucket: a 302 to a signed URL that serves the file, local and S3."""
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from werkzeug.http import parse_options_header

from tests.assertions import assert_json_error
from tests.conftest import free_port
from tests.factories import make_clip, make_recording, make_share_link, make_user

CREATED = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)



def media_url(recording, action="download"):
    return f"/api/livekit/recordings/{action}?type={recording.source_type}&id={recording.id}"


def filename_in(content_disposition):
    """The filename a browser would save as (filename* wins over filename)."""
    return parse_options_header(content_disposition)[1]["filename"]


def assert_redirect(response):
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.get_data() == b"" or b"Redirecting" in response.get_data()
    return response.headers["Location"]


# --- local storage: Flask serves the signed URL itself --------------------------------

def test_download_redirects_to_a_signed_attachment_url(app, login, media_dir):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Weekly sync", created_at=CREATED)
    client = login(owner)

    location = urlsplit(assert_redirect(client.get(media_url(recording))))
    media = client.get(location.path)

    assert location.path.startswith("/storage/o/")
    assert media.status_code == 200
    assert media.headers["Content-Disposition"] == 'attachment; filename="Weekly sync-2024-03-15.mp4"'
    assert media.headers["Content-Type"] == "video/mp4"
    assert media.headers["Accept-Ranges"] == "bytes"
    assert media.get_data() == (media_dir / "sample.mp4").read_bytes()


def test_play_redirects_to_an_inline_url_that_seeks(app, login, media_dir):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Weekly sync", created_at=CREATED)
    client = login(owner)
    data = (media_dir / "sample.mp4").read_bytes()

    location = urlsplit(assert_redirect(client.get(media_url(recording, "play"))))
    media = client.get(location.path, headers={"Range": "bytes=1000-"})

    assert media.status_code == 206  # a <video> seeks with ranges
    assert media.headers["Content-Disposition"] == 'inline; filename="Weekly sync-2024-03-15.mp4"'
    assert media.headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    assert media.get_data() == data[1000:]


def test_a_voice_call_downloads_as_m4a(app, login, media_dir):
    admin = make_user(super_admin=True)
    call = make_recording("voice", file=media_dir / "sample.m4a", title="Call with Ana", created_at=CREATED)
    client = login(admin)

    media = client.get(urlsplit(assert_redirect(client.get(media_url(call)))).path)

    assert media.status_code == 200
    assert media.headers["Content-Disposition"] == 'attachment; filename="Call with Ana-2024-03-15.m4a"'
    assert media.headers["Content-Type"] == "audio/mp4"
    assert media.get_data() == (media_dir / "sample.m4a").read_bytes()


def test_a_non_ascii_title_gets_an_rfc5987_filename(app, login, media_dir):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Café ☕ «menu»", created_at=CREATED)
    client = login(owner)

    media = client.get(urlsplit(assert_redirect(client.get(media_url(recording)))).path)

    header = media.headers["Content-Disposition"]
    assert header.isascii()
    assert 'filename="Cafe' in header
    assert "filename*=UTF-8''Caf%C3%A9%20%E2%98%95%20%C2%ABmenu%C2%BB-2024-03-15.mp4" in header
    assert filename_in(header) == "Café ☕ «menu»-2024-03-15.mp4"


def test_a_title_cannot_inject_headers(app, login, media_dir):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4", created_at=CREATED,
                               title='evil"\r\nSet-Cookie: stolen=1\r\nX-Evil: 1')
    client = login(owner)

    media = client.get(urlsplit(assert_redirect(client.get(media_url(recording)))).path)

    assert media.status_code == 200
    assert "Set-Cookie" not in media.headers and "X-Evil" not in media.headers
    assert filename_in(media.headers["Content-Disposition"]) == "evil Set-Cookie stolen=1 X-Evil 1-2024-03-15.mp4"


def test_the_signed_url_cannot_be_tampered_with(app, login, media_dir):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4", created_at=CREATED)
    client = login(owner)
    path = urlsplit(assert_redirect(client.get(media_url(recording)))).path

    response = client.get(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))

    assert_json_error(response, 403, "bad_signature")


def test_a_row_whose_file_is_gone_is_404_not_a_broken_redirect(app, login):
    owner = make_user()
    recording = make_recording(owner=owner, key="recordings/meet/never-uploaded.mp4")
    client = login(owner)

    for action in ("download", "play"):
        assert_json_error(client.get(media_url(recording, action)), 404, "media_missing")


# --- S3 (moto over real HTTP) -------------------------------------------------------------

class TestS3:
    @pytest.fixture
    def app_config(self, s3_config):
        return dict(s3_config)

    def test_download_redirects_to_a_presigned_s3_url(self, app, login, media_dir, s3_endpoint, s3_bucket):
        owner = make_user()
        recording = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Board meeting",
                                   created_at=CREATED)

        location = assert_redirect(login(owner).get(media_url(recording)))
        media = requests.get(location, timeout=10)

        assert location.startswith(f"{s3_endpoint}/{s3_bucket}/{recording.recording_url}?")
        query = parse_qs(urlsplit(location).query)
        assert query["X-Amz-Expires"] == ["600"] and "X-Amz-Signature" in query
        assert media.status_code == 200
        assert media.headers["Content-Disposition"] == 'attachment; filename="Board meeting-2024-03-15.mp4"'
        assert media.headers["Content-Type"] == "video/mp4"
        assert media.content == (media_dir / "sample.mp4").read_bytes()

    def test_play_and_voice_on_s3(self, app, login, media_dir):
        admin = make_user(super_admin=True)
        call = make_recording("voice", file=media_dir / "sample.m4a", title="Support call ☎", created_at=CREATED)
        client = login(admin)

        played = requests.get(assert_redirect(client.get(media_url(call, "play"))), timeout=10)
        downloaded = requests.get(assert_redirect(client.get(media_url(call))), timeout=10)

        assert played.status_code == 200 and downloaded.status_code == 200
        assert played.headers["Content-Disposition"].startswith('inline; filename="Support call')
        assert filename_in(played.headers["Content-Disposition"]) == "Support call ☎-2024-03-15.m4a"
        assert filename_in(downloaded.headers["Content-Disposition"]) == "Support call ☎-2024-03-15.m4a"
        assert downloaded.headers["Content-Disposition"].startswith("attachment;")
        assert downloaded.content == played.content == (media_dir / "sample.m4a").read_bytes()

    def test_a_missing_object_is_404(self, app, login):
        owner = make_user()
        recording = make_recording(owner=owner, key="recordings/meet/not-in-the-bucket.mp4")

        assert_json_error(login(owner).get(media_url(recording)), 404, "media_missing")


class TestStorageUnreachable:
    @pytest.fixture
    def app_config(self, s3_config):
        return {**s3_config, "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}

    def test_download_and_play_answer_503(self, app, login):
        owner = make_user()
        recording = make_recording(owner=owner, key="recordings/meet/somewhere.mp4")
        client = login(owner)

        for action in ("download", "play"):
            assert_json_error(client.get(media_url(recording, action)), 503, "storage_unavailable")


# --- format=json: where the file is, for a page that asks before it navigates ----------------------

def test_format_json_answers_the_signed_attachment_url_for_recordings_clips_and_share_links(app, login, client,
                                                                                             media_dir):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Weekly sync", created_at=CREATED)
    clip = make_clip(recording, "ready", user=owner)
    token = make_share_link(owner, recording)
    member = login(owner)
    anonymous = client

    for session, url, filename in [
            (member, media_url(recording), "Weekly sync-2024-03-15.mp4"),
            (member, f"/api/livekit/recordings/clips/{clip.id}/download", None),
            (anonymous, f"/s/{token}/download", "Weekly sync-2024-03-15.mp4")]:
        response = session.get(f"{url}{'&' if '?' in url else '?'}format=json", headers={"Accept": "application/json"})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"
        body = response.get_json()
        assert set(body) == {"url", "filename"}
        if filename:
            assert body["filename"] == filename
        # The same kind of signed URL the redirect goes to: an attachment, under the same name.
        redirect_to = urlsplit(session.get(url).headers["Location"])
        signed = urlsplit(body["url"])
        assert signed.path == redirect_to.path
        media = session.get(f"{signed.path}?{signed.query}")
        assert media.status_code == 200
        assert media.headers["Content-Disposition"].startswith("attachment;")
        assert filename_in(media.headers["Content-Disposition"]) == body["filename"]


@pytest.mark.parametrize("value", ["", "JSON", "xml", "json,xml"])
def test_format_other_than_json_is_400_json(app, login, client, media_dir, value):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4")
    clip = make_clip(recording, "ready", user=owner)
    token = make_share_link(owner, recording)
    member = login(owner)

    for session, url in [(member, f"{media_url(recording)}&format={value}"),
                         (member, f"/api/livekit/recordings/clips/{clip.id}/download?format={value}"),
                         (client, f"/s/{token}/download?format={value}")]:
        body = assert_json_error(session.get(url, headers={"Accept": "application/json"}), 400, "invalid_format")
        assert body["error"]["message"] == "format must be json, or absent for the file itself."


def test_format_json_says_why_not_in_json(app, login, client):
    owner = make_user()
    gone = make_recording(owner=owner, key="recordings/meet/never-uploaded.mp4")
    token = make_share_link(owner, gone, allow_download=False)

    assert_json_error(login(owner).get(f"{media_url(gone)}&format=json"), 404, "media_missing")
    assert_json_error(client.get(f"/s/{token}/download?format=json", headers={"Accept": "application/json"}), 403,
                      "download_not_allowed")
