"""How the server job calls ffmpeg: -ss before -i, and bounded HTTP ranges when ffmpeg has them."""
import pytest

from webapp.clips.jobs import ffmpeg_cut_args
from webapp.media import REMOTE_PROTOCOLS, MediaSource, _http_options_of

pytestmark = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)


LOCAL = MediaSource("/data/in.mp4")
REMOTE = MediaSource("https://bucket.example/in.mp4?X-Amz-Signature=abc", protocols=REMOTE_PROTOCOLS)


def test_seek_comes_before_the_input(app):
    args = ffmpeg_cut_args(LOCAL, 3.25, 8.5, "/tmp/out.mp4", precise=False, audio_only=False)
    at = args.index("-ss")
    assert args[at:at + 6] == ["-ss", "3.250", "-i", "/data/in.mp4", "-t", "5.250"]
    assert ["-c", "copy"] == args[at + 6:at + 8] and args[-3:] == ["-movflags", "+faststart", "/tmp/out.mp4"]


def test_the_input_may_use_only_its_protocols_formats_and_decoders(app):
    local = ffmpeg_cut_args(LOCAL, 1, 5, "/tmp/out.mp4", precise=False, audio_only=False)
    before_input = local[:local.index("-i")]
    assert before_input[before_input.index("-protocol_whitelist") + 1] == "file"
    assert "hls" not in before_input[before_input.index("-format_whitelist") + 1]
    assert "png" not in before_input[before_input.index("-codec_whitelist") + 1].split(",")
    assert before_input[before_input.index("-max_pixels") + 1] == str(3840 * 2160)
    remote = ffmpeg_cut_args(REMOTE, 1, 5, "/tmp/out.mp4", precise=False, audio_only=False)
    assert remote[remote.index("-protocol_whitelist") + 1] == "http,https,tcp,tls"


def test_url_sources_are_read_in_bounded_ranges_on_one_connection(app):
    args = ffmpeg_cut_args(REMOTE, 60, 120, "/tmp/out.mp4", precise=False, audio_only=False)
    before_input = args[:args.index("-i")]
    assert {"-rw_timeout", "-multiple_requests", "-request_size", "-initial_request_size"} <= set(before_input)
    local = ffmpeg_cut_args(LOCAL, 60, 120, "/tmp/out.mp4", precise=False, audio_only=False)
    assert "-request_size" not in local and "-rw_timeout" not in local


def test_an_older_ffmpeg_without_those_options_gets_none(app, tmp_path):
    old_ffmpeg = tmp_path / "ffmpeg"
    old_ffmpeg.write_text("#!/bin/sh\necho 'http AVOptions:'\necho '  -seekable <int> .D..'\n")
    old_ffmpeg.chmod(0o755)
    app.config["FFMPEG_BINARY"] = str(old_ffmpeg)
    try:
        args = ffmpeg_cut_args(REMOTE, 1, 5, "/tmp/out.mp4", precise=False, audio_only=False)
    finally:
        _http_options_of.cache_clear()
    assert "-request_size" not in args and "-rw_timeout" in args


def test_precise_cuts_re_encode_and_audio_clips_drop_video(app):
    precise = ffmpeg_cut_args(LOCAL, 1, 5, "/o.mp4", precise=True, audio_only=False)
    assert "libx264" in precise and "copy" not in precise
    audio = ffmpeg_cut_args(MediaSource("/in.m4a"), 1, 5, "/o.m4a", precise=False, audio_only=True)
    assert "-vn" in audio
