"""Server-side clips: a real Huey consumer process cuts real media with ffmpeg, on every queue and storage."""
import os
import time
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
import requests

from tests.assertions import assert_json_error
from tests.clip_helpers import CLIPS_URL, clip_count, clip_row, local_path
from tests.conftest import TEST_REDIS_URL, free_port
from tests.consumer import STALE_SECONDS, Consumers, consumer_app_config, wait_for
from tests.factories import make_recording, make_user
from webapp.clips import jobs
from webapp.extensions import db
from webapp.media import generate_test_media, probe
from webapp.storage import get_storage
from webapp.timeutil import utcnow

JOB_TIMEOUT = 60  # seconds a clip may take from queued to ready on a slow, busy machine


@pytest.fixture
def app_config(request, tmp_path):
    """The SQLite queue by default; parametrize indirectly with redis-queue, s3 or unreachable-redis."""
    kind = getattr(request, "param", "sqlite-queue")
    if kind == "redis-queue":
        if not TEST_REDIS_URL:
            pytest.skip("TEST_REDIS_URL is not set: the Redis job queue variant is not run")
        return consumer_app_config(tmp_path, redis_url=TEST_REDIS_URL)
    if kind == "s3":
        return consumer_app_config(tmp_path, **request.getfixturevalue("s3_config"))
    if kind == "unreachable-redis":
        return consumer_app_config(tmp_path, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    assert kind == "sqlite-queue", kind
    return consumer_app_config(tmp_path)


@pytest.fixture
def consumers(app, tmp_path):
    """Start real consumers with consumers.start(); all are stopped (and the queue emptied) afterwards."""
    pool = Consumers(app, tmp_path)
    yield pool
    pool.stop_all()
    app.extensions["job_queue"].flush()


@pytest.fixture(scope="session")
def hd_recording(tmp_path_factory):
    """A 6 s 1280x720 recording: an exact cut of it keeps ffmpeg busy for a few seconds."""
    path = tmp_path_factory.mktemp("hd-media") / "hd.mp4"
    generate_test_media(path, 6, size="1280x720")
    return path


def create_server_clip(client, recording, start, end, **extra):
    """POST a server clip; it must answer 202 with the clip queued."""
    response = client.post(CLIPS_URL, json={"type": recording.source_type, "id": recording.id,
                                            "start_seconds": start, "end_seconds": end, "mode": "server", **extra})
    assert response.status_code == 202, response.get_data(as_text=True)
    clip = response.get_json()["clip"]
    assert clip["status"] == "queued"
    assert clip["mode"] == "server"
    assert (clip["start_seconds"], clip["end_seconds"]) == (start, end)
    assert "download" not in clip["links"]
    return clip


def fetch_clip(client, clip_id):
    """GET the clip. Requests share the test's session, so forget what it has loaded: the consumer changes rows."""
    db.session.expire_all()
    response = client.get(f"{CLIPS_URL}/{clip_id}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["clip"]


def wait_for_clip(client, clip_id, consumers, statuses=("ready", "failed"), timeout=JOB_TIMEOUT):
    """The clip's JSON once its status is one of statuses; fails with the consumers' logs otherwise."""
    def settled():
        clip = fetch_clip(client, clip_id)
        return clip if clip["status"] in statuses else None

    try:
        return wait_for(settled, timeout, interval=0.2, message=f"clip {clip_id} to be {' or '.join(statuses)}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; clip now {fetch_clip(client, clip_id)}\n{consumers.logs()}") from None


def assert_ready(clip, consumers, seconds, tolerance=2.5):
    assert clip["status"] == "ready", f"{clip}\n{consumers.logs()}"
    assert clip["error"] is None and clip["step"] is None
    assert clip["size_bytes"] > 0
    assert clip["duration_seconds"] == pytest.approx(seconds, abs=tolerance)
    assert {"download", "play"} <= set(clip["links"])


def download_clip(client, clip, tmp_path):
    """Follow the clip's download 302 to the stored object and save it; returns (path, response headers)."""
    response = client.get(clip["links"]["download"])
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    if location.startswith("http://localhost/"):
        served = client.get(local_path(location))
        status, headers, body = served.status_code, served.headers, served.get_data()
    else:
        served = requests.get(location, timeout=30)
        status, headers, body = served.status_code, served.headers, served.content
    assert status == 200
    assert headers["Content-Disposition"].startswith("attachment")
    path = Path(tmp_path) / f"{clip['id']}-download"
    path.write_bytes(body)
    assert len(body) == clip["size_bytes"]
    return path, headers


def ffmpeg_in_group(pgid):
    """True when an ffmpeg process runs in that process group (the consumer's job, mid-cut)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            if b"ffmpeg" in (entry / "cmdline").read_bytes():
                return True
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return False


# --- end to end -------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", ["sqlite-queue", "redis-queue"], indirect=True)
def test_server_clips_of_a_meeting_and_a_call_are_cut_by_the_consumer(app, consumers, login, media_dir, tmp_path):
    consumers.start()
    admin = make_user(super_admin=True)
    meet = make_recording(owner=admin, file=media_dir / "sample.mp4", title="Standup")
    voice = make_recording("voice", file=media_dir / "sample.m4a", title="Support call")
    client = login(admin)

    meet_clip = create_server_clip(client, meet, 3, 13)
    voice_clip = create_server_clip(client, voice, 2, 9)

    meet_clip = wait_for_clip(client, meet_clip["id"], consumers)
    assert_ready(meet_clip, consumers, 10)
    path, headers = download_clip(client, meet_clip, tmp_path)
    assert headers["Content-Type"] == "video/mp4"
    assert 'filename="Standup 0.03-0.13.mp4"' in headers["Content-Disposition"]
    media = probe(str(path))
    assert media.has_video and media.has_audio
    assert "mp4" in media.format_name
    assert media.duration_seconds == pytest.approx(10, abs=2.5)

    voice_clip = wait_for_clip(client, voice_clip["id"], consumers)
    assert_ready(voice_clip, consumers, 7)
    path, headers = download_clip(client, voice_clip, tmp_path)
    assert headers["Content-Type"] == "audio/mp4"
    assert 'filename="Support call 0.02-0.09.m4a"' in headers["Content-Disposition"]
    media = probe(str(path))
    assert media.has_audio and not media.has_video
    assert media.duration_seconds == pytest.approx(7, abs=2.5)

    assert clip_row(meet_clip["id"]).attempts == 1
    assert clip_row(meet_clip["id"]).storage_key.endswith(".mp4")
    assert clip_row(voice_clip["id"]).storage_key.endswith(".m4a")


@pytest.mark.parametrize("app_config", ["s3"], indirect=True)
def test_server_clip_on_s3_reads_the_source_by_presigned_url_and_stores_into_the_bucket(
        app, consumers, login, media_dir, s3_config, tmp_path):
    consumers.start()
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
    client = login(owner)

    clip = wait_for_clip(client, create_server_clip(client, recording, 4, 12)["id"], consumers)

    assert_ready(clip, consumers, 8)
    key = clip_row(clip["id"]).storage_key
    s3 = boto3.client("s3", endpoint_url=s3_config["S3_ENDPOINT_URL"], region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    head = s3.head_object(Bucket=s3_config["S3_BUCKET"], Key=key)
    assert head["ContentType"] == "video/mp4"
    assert head["ContentLength"] == clip["size_bytes"]
    path, _headers = download_clip(client, clip, tmp_path)  # a presigned moto URL
    media = probe(str(path))
    assert media.has_video and media.duration_seconds == pytest.approx(8, abs=2.5)


def test_precise_server_clip_lasts_exactly_what_was_asked(app, consumers, login, media_dir, tmp_path):
    consumers.start()
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4")  # a keyframe every 2 s
    client = login(owner)

    clip = create_server_clip(client, recording, 3.3, 8.7, precise=True)
    assert clip["precise"] is True
    clip = wait_for_clip(client, clip["id"], consumers)

    assert_ready(clip, consumers, 5.4, tolerance=0.1)
    path, _headers = download_clip(client, clip, tmp_path)
    media = probe(str(path))
    assert media.has_video and media.has_audio
    assert media.duration_seconds == pytest.approx(5.4, abs=0.1)


# --- failures and recovery ----------------------------------------------------------------

def test_a_consumer_killed_mid_job_is_recovered_by_the_next_one(app, consumers, login, hd_recording, tmp_path):
    first = consumers.start()
    owner = make_user()
    recording = make_recording(owner=owner, file=hd_recording, duration_seconds=6.0)
    client = login(owner)

    clip = create_server_clip(client, recording, 1, 5, precise=True)
    wait_for(lambda: ffmpeg_in_group(first.process.pid), 30, interval=0.05, message="ffmpeg to be cutting")
    first.kill()  # SIGKILL to the consumer's process group: the consumer and its ffmpeg
    wait_for(lambda: not ffmpeg_in_group(first.process.pid), 10, message="the killed ffmpeg to be gone")
    row = clip_row(clip["id"])
    assert (row.status, row.step, row.attempts) == ("processing", "cutting", 1)  # nobody is left to finish it

    # Once no heartbeat came for CLIP_JOB_STALE_SECONDS, the job counts as stalled.
    stale_at = row.updated_at + timedelta(seconds=STALE_SECONDS + 0.5)
    time.sleep(max(0.0, (stale_at - utcnow()).total_seconds()))
    consumers.start()  # recover_stalled runs as the consumer starts
    clip = wait_for_clip(client, clip["id"], consumers)

    assert_ready(clip, consumers, 4, tolerance=0.1)
    assert clip_row(clip["id"]).attempts == 2
    path, _headers = download_clip(client, clip, tmp_path)
    media = probe(str(path))
    assert (media.width, media.height) == (1280, 720)
    assert media.duration_seconds == pytest.approx(4, abs=0.1)


@pytest.mark.parametrize("app_config", ["sqlite-queue", "s3"], indirect=True)
def test_a_source_ffmpeg_cannot_read_fails_in_words_after_the_retries(app, consumers, login, tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video " * 3300)  # fixed bytes: random ones could probe as some codec
    consumers.start()
    owner = make_user()
    recording = make_recording(owner=owner, file=garbage)
    client = login(owner)

    clip = wait_for_clip(client, create_server_clip(client, recording, 1, 5)["id"], consumers)

    assert clip["status"] == "failed", clip
    assert clip["error"].startswith("The recording could not be cut: ")
    assert "Invalid data" in clip["error"]  # ffmpeg's own reason
    for secret in (str(tmp_path), "recordings/meet/", "http", "Signature"):  # no server path, no presigned URL
        assert secret not in clip["error"]
    assert clip["size_bytes"] is None and "download" not in clip["links"]
    row = clip_row(clip["id"])
    assert row.attempts == 3  # the first run and both retries
    assert get_storage().head(row.storage_key) is None
    assert list(get_storage().list("clips/")) == []
    response = client.get(f"{CLIPS_URL}/{clip['id']}/download")
    assert_json_error(response, 409, "not_ready")


def test_the_cut_job_is_idempotent(app, login, media_dir):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4")
    clip = create_server_clip(login(owner), recording, 3, 13)  # queued; no consumer runs here

    assert jobs.cut_clip(clip["id"]) == "ready"
    assert jobs.cut_clip(clip["id"]) == "skipped"

    row = clip_row(clip["id"])
    assert row.status == "ready" and row.attempts == 1
    assert [info.key for info in get_storage().list("clips/")] == [row.storage_key]
    assert get_storage().head(row.storage_key).size == row.size_bytes


@pytest.mark.parametrize("app_config", ["unreachable-redis"], indirect=True)
def test_a_queue_that_cannot_be_reached_answers_503_and_keeps_no_clip(app, login, media_dir):
    owner = make_user()
    recording = make_recording(owner=owner, file=media_dir / "sample.mp4")
    client = login(owner)

    response = client.post(CLIPS_URL, json={"type": "meet", "id": recording.id, "start_seconds": 3,
                                            "end_seconds": 13, "mode": "server"})

    body = assert_json_error(response, 503, "queue_unavailable")
    assert "queue" in body["error"]["message"]
    assert clip_count() == 0
    assert list(get_storage().list("clips/")) == []
