"""Helpers for clip tests: cut real clips with ffmpeg and upload them the way a browser does."""
from urllib.parse import urlsplit

import requests
from sqlalchemy import func, select

from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.media import run_ffmpeg

CLIPS_URL = "/api/livekit/recordings/clips"


def cut(source, out, start, seconds):
    """A stream-copy cut, as FFmpeg.wasm makes it in the browser; returns the output path."""
    run_ffmpeg(["-ss", str(start), "-i", str(source), "-t", str(seconds), "-c", "copy",
                "-movflags", "+faststart", str(out)])
    return out


def local_path(url):
    """The path and query of an absolute URL that the app itself serves (the local backend), for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def upload_local(client, upload, path, *, fields=None, filename="clip.mp4"):
    """POST the file to the local backend's presigned upload, multipart like a browser's form."""
    form = {**upload["fields"], **(fields or {})}
    with open(path, "rb") as fh:
        return client.flask.post(local_path(upload["url"]), data={**form, "file": (fh, filename)},
                                 content_type="multipart/form-data")


def upload_s3(upload, path, *, fields=None, filename="clip.mp4"):
    """POST the file to the S3 presigned upload over HTTP."""
    with open(path, "rb") as fh:
        return requests.post(upload["url"], data={**upload["fields"], **(fields or {})},
                             files={"file": (filename, fh)}, timeout=30)


def create(client, recording, start=3, end=13, **extra):
    """POST a browser clip request for the recording."""
    body = {"type": recording.source_type, "id": recording.id, "start_seconds": start, "end_seconds": end,
            "mode": "browser", **extra}
    return client.post(CLIPS_URL, json=body)


def clip_count():
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(RecordingClip))


def clip_row(clip_id):
    """The clip as the database has it now (None when deleted)."""
    db.session.expire_all()
    return db.session.get(RecordingClip, clip_id)

