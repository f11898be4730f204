"""What the clip editor's timeline shows for a recording, made once by a job and stored beside it:

- thumbnails: a sprite sheet (JPEG, 160×90 tiles) and a WebVTT track whose cues point into it
  (`sprite.jpg#xywh=…`, the format video players use), one frame every few seconds;
- peaks: the audio's loudness in the `waveform-data` JSON format of BBC's audiowaveform / peaks.js
  (version 2, 8 bits, min/max pairs per pixel);
- keyframes: the times a stream copy can start at, from the container's index.

Every read goes through the same guarded `open_media` as the other jobs, and by the container's index
(the moov): it gives the keyframes, each thumbnail costs one keyframe packet, and on a long recording
the waveform decodes a short window of audio packets per pixel instead of hours of audio. So a
six-hour recording costs a few percent of its size, not all of it.
"""
import bisect
import json
import math
import tempfile
from array import array
from pathlib import Path

import av
import urllib3
from av.stream import Discard
from flask import current_app
from sqlalchemy import update

from webapp.delivery import open_media
from webapp.extensions import db
from webapp.jobs import enqueue_timeline
from webapp.media import MediaError, open_checked, run_ffmpeg
from webapp.storage import get_storage

QUEUED, READY, FAILED = "queued", "ready", "failed"
TILE_WIDTH, TILE_HEIGHT, COLUMNS = 160, 90, 10
MAX_THUMBNAILS = 120
MIN_THUMBNAIL_GAP = 2.0  # seconds
PEAK_PIXELS = 1000
WHOLE_AUDIO_SECONDS = 300  # up to this, the waveform decodes all the audio; beyond, a window per pixel
WINDOW_SECONDS = 0.25
READ_SIZE = 64 * 1024  # bytes per HTTP request while ffmpeg reads the index


def keys(recording):
    base = f"timelines/{recording.source_type}-{recording.id}"
    return {"sprite": f"{base}/sprite.jpg", "thumbnails": f"{base}/thumbnails.vtt", "peaks": f"{base}/peaks.json",
            "keyframes": f"{base}/keyframes.json"}


CONTENT_TYPES = {"sprite": "image/jpeg", "thumbnails": "text/vtt", "peaks": "application/json",
                 "keyframes": "application/json"}


def stored_objects(recording):
    """{name: (key, content type)} of what the job stored (no thumbnails for audio, no peaks for silence)."""
    storage = get_storage()
    return {name: (key, CONTENT_TYPES[name]) for name, key in keys(recording).items() if storage.head(key)}


def request_timeline(recording):
    """Queue the job once for a recording that has no timeline yet; its timeline status."""
    if recording.timeline_status is not None:
        return recording.timeline_status
    model = type(recording)
    claimed = db.session.execute(update(model).where(model.id == recording.id, model.timeline_status.is_(None))
                                 .values(timeline_status=QUEUED)).rowcount == 1
    db.session.commit()
    if claimed:
        try:
            enqueue_timeline(recording.source_type, recording.id)
        except Exception as exc:  # the queue's own errors have no common base class; try again next time
            current_app.logger.warning("could not queue the timeline of %s %s: %s", recording.source_type,
                                       recording.id, exc)
            db.session.execute(update(model).where(model.id == recording.id).values(timeline_status=None))
            db.session.commit()
    db.session.refresh(recording)
    return recording.timeline_status


def make_timeline(recording):
    """The job's work: 'ready' or 'failed'. Storage errors raise (a retry)."""
    storage = get_storage()
    try:
        with open_media(recording.recording_url) as source:
            reads = {"request_size": str(READ_SIZE), "initial_request_size": str(READ_SIZE)} if source.is_remote else {}
            with open_checked(source, **reads) as (container, info), PacketReader(source) as reader:
                keyframes = keyframe_times(container)
                frames = thumbnail_frames(container, reader, info.duration_seconds) if info.has_video else []
                peaks = peaks_of(container, reader, info.duration_seconds) if info.has_audio else None
        with tempfile.TemporaryDirectory(prefix="reclip-timeline-") as tmp:
            objects = {"keyframes": json.dumps(keyframes).encode()}
            if peaks:
                objects["peaks"] = json.dumps(peaks).encode()
            if frames:
                objects["sprite"] = sprite_sheet(frames, Path(tmp))
                objects["thumbnails"] = thumbnails_vtt(frames, info.duration_seconds).encode()
            paths = keys(recording)
            for name, data in objects.items():
                path = Path(tmp) / name
                path.write_bytes(data)
                with path.open("rb") as fh:
                    storage.put(paths[name], fh, content_type=CONTENT_TYPES[name])
    except (MediaError, av.FFmpegError, OSError) as exc:
        current_app.logger.info("no timeline for %s %s: %s", recording.source_type, recording.id, exc)
        recording.timeline_status = FAILED
        db.session.commit()
        return FAILED
    recording.timeline_status = READY
    db.session.commit()
    return READY


# --- reading by the index ---------------------------------------------------------------------------

class PacketReader:
    """Reads the bytes of single packets where the container's index says they are: a thumbnail costs its
    keyframe, a waveform window its audio packets, and nothing in between is fetched."""

    def __init__(self, source):
        self.source = source
        self.pool = urllib3.PoolManager(maxsize=1, retries=urllib3.Retry(2, redirect=0), timeout=30)
        self.file = None if source.is_remote else open(source.url, "rb")  # noqa: SIM115 (closed on exit)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.file:
            self.file.close()
        self.pool.clear()

    def read(self, position, size):
        if self.file:
            self.file.seek(position)
            return self.file.read(size)
        response = self.pool.request("GET", self.source.url, redirect=False,
                                     headers={"Range": f"bytes={position}-{position + size - 1}"})
        if response.status != 206 or len(response.data) != size:
            raise MediaError(f"the recording did not give the part asked for ({response.status})")
        return response.data


def _index(stream):
    """The stream's index entries, or [] when the container has none (it is then read by seeking)."""
    return [entry for entry in stream.index_entries if entry.size > 0] if stream.index_entries else []


def _decode(context, packets):
    """Frames of packets read on their own: decoded, drained, and the decoder reset for the next ones."""
    frames = []
    for packet in packets:
        frames += context.decode(packet)
    frames += context.decode(None)
    context.flush_buffers()
    return frames


def _packet(reader, entry):
    return _packets(reader, [entry])[0]


def _packets(reader, entries):
    """The packets of entries that lie close together, fetched in one read from the first to the last."""
    if not entries:
        return []
    first = min(entry.pos for entry in entries)
    data = reader.read(first, max(entry.pos + entry.size for entry in entries) - first)
    packets = []
    for entry in entries:
        packet = av.Packet(data[entry.pos - first:entry.pos - first + entry.size])
        packet.pts = packet.dts = entry.timestamp
        packets.append(packet)
    return packets


def keyframe_times(container):
    """Seconds of the video's keyframes, from the container's index (no media is read for it)."""
    if not container.streams.video:
        return []
    stream = container.streams.video[0]
    base = float(stream.time_base)
    start = stream.start_time or 0
    return [round((entry.timestamp - start) * base, 3) for entry in _index(stream) if entry.is_keyframe]


# --- thumbnails ----------------------------------------------------------------------------------------

def thumbnail_frames(container, reader, duration):
    """[(time, rgb24 bytes of TILE_WIDTH×TILE_HEIGHT)]: the keyframe at or before each thumbnail's time."""
    stream = container.streams.video[0]
    keyframes = [entry for entry in _index(stream) if entry.is_keyframe]
    count = max(1, min(MAX_THUMBNAILS, int(duration // MIN_THUMBNAIL_GAP)))
    step = duration / count
    start, base = stream.start_time or 0, float(stream.time_base)
    frames = []
    for index in range(count):
        at = index * step
        if keyframes:
            entry = _last_at_or_before(keyframes, start + at / base)
            decoded = _decode(stream.codec_context, [_packet(reader, entry)])
        else:  # no index (not an MP4): seek and decode
            container.seek(int(at / base) + start, stream=stream, backward=True)
            decoded = _decode(stream.codec_context, _take(container.demux(stream), 1))
        if decoded:
            picture = decoded[0].reformat(width=TILE_WIDTH, height=TILE_HEIGHT, format="rgb24")
            frames.append((at, _rgb_bytes(picture)))
    return frames


def _last_at_or_before(entries, timestamp):
    low, high = 0, len(entries) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if entries[middle].timestamp <= timestamp:
            low = middle
        else:
            high = middle - 1
    return entries[low]


def _take(packets, count):
    taken = []
    for packet in packets:
        if packet.dts is not None:
            taken.append(packet)
        if len(taken) >= count:
            break
    return taken


def _rgb_bytes(frame):
    """The picture's rows without the line padding."""
    plane = frame.planes[0]
    row = TILE_WIDTH * 3
    data = bytes(plane)
    return b"".join(data[y * plane.line_size:y * plane.line_size + row] for y in range(TILE_HEIGHT))


def sprite_sheet(frames, directory):
    """The tiles in COLUMNS columns, as one JPEG (ffmpeg's tile filter over the raw frames)."""
    raw = directory / "frames.rgb"
    raw.write_bytes(b"".join(data for _at, data in frames))
    rows = math.ceil(len(frames) / COLUMNS)
    output = directory / "sprite.jpg"
    run_ffmpeg(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{TILE_WIDTH}x{TILE_HEIGHT}", "-i", str(raw),
                "-vf", f"tile={COLUMNS}x{rows}", "-frames:v", "1", "-q:v", "4", str(output)])
    return output.read_bytes()


def thumbnails_vtt(frames, duration):
    """A WebVTT track: each thumbnail covers the time up to the next one (the last, to the end)."""
    def stamp(seconds):
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        return f"{int(hours):02d}:{int(minutes):02d}:{secs:06.3f}"
    cues = ["WEBVTT", ""]
    for index, (at, _data) in enumerate(frames):
        until = frames[index + 1][0] if index + 1 < len(frames) else max(duration, at + 0.001)
        x, y = (index % COLUMNS) * TILE_WIDTH, (index // COLUMNS) * TILE_HEIGHT
        cues += [f"{stamp(at)} --> {stamp(until)}", f"sprite.jpg#xywh={x},{y},{TILE_WIDTH},{TILE_HEIGHT}", ""]
    return "\n".join(cues)


# --- peaks -------------------------------------------------------------------------------------------------

def peaks_of(container, reader, duration):
    """waveform-data JSON (version 2, one channel, 8 bits) of the first audio stream."""
    stream = container.streams.audio[0]
    context = stream.codec_context
    rate = context.sample_rate or 48000
    pixels = max(1, min(PEAK_PIXELS, int(duration * 10)))
    samples_per_pixel = max(1, round(duration * rate / pixels))
    levels = [[0.0, 0.0] for _ in range(pixels)]
    entries = _index(stream)
    if duration <= WHOLE_AUDIO_SECONDS or not entries:
        # Short (or not indexed): all of the audio, in order.
        for other in container.streams.video:
            other.discard = Discard.all
        container.seek(0, stream=stream)
        position = 0
        for packet in container.demux(stream):
            for frame in context.decode(packet):
                for offset, sample in enumerate(_mono(frame)):
                    _add(levels, (position + offset) // samples_per_pixel, sample)
                position += frame.samples
    else:
        # Long: a short window at the start of every pixel, read packet by packet from the index.
        start, base = stream.start_time or 0, float(stream.time_base)
        per_window = max(1, math.ceil(WINDOW_SECONDS * rate / (context.frame_size or 1024)))
        timestamps = [entry.timestamp for entry in entries]
        for pixel in range(pixels):
            first = bisect.bisect_left(timestamps, start + pixel * duration / pixels / base)
            window = entries[first:first + per_window]
            for frame in _decode(context, _packets(reader, window)):
                for sample in _mono(frame):
                    _add(levels, pixel, sample)
    data = []
    for low, high in levels:
        data += [max(-128, round(low * 127)), min(127, round(high * 127))]
    return {"version": 2, "channels": 1, "sample_rate": rate, "samples_per_pixel": samples_per_pixel, "bits": 8,
            "length": pixels, "data": data}


def _add(levels, pixel, sample):
    if 0 <= pixel < len(levels):
        level = levels[pixel]
        level[0], level[1] = min(level[0], sample), max(level[1], sample)


# Sample formats that decoders give, as (array type code, full scale).
_SAMPLE_FORMATS = {"fltp": ("f", 1.0), "flt": ("f", 1.0), "s16p": ("h", 32768), "s16": ("h", 32768),
                   "s32p": ("i", 2**31), "s32": ("i", 2**31)}


def _mono(frame):
    """The first channel's samples as floats in -1..1."""
    if frame.format.name not in _SAMPLE_FORMATS:
        return []
    code, scale = _SAMPLE_FORMATS[frame.format.name]
    values = array(code, bytes(frame.planes[0]))
    step = 1 if frame.format.is_planar else len(frame.layout.channels)
    values = values[: frame.samples * step: step]
    return values if scale == 1.0 else [value / scale for value in values]
