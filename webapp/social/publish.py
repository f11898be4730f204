"""The publishing job: one per post, resumable. Each step's result is saved before the next starts, so
a worker killed anywhere resumes where it stopped (recover_stalled queues it again)."""
import time
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, update

from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.jobs import enqueue_publish
from webapp.media import MediaError
from webapp.recordings.models import RECORDING_MODELS
from webapp.social import crypto, meta, rules, service, tiktok
from webapp.social.export import ensure_export
from webapp.social.http import PlatformError
from webapp.social.models import Publication, PublicationStatus as S, SocialDestination, SocialExport
from webapp.storage import StorageError, get_storage
from webapp.timeutil import utcnow

MAX_ATTEMPTS = 5  # starts of one post's job, recoveries included
MEDIA_URL_TTL = 3600  # the platform fetches the video within the hour
UPLOAD_URL_LIFETIME = timedelta(minutes=55)  # TikTok's upload_url lives an hour


class Retry(Exception):
    """The platform asked to wait, or did not answer: queue the job again later."""


# --- the platform fetches the video itself: a one-hour, download-only URL --------------------

def _signer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="social-media")


def public_media_url(publication):
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        raise PlatformError("PUBLIC_BASE_URL must be set (to an https address) so that the platform can fetch "
                            "the video.")
    # The job runs outside any request, where url_for cannot build; the URL map builds the path itself.
    path = current_app.url_map.bind("localhost").build("social.media", {"token": _signer().dumps(publication.id)})
    return base + path


def publication_for_media_token(token):
    try:
        publication_id = _signer().loads(token, max_age=MEDIA_URL_TTL)
    except BadSignature:
        return None
    return db.session.get(Publication, publication_id)


# --- the job ----------------------------------------------------------------------------------

def claim(publication_id):
    """Take the post for this run: a queued one, or an active one whose last run stopped (stale)."""
    stale = utcnow() - timedelta(seconds=current_app.config["CLIP_JOB_STALE_SECONDS"])
    claimed = db.session.execute(
        update(Publication).where(Publication.id == publication_id, or_(
            Publication.status == S.QUEUED,
            Publication.status.in_(S.ACTIVE) & (Publication.updated_at < stale)))
        .values(attempts=Publication.attempts + 1, updated_at=utcnow(),
                status=db.case((Publication.status == S.QUEUED, S.EXPORTING), else_=Publication.status))
    ).rowcount
    db.session.commit()
    return bool(claimed)


def heartbeat(publication_id):
    db.session.execute(update(Publication).where(Publication.id == publication_id).values(updated_at=utcnow()))
    db.session.commit()


def _set(publication, **values):
    for name, value in values.items():
        setattr(publication, name, value)
    publication.updated_at = utcnow()
    db.session.commit()


def _fail(publication, message):
    _set(publication, status=S.FAILED, error=message)
    return S.FAILED


def run(publication_id):
    """The job. Returns the post's status; raises Retry to be queued again later."""
    if not claim(publication_id):
        return "skipped"
    publication = db.session.get(Publication, publication_id)
    if publication.attempts > MAX_ATTEMPTS:
        return _fail(publication, f"The post stopped {publication.attempts - 1} times without finishing.")
    destination = db.session.get(SocialDestination, publication.destination_id) if publication.destination_id else None
    if destination is None:
        return _fail(publication, f"The {rules.RULES[publication.platform].label} account was disconnected.")
    try:
        export = _export(publication)
        if publication.platform == "instagram":
            return _instagram(publication, destination, export)
        if publication.platform == "facebook":
            return _facebook(publication, destination, export)
        return _tiktok(publication, destination, export)
    except MediaError as exc:
        return _fail(publication, str(exc))
    except PlatformError as exc:
        db.session.rollback()
        if exc.token_refused:
            service.mark_refused(destination.connection, exc.message)
            return _fail(publication, exc.message)
        if exc.retryable and publication.attempts < MAX_ATTEMPTS:
            _set(publication, status=S.QUEUED)  # the next run claims it and goes on from its step
            raise Retry(exc.message) from None
        return _fail(publication, exc.message)
    except StorageError as exc:
        db.session.rollback()
        if publication.attempts < MAX_ATTEMPTS:
            _set(publication, status=S.QUEUED)
            raise Retry(str(exc)) from None
        return _fail(publication, "Storage could not be reached.")
    except Retry:
        db.session.rollback()
        _set(publication, status=S.QUEUED)
        raise


def _target_media(publication):
    if publication.target_type == "clip":
        clip = db.session.get(RecordingClip, publication.target_id)
        if clip is None:
            raise MediaError("The clip was deleted.")
        return clip.storage_key
    recording = db.session.get(RECORDING_MODELS[publication.target_type], int(publication.target_id))
    if recording is None:
        raise MediaError("The recording was deleted.")
    return recording.recording_url


def _export(publication):
    if publication.export_id:
        export = db.session.get(SocialExport, publication.export_id)
        if export is not None and export.status == "ready":
            if publication.status == S.EXPORTING:
                _set(publication, status=S.UPLOADING)
            return export
    _set(publication, status=S.EXPORTING)
    export = ensure_export(publication.target_type, publication.target_id, _target_media(publication),
                           publication.shape, publication.fill, on_tick=lambda: heartbeat(publication.id))
    problem = rules.media_problem(publication.platform, duration=export.duration_seconds,
                                  size_bytes=export.size_bytes, width=export.width, height=export.height)
    if problem:
        raise MediaError(problem)
    _set(publication, export_id=export.id, status=S.UPLOADING)
    return export


def _poll(publication, check):
    """check() -> a final status, or None while the platform is still working; waits between polls."""
    if publication.status != S.PROCESSING:
        _set(publication, status=S.PROCESSING)
    interval = current_app.config["SOCIAL_POLL_SECONDS"]
    deadline = time.monotonic() + current_app.config["SOCIAL_POLL_TIMEOUT"]
    while True:
        result = check()
        _set(publication, polls=publication.polls + 1)
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise Retry("The platform is still processing the video.")
        time.sleep(interval)


def _instagram(publication, destination, export):
    token = service.access_token(destination.connection)
    if publication.step is None:
        container = meta.instagram_container(destination.external_id, token, public_media_url(publication),
                                             publication.caption)
        _set(publication, remote_id=container, step="container", status=S.PROCESSING)

    if publication.step == "container":
        def finished():
            code, text = meta.instagram_container_status(publication.remote_id, token)
            if code in ("FINISHED", "PUBLISHED"):
                return code
            if code == "ERROR":
                _start_over(publication)
                raise PlatformError(f"Instagram could not use the video: {text or 'no reason given'}.")
            if code == "EXPIRED":
                _start_over(publication)
                raise PlatformError("Instagram's upload expired before it was published; try again.")
            return None
        code = _poll(publication, finished)
        media_id = None if code == "PUBLISHED" else _publish_container(destination, token, publication.remote_id)
        if media_id is None:  # an earlier try published it; the container does not say as which media
            return _done(publication, S.PUBLISHED, None)
        _set(publication, step="published", remote_id=media_id)
    permalink = meta.instagram_permalink(publication.remote_id, token)
    return _done(publication, S.PUBLISHED, permalink)


def _publish_container(destination, token, container_id):
    """The media that media_publish made of the container; None when a try whose answer was lost had
    published it already (publishing it again would fail, and a new container would post it twice)."""
    try:
        return meta.instagram_publish(destination.external_id, token, container_id)
    except PlatformError:
        code, _text = meta.instagram_container_status(container_id, token)
        if code == "PUBLISHED":
            return None
        raise


def _facebook(publication, destination, export):
    page_token = crypto.decrypt(destination.page_token)
    if not page_token:
        raise PlatformError("Facebook gave no token for this Page; reconnect it.", token_refused=True)
    if publication.step is None:
        video_id = meta.page_video(destination.external_id, page_token, public_media_url(publication),
                                   publication.caption)
        _set(publication, remote_id=video_id, step="uploaded", status=S.PROCESSING)
    found = {}

    def ready():
        status, permalink, error = meta.page_video_status(publication.remote_id, page_token)
        if status == "error":
            _start_over(publication)
            raise PlatformError(f"Facebook could not process the video: {error}")
        if status == "ready":
            found["permalink"] = permalink
            return status
        return None
    _poll(publication, ready)
    return _done(publication, S.PUBLISHED, found.get("permalink"))


def _tiktok(publication, destination, export):
    connection = destination.connection
    direct = bool(current_app.config.get("TIKTOK_DIRECT_POST"))
    size = export.size_bytes
    expired = publication.upload_started_at and publication.upload_started_at < utcnow() - UPLOAD_URL_LIFETIME

    def start(token):
        """(publish_id, upload_url) of a new upload: init, after creator_info for a direct post."""
        post_info = None
        if direct:
            info = tiktok.creator_info(token)
            limit = info.get("max_video_post_duration_sec")
            problem = rules.media_problem("tiktok", duration=export.duration_seconds, size_bytes=size, max_seconds=limit)
            if problem:
                raise MediaError(problem)
            if publication.privacy_level not in (info.get("privacy_level_options") or []):
                raise PlatformError("That privacy level is not one this TikTok account offers now; choose again.")
            post_info = {"title": publication.caption, "privacy_level": publication.privacy_level,
                         "disable_comment": bool(info.get("comment_disabled")),
                         "disable_duet": bool(info.get("duet_disabled")),
                         "disable_stitch": bool(info.get("stitch_disabled"))}
        return tiktok.init_upload(token, size, direct=direct, post_info=post_info)

    if publication.step in (None, "init") and (publication.upload_url is None or expired):
        publish_id, upload_url = service.with_access_token(connection, start)
        _set(publication, remote_id=publish_id, upload_url=upload_url, uploaded_bytes=0,
             upload_started_at=utcnow(), step="init")

    if publication.step == "init":
        storage = get_storage()
        for first, last in tiktok.chunks(size):
            if last < publication.uploaded_bytes:
                continue  # sent before the worker stopped
            data = b"".join(storage.read_range(export.storage_key, first, last))
            tiktok.put_chunk(publication.upload_url, data, first, last, size)
            _set(publication, uploaded_bytes=last + 1)
        _set(publication, step="uploaded", status=S.PROCESSING)

    found = {}

    def settled():
        status, reason, post_id = service.with_access_token(
            connection, lambda token: tiktok.publish_status(token, publication.remote_id))
        if status == "FAILED":
            _start_over(publication)
            raise PlatformError(reason or "TikTok could not post the video.")
        if status in ("SEND_TO_USER_INBOX", "PUBLISH_COMPLETE"):
            found["post_id"] = post_id
            return status
        return None
    status = _poll(publication, settled)
    if status == "SEND_TO_USER_INBOX":
        return _done(publication, S.INBOX, None)
    return _done(publication, S.PUBLISHED, found.get("post_id") and
                 f"https://www.tiktok.com/@{destination.name.lstrip('@')}/video/{found['post_id']}")


def _start_over(publication):
    """The platform gave up on this upload for good: Try again makes a new one, not polls the dead one."""
    _set(publication, step=None, remote_id=None, upload_url=None, uploaded_bytes=0, upload_started_at=None)


def _done(publication, status, permalink):
    _set(publication, status=status, permalink=permalink, error=None, step="done")
    return status


def recover_stalled():
    """Queue again the posts whose job stopped (a killed worker): the job resumes from its last step."""
    stale = utcnow() - timedelta(seconds=current_app.config["CLIP_JOB_STALE_SECONDS"])
    ids = db.session.scalars(db.select(Publication.id).where(
        Publication.status.in_(S.ACTIVE), Publication.updated_at < stale)).all()
    for publication_id in ids:
        enqueue_publish(publication_id)
    return ids
