"""FFmpeg: the binary from the imageio-ffmpeg wheel, and probing with PyAV."""
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache

import av
from flask import current_app, has_app_context


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
    """Duration and streams of a file path or URL; MediaError when it is not playable media."""
    try:
        with av.open(source, timeout=timeout) as container:
            video = container.streams.video
            audio = container.streams.audio
            if not video and not audio:
                raise MediaError("it has no audio or video stream")
            duration = container.duration / av.time_base if container.duration else _stream_duration(container)
            if not duration or duration <= 0:
                raise MediaError("its duration cannot be read")
            width = video[0].codec_context.width if video else None
            height = video[0].codec_context.height if video else None
            return MediaInfo(float(duration), bool(video), bool(audio), container.format.name, width, height)
    except MediaError:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(f"it is not a playable video or audio file ({exc.__class__.__name__})") from exc


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
        raise MediaError(f"ffmpeg failed: {tail or 'exit code ' + str(returncode)}")


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
