"""`flask clips cleanup` and jobs.cleanup(): expire never-completed uploads, delete orphan clip objects."""
import uuid
from datetime import timedelta

import pytest

from tests.clip_helpers import clip_row
from tests.factories import make_clip, make_recording, make_user, put_object
from webapp.clips import jobs
from webapp.extensions import db
from webapp.storage import get_storage

DAY = 24 * 3600


def exists(key):
    return get_storage().head(key) is not None


@pytest.fixture
def app_config(request):
    """Local storage; `parametrize("app_config", ["s3"], indirect=True)` for moto's S3."""
    return dict(request.getfixturevalue("s3_config")) if getattr(request, "param", "local") == "s3" else {}


@pytest.fixture
def owner(app):
    return make_user()


@pytest.fixture
def recording(owner):
    return make_recording(owner=owner)


def test_cleanup_command_expires_stale_uploads_and_deletes_old_orphans(app, runner, recording):
    stale = make_clip(recording, "awaiting_upload", age=timedelta(hours=2))
    stale_never_uploaded = make_clip(recording, "awaiting_upload", age=timedelta(hours=3), uploaded=False)
    recent = make_clip(recording, "awaiting_upload", age=timedelta(minutes=30))
    ready = make_clip(recording, "ready", age=timedelta(days=400), size_bytes=1024, duration_seconds=4.0)
    put_object(ready.storage_key, age_seconds=400 * DAY)
    failed = make_clip(recording, "failed", age=timedelta(days=3), error="The recording could not be cut.")
    put_object(failed.storage_key, age_seconds=3 * DAY)  # a failed job's leftover: no live row
    old_orphan = put_object(f"clips/uploads/{uuid.uuid4().hex}.mp4", age_seconds=2 * DAY)
    young_orphan = put_object(f"clips/{uuid.uuid4().hex}.mp4", age_seconds=12 * 3600)
    old_recording = put_object("recordings/meet/old.mp4", age_seconds=30 * DAY)  # not under clips/

    result = runner.invoke(args=["clips", "cleanup"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Expired 2 never-completed uploads; deleted 2 orphan clip objects."
    for clip in (stale, stale_never_uploaded):
        row = clip_row(clip.id)
        assert row.status == "expired"
        assert "not completed within an hour" in row.error
        assert not exists(row.storage_key)
    assert clip_row(recent.id).status == "awaiting_upload" and exists(recent.storage_key)
    assert clip_row(ready.id).status == "ready" and exists(ready.storage_key)
    assert clip_row(failed.id).status == "failed" and not exists(failed.storage_key)
    assert not exists(old_orphan)
    assert exists(young_orphan)
    assert exists(old_recording)


def test_cleanup_twice_does_nothing_the_second_time(app, runner, recording):
    make_clip(recording, "awaiting_upload", age=timedelta(hours=2))
    put_object(f"clips/{uuid.uuid4().hex}.mp4", age_seconds=2 * DAY)

    assert jobs.cleanup() == {"expired": 1, "orphans_deleted": 1}
    assert jobs.cleanup() == {"expired": 0, "orphans_deleted": 0}
    result = runner.invoke(args=["clips", "cleanup"])
    assert result.output.strip() == "Expired 0 never-completed uploads; deleted 0 orphan clip objects."


def test_cleanup_keeps_live_clips_of_every_status(app, recording):
    statuses = ("queued", "processing", "ready")
    live = {make_clip(recording, status, age=timedelta(days=5)).id: status for status in statuses}
    for clip_id in live:
        put_object(clip_row(clip_id).storage_key, age_seconds=5 * DAY)

    assert jobs.cleanup() == {"expired": 0, "orphans_deleted": 0}

    for clip_id, status in live.items():
        row = clip_row(clip_id)
        assert row.status == status
        assert exists(row.storage_key)


def test_expired_clip_is_gone_from_the_api(app, login, owner, recording):
    stale = make_clip(recording, "awaiting_upload", age=timedelta(hours=2), user=owner)
    jobs.cleanup()

    client = login(owner)
    response = client.get(f"/api/livekit/recordings/clips/{stale.id}")
    assert response.status_code == 404
    listed = client.get(f"/api/livekit/recordings/clips?type=meet&id={recording.id}").get_json()["clips"]
    assert stale.id not in [clip["id"] for clip in listed]


@pytest.mark.parametrize("app_config", ["s3"], indirect=True)
def test_cleanup_on_s3_deletes_stale_uploads_and_keeps_young_objects(app, recording):
    stale = make_clip(recording, "awaiting_upload", age=timedelta(hours=2))
    recent = make_clip(recording, "awaiting_upload", age=timedelta(minutes=5))
    ready = make_clip(recording, "ready", age=timedelta(days=30))
    young_orphan = put_object(f"clips/{uuid.uuid4().hex}.mp4")  # just written: S3 says so

    assert jobs.cleanup() == {"expired": 1, "orphans_deleted": 0}

    assert clip_row(stale.id).status == "expired" and not exists(stale.storage_key)
    assert exists(recent.storage_key) and exists(ready.storage_key) and exists(young_orphan)


# --- what a still-valid upload policy can leave behind (security review, finding 6) ---------------

def test_an_upload_made_again_after_complete_is_deleted_at_the_next_cleanup(app, recording):
    """complete moved the checked clip to its -ready key; the policy, valid for its TTL, put a file back."""
    clip = make_clip(recording, "ready", uploaded=False)
    clip.storage_key = f"clips/{clip.id}-ready.mp4"
    db.session.commit()
    ready = put_object(clip.storage_key)
    again = put_object(f"clips/{clip.id}.mp4")  # just now: no waiting a day for this one

    assert jobs.cleanup()["orphans_deleted"] == 1
    assert not exists(again) and exists(ready)


def test_objects_of_clips_in_flight_are_kept(app, recording):
    waiting = make_clip(recording, "awaiting_upload")
    checking = make_clip(recording, "processing")
    put_object(f"clips/{checking.id}-ready.mp4")  # complete is copying it right now

    assert jobs.cleanup()["orphans_deleted"] == 0
    assert exists(waiting.storage_key) and exists(checking.storage_key)
    assert exists(f"clips/{checking.id}-ready.mp4")


def test_posters_of_deleted_clips_are_deleted(app, recording):
    kept = make_clip(recording, "ready")
    put_object(f"posters/clip-{kept.id}.jpg")
    gone = put_object(f"posters/clip-{uuid.uuid4().hex}.jpg")
    recording_poster = put_object(f"posters/meet-{recording.id}.jpg")

    jobs.cleanup()

    assert exists(f"posters/clip-{kept.id}.jpg") and exists(recording_poster)
    assert not exists(gone)


def test_deleting_a_clip_deletes_its_poster_and_any_upload_made_again(app, login, owner, recording):
    clip = make_clip(recording, "ready", uploaded=False, user=owner)
    clip.storage_key = f"clips/{clip.id}-ready.mp4"
    db.session.commit()
    keys = [put_object(clip.storage_key), put_object(f"clips/{clip.id}.mp4"), put_object(f"posters/clip-{clip.id}.jpg")]

    assert login(owner).delete(f"/api/livekit/recordings/clips/{clip.id}").status_code == 204

    assert [exists(key) for key in keys] == [False, False, False]


def test_a_browser_clip_stuck_while_being_checked_may_be_completed_again(app, recording):
    """The web process died in the middle of `complete`: the claim is given back, not a server cut queued."""
    stuck = make_clip(recording, "processing", age=timedelta(minutes=30), step="checking")

    assert jobs.recover_stalled() == []

    assert clip_row(stuck.id).status == "awaiting_upload"
