"""What the doubles do with a video once they have its bytes: fetch it the way a platform's crawler does,
and probe it (PyAV, the FFmpeg libraries that the av wheel ships) into the facts the platforms' video
specifications speak of: container, codecs, picture size, frame rate, duration, audio, byte size and
where the moov atom sits.

It is kept apart from webapp/media.py on purpose: a double that reused the app's own probe would agree
with the app's mistakes.
"""
import io
import struct
from dataclasses import asdict, dataclass

import av
import requests

# A platform's fetcher is not a browser; say so, like facebookexternalhit does.
FETCH_HEADERS = {"User-Agent": "reclip-contract-double/1.0 (+media fetcher)"}


class FetchError(Exception):
    """The media could not be downloaded (status, network, too large)."""


class ProbeError(Exception):
    """The bytes are not a video this probe can read."""


@dataclass
class Probe:
    container: str  # "mp4", "mov", "webm", "matroska" or PyAV's format name
    size: int
    duration: float
    video_codec: str = None
    width: int = None
    height: int = None
    fps: float = None
    pix_fmt: str = None
    video_bit_rate: int = None
    audio_codec: str = None
    sample_rate: int = None
    channels: int = None
    moov_before_mdat: bool = None  # None when the file is not ISO BMFF
    has_edit_list: bool = False

    def as_record(self):
        return asdict(self)


def fetch(url, max_bytes, timeout=30):
    """The body at `url`, following redirects as curl -L does; FetchError past `max_bytes`."""
    try:
        with requests.get(url, headers=FETCH_HEADERS, stream=True, allow_redirects=True, timeout=timeout) as resp:
            if resp.status_code != 200:
                raise FetchError(f"the media URL answered HTTP {resp.status_code}")
            chunks, total = [], 0
            for chunk in resp.iter_content(256 * 1024):
                total += len(chunk)
                if total > max_bytes:
                    raise FetchError(f"the file is larger than {max_bytes} bytes")
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.RequestException as exc:
        raise FetchError(f"the media URL could not be fetched ({exc.__class__.__name__})") from exc


def probe(data):
    """Probe video bytes; ProbeError when PyAV cannot open them or they hold no video stream."""
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise ProbeError(f"not a readable media file ({exc.__class__.__name__})") from exc
    with container:
        videos = [s for s in container.streams if s.type == "video"]
        audios = [s for s in container.streams if s.type == "audio"]
        if not videos:
            raise ProbeError("the file has no video stream")
        video = videos[0]
        duration = container.duration / av.time_base if container.duration else None
        if not duration and video.duration and video.time_base:
            duration = float(video.duration * video.time_base)
        rate = video.average_rate or video.guessed_rate or video.base_rate
        ctx = video.codec_context
        result = Probe(
            container=_container_name(container.format.name, data),
            size=len(data),
            duration=float(duration or 0.0),
            video_codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            fps=float(rate) if rate else None,
            pix_fmt=ctx.pix_fmt,
            video_bit_rate=ctx.bit_rate or video.bit_rate or None,
        )
        if audios:
            actx = audios[0].codec_context
            result.audio_codec = actx.name
            result.sample_rate = actx.sample_rate
            result.channels = actx.channels
    atoms = top_level_atoms(data)
    if atoms:
        names = [name for name, _, _ in atoms]
        if "moov" in names and "mdat" in names:
            result.moov_before_mdat = names.index("moov") < names.index("mdat")
        for name, start, end in atoms:
            if name == "moov":
                result.has_edit_list = b"elst" in data[start:end]
    return result


def top_level_atoms(data):
    """[(type, start, end)] of the top-level ISO BMFF boxes, or [] when `data` is not ISO BMFF."""
    atoms, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        header = 8
        if size == 1:
            if offset + 16 > len(data):
                break
            size = struct.unpack(">Q", data[offset + 8:offset + 16])[0]
            header = 16
        elif size == 0:
            size = len(data) - offset
        if size < header:
            return [] if not atoms else atoms
        try:
            name = kind.decode("ascii")
        except UnicodeDecodeError:
            return []
        atoms.append((name, offset, min(offset + size, len(data))))
        offset += size
    if atoms and atoms[0][0] not in ("ftyp", "moov", "mdat", "free", "wide", "skip", "styp"):
        return []
    return atoms


def _container_name(format_name, data):
    names = set(format_name.split(","))
    if "mp4" in names or "mov" in names:
        brand = data[8:12] if data[4:8] == b"ftyp" else b""
        return "mov" if brand == b"qt  " else "mp4"
    if "webm" in names or "matroska" in names:
        return "webm" if b"webm" in data[:64] else "matroska"
    return format_name
