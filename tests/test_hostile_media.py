"""Uploads that are cheap to send and costly to read (security review, finding 3), and posters made once.

A clip upload is checked from what its container says before anything heavy is decoded: only
video and audio codecs (no image codec), at most 3840×2160, at most 120 frames a second, and the
decoders that probing opens refuse a bigger frame. Posters are made by a job, once.
"""
import json
import subprocess
import sys

import pytest

from tests.clip_helpers import CLIPS_URL, clip_row, create, upload_local
from tests.conftest import run_queued_jobs
from tests.factories import make_recording, make_share_link
from webapp.media import MediaError, generate_test_media, probe, run_ffmpeg

@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    """Small files that each break one rule; all are real MP4s of 10 s."""
    directory = tmp_path_factory.mktemp("hostile")
    files = {
        # Two 6000×6000 frames of 16-bit RGB: 200 KB on disk, 216 MB per decoded frame.
        "png": (["-f", "lavfi", "-i", "color=c=gray:size=6000x6000:rate=0.2:duration=10",
                 "-c:v", "png", "-pix_fmt", "rgb48be"]),
        "oversized": (["-f", "lavfi", "-i", "color=c=gray:size=4096x2304:rate=1:duration=10",
                       "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]),
        "too-many-frames": (["-f", "lavfi", "-i", "testsrc2=size=64x64:rate=240:duration=10",
                             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]),
    }
    paths = {}
    for name, args in files.items():
        path = directory / f"{name}.mp4"
        run_ffmpeg([*args, "-movflags", "+faststart", str(path)], timeout=120)
        paths[name] = path
    paths["good"] = directory / "good.mp4"
    generate_test_media(paths["good"], 10, size="320x240")
    return paths


@pytest.fixture
def recording(member, media_dir):
    return make_recording(owner=member, file=media_dir / "sample.mp4", title="Weekly standup",
                          size_bytes=100_000_000)  # so that the upload limit is no obstacle here


def upload_and_complete(client, recording, path):
    body = create(client, recording, 3, 13).get_json()
    assert upload_local(client, body["upload"], path).status_code == 204
    return body["clip"]["id"], client.post(f"{CLIPS_URL}/{body['clip']['id']}/complete")


@pytest.mark.parametrize("name, reason", [
    ("png", "its video is png"),
    ("oversized", "its picture is 4096×2304, larger than 3840×2160"),
    ("too-many-frames", "240 frames a second"),
])
def test_a_clip_that_breaks_a_rule_is_rejected_in_words(app, login, member, recording, hostile_files, name, reason):
    clip_id, response = upload_and_complete(login(member), recording, hostile_files[name])

    assert response.status_code == 422, response.get_data(as_text=True)
    assert reason in response.get_json()["error"]["message"]
    assert clip_row(clip_id).status == "failed"
    assert run_queued_jobs(app) == []  # no poster job for a rejected clip


def test_probing_an_image_codec_never_decodes_its_frames(hostile_files):
    """In a process of its own: the peak memory of checking the 6000×6000 PNG clip stays small."""
    script = (
        "import json, resource, sys\n"
        "from webapp.media import MediaError, probe\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    probe(sys.argv[1])\n    outcome = 'accepted'\n"
        "except MediaError as exc:\n    outcome = str(exc)\n"
        "print(json.dumps({'outcome': outcome, 'growth_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(hostile_files["png"])], capture_output=True,
                            text=True, timeout=60, check=True)
    report = json.loads(result.stdout)
    assert "png" in report["outcome"]
    assert report["growth_kb"] < 64 * 1024, report  # one decoded frame would be 216 MB


def test_a_good_clip_is_ready_and_its_poster_is_made_once_by_a_job(app, login, client, member,
                                                                   recording, hostile_files, tmp_path):
    owner = login(member)
    clip_id, response = upload_and_complete(owner, recording, hostile_files["good"])
    assert response.status_code == 200, response.get_data(as_text=True)
    row = clip_row(clip_id)
    assert (row.width, row.height, row.poster_status) == (320, 240, "queued")

    assert run_queued_jobs(app) == ["ready"]
    token = make_share_link(member, clip_row(clip_id))

    # From here on no request runs ffmpeg: count every start of the binary.
    calls = tmp_path / "ffmpeg-calls"
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec {app.config.get("FFMPEG_BINARY") or _real_ffmpeg()} "$@"\n')
    wrapper.chmod(0o755)
    app.config["FFMPEG_BINARY"] = str(wrapper)
    for _ in range(5):
        poster = client.get(f"/s/{token}/poster.jpg")
        assert poster.status_code == 302, poster.get_data(as_text=True)
        assert client.get(f"/s/{token}").status_code == 200
    assert run_queued_jobs(app) == []
    assert not calls.exists()


def _real_ffmpeg():
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def test_the_checks_refuse_too_many_streams(tmp_path, media_dir):
    path = tmp_path / "many.mp4"
    source = str(media_dir / "sample.m4a")
    run_ffmpeg([arg for _ in range(9) for arg in ("-i", source)]
               + [arg for index in range(9) for arg in ("-map", str(index))] + ["-c", "copy", str(path)])
    with pytest.raises(MediaError, match="9 streams"):
        probe(path)


def test_ffmpeg_errors_never_show_heap_addresses(hostile_files, tmp_path):
    with pytest.raises(MediaError) as failed:
        run_ffmpeg(["-codec_whitelist", "h264", "-i", str(hostile_files["png"]), "-frames:v", "1",
                    str(tmp_path / "x.jpg")])
    assert "png" in str(failed.value)  # ffmpeg's own words stay
    assert " @ 0x" not in str(failed.value) and "0x5" not in str(failed.value)
