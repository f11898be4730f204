"""Every server-side read of an external recording stays on the allow-list (security review, finding 1).

Two real upstreams on loopback: the allow-listed one (host *and port* on PROXY_ALLOWED_HOSTS) and a
second one that nobody allowed. The allowed one redirects to the second, or serves an HLS playlist
whose segment is on the second. The server clip job, the share page and its poster must never
contact the second one; what is not a plain MP4/M4A/WebM is refused in words.
"""

import pytest

from tests.assertions import assert_json_error
from tests.clip_helpers import CLIPS_URL, clip_row
from tests.conftest import run_queued_jobs
from tests.factories import make_clip, make_recording, make_share_link, make_user
from tests.range_server import RangeServer
from webapp.clips.jobs import cut_clip
from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.media import MediaError, probe
from webapp.recordings.models import MeetRoom
from webapp.delivery import open_media
from webapp.storage import get_storage




@pytest.fixture
def allowed():
    with RangeServer() as server:
        yield server


@pytest.fixture
def other():
    """The host nobody allowed: the same address on another port."""
    with RangeServer() as server:
        yield server


@pytest.fixture
def app_config(allowed):
    return {"PROXY_ALLOWED_HOSTS": [f"127.0.0.1:{allowed.port}"], "PROXY_ALLOW_PRIVATE_ADDRESSES": True}


@pytest.fixture
def owner(app):
    return make_user()


@pytest.fixture
def sample(media_dir):
    return (media_dir / "sample.mp4").read_bytes()


def playlist(segment_url):
    return (f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:20\n#EXT-X-MEDIA-SEQUENCE:0\n"
            f"#EXTINF:20.0,\n{segment_url}\n#EXT-X-ENDLIST\n").encode()


@pytest.fixture(params=["redirect", "playlist", "playlist-named-mp4"])
def hostile(request, allowed, other, sample, owner):
    """A recording on the allowed upstream that points ffmpeg at the other one."""
    other.add_file("/x.mp4", sample, "video/mp4")
    other.add_file("/seg0.ts", sample, "video/mp2t")
    if request.param == "redirect":
        url = allowed.add_redirect("/meeting.mp4", other.url("/x.mp4"))
    elif request.param == "playlist":
        url = allowed.add_file("/meeting.m3u8", playlist(other.url("/seg0.ts")), "application/vnd.apple.mpegurl")
    else:
        url = allowed.add_file("/meeting.mp4", playlist(other.url("/seg0.ts")), "video/mp4")
    return make_recording(owner=owner, url=url, title="Hostile upstream", duration_seconds=20.0)


def queued_server_clip(recording, user, start=2, end=8):
    return make_clip(recording, "queued", uploaded=False, user=user, mode="server", start=start, end=end)


def test_the_server_clip_job_never_reaches_another_host(app, hostile, owner, allowed, other):
    clip = queued_server_clip(hostile, owner)

    assert cut_clip(clip.id) == "failed"

    assert other.requests == []
    row = clip_row(clip.id)
    assert row.status == "failed" and row.error.startswith("The recording could not be cut")
    assert get_storage().head(row.storage_key) is None  # nothing downloadable was stored
    assert allowed.requests, "the allowed upstream was asked, through the guard"


def test_creating_a_clip_of_it_is_refused_in_words_and_nothing_is_fetched_elsewhere(app, login, hostile, owner,
                                                                                   other):
    client = login(owner)
    for mode in ("server", "browser"):
        response = client.post(CLIPS_URL, json={"type": "meet", "id": hostile.id, "start_seconds": 2,
                                                "end_seconds": 8, "mode": mode})
        assert response.status_code in (422, 502), response.get_data(as_text=True)
        message = response.get_json()["error"]["message"]
        assert "MP4" in message or "redirect" in message
    assert db.session.query(RecordingClip).count() == 0
    assert other.requests == []


def test_the_share_page_and_its_poster_never_reach_another_host(app, login, client, hostile, owner, other):
    token = make_share_link(owner, hostile)

    assert client.get(f"/s/{token}").status_code == 200
    assert client.get(f"/s/{token}/poster.jpg").status_code == 404
    assert run_queued_jobs(app) == ["failed"]
    assert client.get(f"/s/{token}/poster.jpg").status_code == 404
    db.session.expire_all()
    assert db.session.get(MeetRoom, hostile.id).poster_status == "failed"

    assert other.requests == []
    assert get_storage().head(f"posters/meet-{hostile.id}.jpg") is None


def test_a_plain_mp4_on_the_allowed_host_is_cut_through_the_guard_by_ranges(app, allowed, other, owner, sample):
    recording = make_recording(owner=owner, url=allowed.add_file("/standup.mp4", sample, "video/mp4"))
    clip = queued_server_clip(recording, owner, 5, 10)

    assert cut_clip(clip.id) == "ready"

    row = clip_row(clip.id)
    info = probe(get_storage().local_path(row.storage_key))
    assert abs(info.duration_seconds - 5) <= 2.5
    assert all(seen.path == "/standup.mp4" for seen in allowed.requests)
    assert any("Range" in seen.headers for seen in allowed.requests)
    assert other.requests == []


def test_the_relay_refuses_what_does_not_start_like_mp4_or_webm(app, allowed, owner):
    url = allowed.add_file("/notes.mp4", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
                           "image/svg+xml")
    with pytest.raises(MediaError, match="not a plain MP4, M4A or WebM file"):
        with open_media(url) as source:
            probe(source)


def test_a_host_off_the_allow_list_is_refused_before_anything_is_fetched(app, other, sample):
    url = other.add_file("/x.mp4", sample, "video/mp4")
    with pytest.raises(MediaError, match="PROXY_ALLOWED_HOSTS"):
        with open_media(url):
            pass
    assert other.requests == []


def test_a_bucket_object_that_is_a_playlist_is_not_followed(app, other, sample):
    """An uploaded "clip" that is an HLS playlist: the demuxer allow-list never opens it."""
    other.add_file("/seg0.ts", sample, "video/mp2t")
    key = "clips/hostile.mp4"
    from io import BytesIO
    get_storage().put(key, BytesIO(playlist(other.url("/seg0.ts"))), content_type="video/mp4")
    with pytest.raises(MediaError):
        with open_media(key) as source:
            probe(source)
    assert other.requests == []


def test_an_unreachable_external_source_is_a_clear_error_at_creation(app, login, owner):
    recording = make_recording(owner=owner, url="http://127.0.0.1:9/gone.mp4")  # not on the allow-list either
    response = login(owner).post(CLIPS_URL, json={"type": "meet", "id": recording.id, "start_seconds": 1,
                                                  "end_seconds": 5, "mode": "server"})
    assert_json_error(response, 502, "upstream_refused")
