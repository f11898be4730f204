"""Social-ready exports: H.264 High + AAC, at most 60 fps, +faststart, in the shape chosen.

Vertical (1080×1920) and square (1080×1080) put the meeting's frame in the middle over a blurred,
enlarged copy of itself, or crop its centre; audio becomes a waveform video. Made once per target and
shape, and stored under exports/ (never under clips/, whose clean-up deletes what no clip names).
"""
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.delivery import open_media
from webapp.extensions import db
from webapp.media import MP4_FORMATS, RECORDING_FORMATS, MediaError, probe, run_ffmpeg
from webapp.social.models import SocialExport
from webapp.storage import get_storage

SIZES = {"vertical": (1080, 1920), "square": (1080, 1080)}
ORIGINAL_MAX_SIDE = 1920
EXPORT_TIMEOUT = 3600
ENCODE = ["-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p",
          "-fpsmax", "60", "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2", "-movflags", "+faststart"]


def export_key(target_type, target_id, shape, fill):
    return f"exports/{target_type}-{target_id}-{shape}-{fill}.mp4"


def video_filter(shape, fill):
    """The -filter_complex graph from [0:v] to [v]."""
    if shape == "original":
        side = ORIGINAL_MAX_SIDE
        return (f"[0:v]scale='min({side},iw)':'min({side},ih)':force_original_aspect_ratio=decrease,"
                "scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1[v]")
    width, height = SIZES[shape]
    cover = f"scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height}"
    if fill == "crop":
        return f"[0:v]{cover},setsar=1[v]"
    return (f"[0:v]split[back][front];[back]{cover},gblur=sigma=40,eq=brightness=-0.08[bg];"
            f"[front]scale={width}:{height}:force_original_aspect_ratio=decrease[fg];"
            "[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1[v]")


def waveform_filter(shape):
    """An audio-only source becomes its moving waveform on the product's colours."""
    width, height = SIZES.get(shape, (1280, 720))
    wave_height = height // 3
    return (f"[0:a]showwaves=s={width}x{wave_height}:mode=cline:rate=30:colors=#3451d1,format=yuva420p[w];"
            f"color=c=#f5f6fa:s={width}x{height}:r=30[bg];[bg][w]overlay=0:(H-h)/2:shortest=1,format=yuv420p[v]")


def ffmpeg_export_args(source, output, *, shape, fill, has_video, has_audio):
    graph = video_filter(shape, fill) if has_video else waveform_filter(shape)
    args = [*source.input_options(), "-i", source.url, "-filter_complex", graph, "-map", "[v]"]
    if has_audio:
        args += ["-map", "0:a:0"]
    return [*args, *ENCODE, "-shortest", str(output)]


def ensure_export(target_type, target_id, media_url, shape, fill, on_tick=None):
    """The ready SocialExport of the target in that shape, made now if needed; MediaError in words."""
    export = db.session.scalar(select(SocialExport).where(
        SocialExport.target_type == target_type, SocialExport.target_id == str(target_id),
        SocialExport.shape == shape, SocialExport.fill == fill))
    if export is not None and export.status == "ready" and get_storage().head(export.storage_key):
        return export
    if export is None:
        export = SocialExport(target_type=target_type, target_id=str(target_id), shape=shape, fill=fill,
                              status="making", storage_key=export_key(target_type, target_id, shape, fill))
        db.session.add(export)
        try:
            db.session.commit()
        except IntegrityError:  # another job is making it: make it too (same key, same bytes)
            db.session.rollback()
            return ensure_export(target_type, target_id, media_url, shape, fill, on_tick)
    formats = MP4_FORMATS if target_type == "clip" else RECORDING_FORMATS
    try:
        with tempfile.TemporaryDirectory(prefix="reclip-export-") as tmp:
            output = Path(tmp) / "export.mp4"
            with open_media(media_url, formats) as source:
                info = probe(source)
                args = ffmpeg_export_args(source, output, shape=shape, fill=fill, has_video=info.has_video,
                                          has_audio=info.has_audio)
                try:
                    run_ffmpeg(args, timeout=EXPORT_TIMEOUT, on_tick=on_tick, tick_seconds=15)
                except MediaError as exc:
                    raise MediaError(str(exc).replace(source.url, "the clip")) from None
            made = probe(output)
            with output.open("rb") as fh:
                get_storage().put(export.storage_key, fh, content_type="video/mp4")
            export.size_bytes = output.stat().st_size
    except MediaError as exc:
        export.status, export.error = "failed", f"The video for the post could not be made: {exc}"
        db.session.commit()
        raise MediaError(export.error) from None
    export.status, export.error = "ready", None
    export.duration_seconds, export.width, export.height = made.duration_seconds, made.width, made.height
    db.session.commit()
    return export
