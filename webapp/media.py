"""FFmpeg: the binary from the imageio-ffmpeg wheel, and probing with PyAV."""
import re
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

import av
from flask import current_app, has_app_context

from webapp.blocking import run_blocking


class MediaError(Exception):
    """The file is not media that we can read."""


@dataclass(frozen=True)
class MediaInfo:
    duration_seconds: float
    has_video: bool
    has_audio: bool
    format_name: str
    width: int | None = None
    height: int | None = None


# What ffmpeg and PyAV may do with a file that someone else wrote. Without these, a "video" can be an
# HLS playlist or a concat list that makes them fetch other URLs or local files, or an image codec
# whose one frame decodes to gigabytes. Demuxers and decoders outside the lists are never opened.
MP4_FORMATS = "mov,mp4,m4a,3gp,3g2,mj2"
EXTERNAL_FORMATS = f"{MP4_FORMATS},matroska,webm"
RECORDING_FORMATS = f"{EXTERNAL_FORMATS},ogg,mp3,wav"
DECODERS = ("h264,hevc,vp8,vp9,av1,libdav1d,aac,mp3float,mp3,opus,libopus,vorbis,libvorbis,flac,alac,"
            "pcm_s16le,pcm_s24le,pcm_s32le,pcm_f32le")
VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1"}
AUDIO_CODECS = {"aac", "mp3", "opus", "vorbis", "flac", "alac", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"}
PIXEL_FORMATS = {"yuv420p", "yuvj420p", "yuv420p10le", "nv12", "yuv422p", "yuvj422p", "yuv422p10le", "yuv444p",
                 "yuvj444p"}
MAX_PIXELS = 3840 * 2160  # 4K UHD, either way up
MAX_SIDE = 4096
MAX_FRAME_RATE = 120
MAX_STREAMS = 8
MAX_CHANNELS = 8
MAX_SAMPLE_RATE = 192_000
LOCAL_PROTOCOLS = "file"
REMOTE_PROTOCOLS = "http,https,tcp,tls"  # a presigned URL; ffmpeg's redirects stay within these


@dataclass(frozen=True)
class MediaSource:
    """A file for ffmpeg or PyAV, with the only protocols and container formats they may use on it."""

    url: str
    protocols: str = LOCAL_PROTOCOLS
    formats: str = RECORDING_FORMATS

    @property
    def is_remote(self):
        return self.protocols != LOCAL_PROTOCOLS

    def input_options(self):
        """ffmpeg options that go before `-i url`."""
        args = ["-protocol_whitelist", self.protocols, "-format_whitelist", self.formats,
                "-codec_whitelist", DECODERS, "-max_pixels", str(MAX_PIXELS)]
        if self.is_remote:
            args += ["-rw_timeout", "30000000", *http_input_options()]
        return args

    def av_options(self):
        """(container options, options for every stream) for av.open."""
        container = {"protocol_whitelist": self.protocols, "format_whitelist": self.formats,
                     "codec_whitelist": DECODERS}
        if self.is_remote:  # bounded ranges on one connection: a probe reads the head and the index only
            container.update(multiple_requests="1", request_size=str(1024 * 1024), initial_request_size=str(64 * 1024))
        # One decoder thread, and no frame beyond 4K: probing decodes a few frames of each stream.
        streams = {"max_pixels": str(MAX_PIXELS), "threads": "1"}
        return container, streams


def as_source(source):
    """A MediaSource; a plain path is a local file."""
    return source if isinstance(source, MediaSource) else MediaSource(str(source))


def ffmpeg_binary():
    """FFMPEG_BINARY when set, else the binary that the imageio-ffmpeg wheel ships."""
    if has_app_context() and current_app.config.get("FFMPEG_BINARY"):
        return current_app.config["FFMPEG_BINARY"]
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


@lru_cache(maxsize=8)
def _http_options_of(binary):
    try:
        result = subprocess.run([binary, "-hide_banner", "-h", "protocol=http"], capture_output=True, text=True,
                                timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(re.findall(r"^\s+-(\w+)\s", result.stdout, flags=re.MULTILINE))


def http_input_options():
    """Options that make ffmpeg read a URL in bounded ranges on one connection (ffmpeg 8+), so a cut
    reads little more than it needs; none for an older FFMPEG_BINARY that lacks them."""
    wanted = {"multiple_requests": "1", "request_size": str(4 * 1024 * 1024),
              "initial_request_size": str(1024 * 1024)}
    known = _http_options_of(ffmpeg_binary())
    if not set(wanted) <= known:
        return []
    return [item for name, value in wanted.items() for item in (f"-{name}", value)]


def probe(source, timeout=30):
    """Duration, streams and picture size of a file path or MediaSource; MediaError when it is not
    media we accept. The streams are checked from what the container says before anything heavy is
    decoded (the decoders allowed are few and refuse a frame larger than 4K)."""
    return run_blocking(_probe, as_source(source), timeout)


def _probe(source, timeout):
    with open_checked(source, timeout) as (_container, info):
        return info


@contextmanager
def open_checked(source, timeout=30, **container_options):
    """(container, MediaInfo) of a MediaSource whose streams passed the checks, open for the `with` block
    (a job that goes on reading, by the index, reads the head and the index once)."""
    options, stream_options = source.av_options()
    options.update(container_options)
    try:
        container = av.open(source.url, timeout=timeout, container_options=options, options=stream_options)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"it is not a playable video or audio file ({exc.__class__.__name__})") from exc
    with container:
        video, audio = _checked_streams(container)
        duration = container.duration / av.time_base if container.duration else _stream_duration(container)
        if not duration or duration <= 0:
            raise MediaError("its duration cannot be read")
        width = video[0].codec_context.width if video else None
        height = video[0].codec_context.height if video else None
        yield container, MediaInfo(float(duration), bool(video), bool(audio), container.format.name, width, height)


def _checked_streams(container):
    """(video streams, audio streams); MediaError for a codec, size, rate or layout we do not take."""
    streams = container.streams
    if len(streams) > MAX_STREAMS:
        raise MediaError(f"it has {len(streams)} streams, more than {MAX_STREAMS}")
    video, audio = list(streams.video), list(streams.audio)
    if not video and not audio:
        raise MediaError("it has no audio or video stream")
    for stream in video:
        context = stream.codec_context
        codec = context.codec.canonical_name
        if codec not in VIDEO_CODECS:
            raise MediaError(f"its video is {codec}, not H.264, HEVC, VP8, VP9 or AV1")
        width, height = context.width or 0, context.height or 0
        if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
            raise MediaError(f"its picture is {width}×{height}, larger than 3840×2160")
        rate = stream.average_rate or stream.guessed_rate
        if rate and float(rate) > MAX_FRAME_RATE:
            raise MediaError(f"it has {float(rate):.0f} frames a second, more than {MAX_FRAME_RATE}")
        if context.pix_fmt and context.pix_fmt not in PIXEL_FORMATS:
            raise MediaError(f"its pixel format {context.pix_fmt} is not one of a video's")
    for stream in audio:
        context = stream.codec_context
        codec = context.codec.canonical_name
        if codec not in AUDIO_CODECS:
            raise MediaError(f"its audio is {codec}, which is not accepted")
        if (context.channels or 0) > MAX_CHANNELS or (context.sample_rate or 0) > MAX_SAMPLE_RATE:
            raise MediaError(f"its audio has {context.channels} channels at {context.sample_rate} Hz, too many")
    return video, audio


def _stream_duration(container):
    durations = [float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base]
    return max(durations, default=0.0)


def run_ffmpeg(args, timeout=600, on_tick=None, tick_seconds=5.0):
    """Run ffmpeg with args; MediaError with ffmpeg's last lines when it fails.

    on_tick() is called every tick_seconds while ffmpeg runs (a job's heartbeat).
    """
    cmd = [ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args]
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            while True:
                try:
                    returncode = process.wait(timeout=min(tick_seconds, max(0.0, deadline - time.monotonic())))
                    break
                except subprocess.TimeoutExpired:
                    if time.monotonic() >= deadline:
                        raise MediaError(f"ffmpeg took longer than {timeout} s") from None
                    if on_tick:
                        on_tick()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    if returncode != 0:
        tail = " ".join(stderr.strip().splitlines()[-3:])
        raise MediaError(f"ffmpeg failed: {_without_addresses(tail) or 'exit code ' + str(returncode)}")


def _without_addresses(text):
    """ffmpeg tags its messages `[h264 @ 0x55d...]`: heap addresses are nobody's business."""
    return re.sub(r" @ 0x[0-9a-fA-F]+", "", text)


def generate_test_media(path, seconds, *, video=True, size="1280x720", frequency=440):
    """Write a real H.264/AAC MP4 (or an AAC M4A with video=False) of that many seconds."""
    audio_in = ["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=48000:duration={seconds}"]
    if video:
        video_in = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}"]
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "1500k", "-maxrate", "2M", "-bufsize", "4M",
                  "-pix_fmt", "yuv420p", "-g", "60",
                  "-c:a", "aac", "-b:a", "96k"]
        run_ffmpeg([*video_in, *audio_in, *codecs, "-shortest", "-movflags", "+faststart", str(path)])
    else:
        run_ffmpeg([*audio_in, "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", str(path)])
