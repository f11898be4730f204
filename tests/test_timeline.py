"""The timeline job (issue 12, point 3): thumbnails (sprite + WebVTT), peaks (waveform-data JSON) and
keyframes, made once per recording by seeking, so that even a six-hour recording costs little to read."""
import json
import re

import pytest

from tests.assertions import assert_json_error
from tests.conftest import run_queued_jobs
from tests.factories import make_recording, make_user
from tests.range_server import RangeServer
from webapp import timeline
from webapp.storage import get_storage

from tests.conftest import SIX_HOURS


def stored(recording, name):
    return b"".join(get_storage().read_range(timeline.keys(recording)[name]))


def test_a_recording_gets_thumbnails_peaks_and_keyframes(app, member, media_dir):
    recording = make_recording(owner=member, file=media_dir / "sample.mp4")  # 20 s, a keyframe every 2 s

    assert timeline.make_timeline(recording) == "ready"

    vtt = stored(recording, "thumbnails").decode()
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\nsprite\.jpg#xywh=(\d+),(\d+),160,90", vtt)
    assert vtt.startswith("WEBVTT") and len(cues) == 10
    assert cues[0][:2] == ("00:00:00.000", "00:00:02.000") and cues[1][2:] == ("160", "0")
    assert cues[-1][1].startswith("00:00:20.")  # the last one lasts to the end
    assert stored(recording, "sprite")[:2] == b"\xff\xd8"
    peaks = json.loads(stored(recording, "peaks"))
    assert {key: peaks[key] for key in ("version", "channels", "bits")} == {"version": 2, "channels": 1, "bits": 8}
    assert len(peaks["data"]) == 2 * peaks["length"] and peaks["length"] == 200
    assert max(peaks["data"]) > 10 and min(peaks["data"]) < -10  # the sample's tone, at -18 dB
    assert json.loads(stored(recording, "keyframes"))[:4] == [0.0, 2.0, 4.0, 6.0]
    assert recording.timeline_status == "ready"


def test_a_voice_call_gets_peaks_only(app, admin, media_dir):
    call = make_recording("voice", file=media_dir / "sample.m4a")
    assert timeline.make_timeline(call) == "ready"
    assert set(timeline.stored_objects(call)) == {"peaks", "keyframes"}
    assert json.loads(stored(call, "keyframes")) == []


def test_a_failure_is_remembered(app, member, tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\0" * 4096)
    recording = make_recording(owner=member, file=garbage)
    assert timeline.make_timeline(recording) == "failed"
    assert timeline.request_timeline(recording) == "failed"  # never queued again
    assert run_queued_jobs(app) == []


def test_the_api_queues_the_timeline_and_then_gives_its_files(app, login, member, standup):
    client = login(member)
    url = f"/api/livekit/recordings/timeline?type=meet&id={standup.id}"
    assert client.get(url).get_json() == {"status": "queued"}
    assert run_queued_jobs(app) == ["ready"]
    body = client.get(url).get_json()
    assert body["status"] == "ready" and set(body) == {"status", "sprite", "thumbnails", "peaks", "keyframes"}
    peaks = client.get(body["peaks"].replace("http://localhost", ""))
    assert peaks.status_code == 200 and peaks.get_json()["version"] == 2
    assert_json_error(login(make_user("other@example.com")).get(url), 404, "not_found")


class TestSixHours:
    @pytest.fixture
    def cdn(self, six_hour_recording):
        with RangeServer() as server:
            server.add_file("/six-hours.mp4", six_hour_recording.read_bytes(), "video/mp4")
            yield server

    @pytest.fixture
    def app_config(self, cdn):
        return {"PROXY_ALLOWED_HOSTS": [f"127.0.0.1:{cdn.port}"], "PROXY_ALLOW_PRIVATE_ADDRESSES": True}

    def test_a_six_hour_recording_costs_a_few_percent_of_its_size(self, app, member, cdn, six_hour_recording):
        recording = make_recording(owner=member, url=cdn.url("/six-hours.mp4"), duration_seconds=float(SIX_HOURS))

        assert timeline.make_timeline(recording) == "ready"

        size = six_hour_recording.stat().st_size
        print(f"six-hour source {size} bytes; the timeline job read {cdn.sent_bytes} "
              f"({100 * cdn.sent_bytes / size:.1f} %) in {len(cdn.requests)} requests")
        assert cdn.sent_bytes < size * 0.05
        vtt = stored(recording, "thumbnails").decode()
        assert vtt.count("sprite.jpg#xywh=") == timeline.MAX_THUMBNAILS
        assert re.search(r"05:57:00\.\d{3} --> 06:00:00\.\d{3}\nsprite\.jpg#xywh=1440,990,160,90\n$", vtt)
        peaks = json.loads(stored(recording, "peaks"))
        assert peaks["length"] == timeline.PEAK_PIXELS
        assert all(low <= -10 for low in peaks["data"][::2])  # the tone is heard in every window, start to end
        assert len(json.loads(stored(recording, "keyframes"))) == SIX_HOURS // 2
