"""A clip from a long recording reads only what the clip needs (issue 11), in real Chromium.

The recording is 20 minutes of 720p with its moov at the end, as LiveKit Egress writes it: ten
2-minute copies of one video segment, each copy with a tone of its own, so that where a clip
starts can be told from its sound (which copy) and its first picture (where in the copy).
"""
import struct
import subprocess

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in
from tests.factories import make_recording
from tests.range_server import RangeServer
from tests.test_browser_clips import CLIP_TIMEOUT_MS, download_clip, generate, open_editor, record_steps
from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.media import ffmpeg_binary, generate_test_media, probe, run_ffmpeg

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)]

SEGMENT_SECONDS = 120
COPIES = 10
CHUNK = 1024 * 1024
START, END = 605.0, 615.0  # 10 s from the middle: copy 5, 5 s in


def tone_of(copy):
    return 300 + 50 * copy  # Hz


@pytest.fixture(scope="session")
def long_meeting(tmp_path_factory):
    directory = tmp_path_factory.mktemp("long-meeting")
    video = directory / "video.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={SEGMENT_SECONDS}",
                "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "600k", "-g", "60", "-pix_fmt", "yuv420p",
                str(video)], timeout=300)
    parts = []
    for copy in range(COPIES):
        part = directory / f"part{copy}.mp4"
        run_ffmpeg(["-i", str(video), "-f", "lavfi", "-i",
                    f"sine=frequency={tone_of(copy)}:sample_rate=48000:duration={SEGMENT_SECONDS}",
                    "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "64k", str(part)])
        parts.append(part)
    listing = directory / "parts.txt"
    listing.write_text("".join(f"file '{part}'\n" for part in parts))
    path = directory / "meeting.mp4"
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(path)])  # moov at the end
    return {"path": path, "segment": video, "moov": moov_size(path)}


def moov_size(path):
    """The size of the top-level moov box, and a check that it comes after the media."""
    with open(path, "rb") as fh:
        offset, boxes = 0, []
        while header := fh.read(8):
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", fh.read(8))[0]
            boxes.append((kind, size))
            offset += size
            fh.seek(offset)
    assert [kind for kind, _ in boxes].index(b"moov") > [kind for kind, _ in boxes].index(b"mdat")
    return dict(boxes)[b"moov"]


class CountingMiddleware:
    """Counts the media bytes the app sends (the local backend's signed URLs, the proxy's streams) to
    the clip maker, not to the editor's <video>, which reads what it shows; and who asked what."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.storage_bytes = 0
        self.paths = []
        self.expire_a_worker_read = False  # answer the clip maker's first chunk 403 once, as an expired URL
        self.storage_requests = 0
        self.log = []  # (Range, Sec-Fetch-Dest, bytes sent) of every storage request

    def __call__(self, environ, start_response):
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        self.paths.append(f"{path}?{query}")
        proxied = path == "/api/livekit/recordings/play" and "format=json" not in query
        if not (path.startswith("/storage/o/") or proxied):
            return self.wsgi_app(environ, start_response)
        self.storage_requests += 1
        worker_read = environ.get("HTTP_SEC_FETCH_DEST") == "empty" and environ.get("HTTP_RANGE") not in (None, "bytes=0-0")
        if self.expire_a_worker_read and worker_read:
            self.expire_a_worker_read = False
            start_response("403 FORBIDDEN", [("Content-Type", "application/json"), ("Content-Length", "2")])
            return [b"{}"]
        return self._count(self.wsgi_app(environ, start_response), environ)

    def _count(self, body, environ):
        sent = 0
        try:
            for chunk in body:
                sent += len(chunk)
                if environ.get("HTTP_SEC_FETCH_DEST") != "video":  # the editor's player watches on its own
                    self.storage_bytes += len(chunk)
                yield chunk
        finally:
            self.log.append((environ.get("HTTP_RANGE"), environ.get("HTTP_SEC_FETCH_DEST"), sent))
            if hasattr(body, "close"):
                body.close()


@pytest.fixture
def counting(app):
    app.wsgi_app = CountingMiddleware(app.wsgi_app)
    return app.wsgi_app


def first_frame(path, at=0.0, seconds=None):
    """Gray 64×36 frames of the file from `at` (for `seconds`, else one) as a list of bytes."""
    args = [ffmpeg_binary(), "-v", "error", "-ss", f"{at:.3f}", "-i", str(path)]
    args += ["-t", f"{seconds:.3f}"] if seconds else ["-frames:v", "1"]
    raw = subprocess.run([*args, "-vf", "scale=64:36,format=gray", "-f", "rawvideo", "-"], capture_output=True,
                         check=True).stdout
    return [raw[i:i + 64 * 36] for i in range(0, len(raw), 64 * 36)]


def tone(path):
    """The clip's tone in Hz, from sign changes of its first second of audio."""
    raw = subprocess.run([ffmpeg_binary(), "-v", "error", "-i", str(path), "-t", "1", "-ac", "1", "-ar", "48000",
                          "-f", "s16le", "-"], capture_output=True, check=True).stdout
    samples = struct.unpack(f"<{len(raw) // 2}h", raw)
    crossings = sum(1 for a, b in zip(samples, samples[1:]) if (a < 0) != (b < 0))
    return crossings / 2 / (len(samples) / 48000)


def assert_starts_where_asked(clip_path, meeting):
    """Its tone names the copy; its first picture, matched in the segment, where in the copy."""
    copy = round((tone(clip_path) - 300) / 50)
    assert copy == int(START // SEGMENT_SECONDS)
    local_start = START - copy * SEGMENT_SECONDS
    window = 3.0
    frames = first_frame(meeting["segment"], local_start - window, window + 0.5)
    clip_frame = first_frame(clip_path)[0]
    differences = [sum(abs(a - b) for a, b in zip(frame, clip_frame)) for frame in frames]
    matched_at = local_start - window + differences.index(min(differences)) / 30
    assert local_start - 2.5 <= matched_at <= local_start + 0.5  # the keyframe before START, at most 2 s


def cut_long_meeting(page, live_server, member, title, tmp_path, before_download=lambda: None):
    log_in(page, live_server, member.email)
    row = open_editor(page, title)
    record_steps(row)
    generate(row, f"{int(START // 60)}:{int(START % 60):02d}", f"{int(END // 60)}:{int(END % 60):02d}")
    expect(row.get_by_text("Clip ready").first).to_be_visible(timeout=CLIP_TIMEOUT_MS)
    names = page.evaluate("window.clipStepNames")
    assert "Trimming (reading only the parts it needs)" in names
    before_download()
    return download_clip(page, row, tmp_path)


def assert_a_good_clip(path, meeting):
    info = probe(path)
    assert info.has_video and info.has_audio
    assert info.duration_seconds == pytest.approx(END - START, abs=2.5)
    assert_starts_where_asked(path, meeting)


def test_a_clip_of_a_long_meeting_in_the_bucket_reads_about_the_clip(app, counting, live_server, page, member,
                                                                      long_meeting, tmp_path):
    make_recording(owner=member, file=long_meeting["path"], title="Long meeting", duration_seconds=1200.0)

    sent = []
    path = cut_long_meeting(page, live_server, member, "Long meeting", tmp_path,
                            before_download=lambda: sent.append(counting.storage_bytes))

    assert_a_good_clip(path, long_meeting)
    clip_size = db.session.query(RecordingClip).one().size_bytes
    limit = 2 * clip_size + long_meeting["moov"] + 4 * CHUNK
    assert sent[0] <= limit, (sent[0], limit, counting.log)
    assert page.console_errors == []


class TestExternal:
    @pytest.fixture
    def cdn(self, long_meeting):
        with RangeServer() as server:
            server.add_file("/meeting.mp4", long_meeting["path"].read_bytes(), "video/mp4")
            yield server

    @pytest.fixture
    def app_config(self, cdn):
        return {"PROXY_ALLOWED_HOSTS": [f"127.0.0.1:{cdn.port}"], "PROXY_ALLOW_PRIVATE_ADDRESSES": True}

    def test_through_the_proxy_too(self, app, counting, live_server, page, member, long_meeting, cdn, tmp_path):
        make_recording(owner=member, url=cdn.url("/meeting.mp4"), title="Long meeting", duration_seconds=1200.0)

        sent = []
        path = cut_long_meeting(page, live_server, member, "Long meeting", tmp_path,
                                before_download=lambda: sent.append(counting.storage_bytes))

        assert_a_good_clip(path, long_meeting)
        clip_size = db.session.query(RecordingClip).one().size_bytes
        assert sent[0] <= 2 * clip_size + long_meeting["moov"] + 4 * CHUNK, (sent[0], counting.log)


class TestSmallSources:
    """The fallbacks and the failures, on the 20 s sample."""

    @pytest.fixture
    def cdn(self, media_dir):
        with RangeServer() as server:
            server.add_file("/standup.mp4", (media_dir / "sample.mp4").read_bytes(), "video/mp4")
            yield server

    @pytest.fixture
    def app_config(self, cdn):
        return {"PROXY_ALLOWED_HOSTS": [f"127.0.0.1:{cdn.port}"], "PROXY_ALLOW_PRIVATE_ADDRESSES": True}

    def clip(self, page, live_server, member, tmp_path):
        log_in(page, live_server, member.email)
        row = open_editor(page, "Standup")
        record_steps(row)
        generate(row, "3", "13")
        expect(row.get_by_text("Clip ready").first).to_be_visible(timeout=CLIP_TIMEOUT_MS)
        path = download_clip(page, row, tmp_path)
        assert probe(path).duration_seconds == pytest.approx(10, abs=2.5)
        return page.evaluate("window.clipStepNames")

    def test_a_server_that_ignores_ranges_gets_the_whole_file_path(self, app, live_server, page, member, cdn,
                                                                   tmp_path):
        cdn.ignore_range = True
        make_recording(owner=member, url=cdn.url("/standup.mp4"), title="Standup")
        names = self.clip(page, live_server, member, tmp_path)
        assert "Fetching the whole recording (its storage sends no parts)" in names
        assert "Trimming" in names

    def test_a_chunk_that_fails_once_is_retried(self, app, live_server, page, member, cdn, tmp_path):
        cdn.fail_ranges = {"bytes=0-1048575"}  # the worker's first chunk
        make_recording(owner=member, url=cdn.url("/standup.mp4"), title="Standup")
        names = self.clip(page, live_server, member, tmp_path)
        assert "Trimming (reading only the parts it needs)" in names
        assert not cdn.fail_ranges  # the failure happened, and the cut went on
        assert [seen.headers.get("Range") for seen in cdn.requests].count("bytes=0-1048575") == 2

    def test_an_url_that_runs_out_mid_cut_is_renewed(self, app, counting, live_server, page, member, media_dir,
                                                      tmp_path):
        make_recording(owner=member, file=media_dir / "sample.mp4", title="Standup")
        counting.expire_a_worker_read = True
        self.clip(page, live_server, member, tmp_path)
        assert not counting.expire_a_worker_read  # it happened, and the cut went on
        renewals = [path for path in counting.paths if "/play" in path and "format=json" in path]
        assert len(renewals) == 2  # the editor's own, and the worker's renewal
