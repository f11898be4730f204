"""Audio or video is decided once (by probing) and stored; everything reads it (issue 10, point 2)."""

from tests.clip_helpers import create
from tests.conftest import run_queued_jobs
from tests.factories import make_recording
from tests.test_shares_api import JPEG_MAGIC, follow, jpeg_size, new_token
from webapp.extensions import db
from webapp.recordings.models import MeetRoom
from webapp.recordings.service import media_kind_of


def added_id(result):
    assert result.exit_code == 0, result.output
    return int(result.output.strip().splitlines()[-1])


def test_a_meet_recording_stored_as_m4a_is_audio_everywhere(app, runner, login, client, member, media_dir):
    result = runner.invoke(args=["recordings", "add", "--type", "meet", "--product", "m10", "--owner", member.email,
                                 "--title", "Phone-in standup", "--file", str(media_dir / "sample.m4a")])
    recording = db.session.get(MeetRoom, added_id(result))
    assert (recording.media_kind, recording.width, recording.height) == ("audio", None, None)
    owner = login(member)

    listed = owner.get("/api/livekit/recordings?type=meet").get_json()["recordings"]
    assert [r["media_kind"] for r in listed] == ["audio"]
    play = owner.get(f"/api/livekit/recordings/play?type=meet&id={recording.id}")
    assert play.status_code == 302 and "audio/mp4" in follow(owner, play).headers["Content-Type"]

    clip = create(owner, recording).get_json()
    assert clip["clip"]["media_kind"] == "audio"
    assert clip["upload"]["fields"]["key"].endswith(".m4a")
    assert clip["upload"]["fields"]["Content-Type"] == "audio/mp4"

    token = new_token(owner, recording)
    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert "<audio" in page and "<video" not in page
    assert 'property="og:audio:type" content="audio/mp4"' in page and "og:video" not in page
    assert 'data-file-name="Phone-in standup-' in page and '.m4a"' in page
    assert run_queued_jobs(app) == ["ready", "ready"]  # its poster and its timeline, queued when it was added
    poster = follow(client, client.get(f"/s/{token}/poster.jpg"))
    assert poster.get_data().startswith(JPEG_MAGIC) and jpeg_size(poster.get_data()) == (1200, 630)  # a waveform


def test_backfill_probes_rows_that_do_not_know_their_kind(app, runner, member, media_dir):
    video = make_recording(owner=member, file=media_dir / "sample.mp4")
    audio_in_mp4 = make_recording(owner=member, file=media_dir / "sample.m4a", key="recordings/meet/call.mp4")
    broken = make_recording(owner=member, key="recordings/meet/gone.mp4")
    for recording in (video, audio_in_mp4, broken):
        recording.media_kind = recording.width = recording.height = None
    db.session.commit()
    assert media_kind_of(audio_in_mp4) == "video"  # the guess from a .mp4 name is wrong here

    result = runner.invoke(args=["recordings", "backfill"])

    assert result.exit_code == 0, result.output
    assert "Probed 2 recordings; 1 could not be read." in result.output
    db.session.expire_all()
    assert (video.media_kind, video.width, video.height) == ("video", 320, 240)
    assert (audio_in_mp4.media_kind, audio_in_mp4.width) == ("audio", None)
    assert broken.media_kind is None and media_kind_of(broken) == "video"


def test_a_webhook_recording_learns_its_kind_from_the_poster_job(app, member, media_dir):
    from webapp import posters
    recording = make_recording("voice", owner=member, file=media_dir / "sample.m4a")
    recording.media_kind = None
    db.session.commit()
    posters.request_poster(recording)
    assert run_queued_jobs(app) == ["ready"]
    db.session.expire_all()
    assert recording.media_kind == "audio"
