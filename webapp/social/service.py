"""Connected accounts and publications: the rules. Tokens are encrypted here and never leave the server."""
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import select

from webapp.clips import service as clips
from webapp.clips.states import ClipStatus
from webapp.errors import ApiError, not_found
from webapp.extensions import db
from webapp.recordings import service as recordings
from webapp.social import crypto, meta, oauth, rules, tiktok
from webapp.social.http import PlatformError
from webapp.social.models import (FILLS, SHAPES, Publication, PublicationStatus, SocialConnection,
                                  SocialDestination)
from webapp.timeutil import utcnow

PROVIDER_OF = {"facebook": "meta", "instagram": "meta", "tiktok": "tiktok"}
MAX_ACTIVE_PUBLICATIONS = 5  # a person's posts on their way at once
STATUS_WORDS = {
    PublicationStatus.QUEUED: "Waiting to publish to {platform}…",
    PublicationStatus.EXPORTING: "Making the video for {platform}…",
    PublicationStatus.UPLOADING: "Publishing to {platform}…",
    PublicationStatus.PROCESSING: "{platform} is processing it…",
    PublicationStatus.PUBLISHED: "Published on {platform}",
    PublicationStatus.INBOX: "In your TikTok inbox: open TikTok to finish your post",
    PublicationStatus.FAILED: "Failed: {error}",
}


def available_platforms():
    """The platforms an operator configured: only theirs have Connect and Post buttons."""
    providers = oauth.configured_providers()
    return [platform for platform, provider in PROVIDER_OF.items() if provider in providers]


# --- connections ----------------------------------------------------------------------------

def connections_of(user):
    return db.session.scalars(select(SocialConnection).where(SocialConnection.user_id == user.id)
                              .order_by(SocialConnection.provider)).all()


def get_connection(user, connection_id):
    connection = db.session.get(SocialConnection, connection_id) if isinstance(connection_id, int) else None
    if connection is None or connection.user_id != user.id:
        raise not_found("connection")
    return connection


def _expires_at(seconds):
    try:
        return utcnow() + timedelta(seconds=int(seconds)) if seconds else None
    except (TypeError, ValueError):
        return None


def save_connection(user, provider, *, external_user_id, display_name, token, destinations, scopes=None):
    """Create or refresh the person's connection with its destinations (a reconnect keeps their ids)."""
    connection = db.session.scalar(select(SocialConnection).where(SocialConnection.user_id == user.id,
                                                                  SocialConnection.provider == provider))
    if connection is None:
        connection = SocialConnection(user_id=user.id, provider=provider)
        db.session.add(connection)
    connection.external_user_id = str(external_user_id)
    connection.display_name = (display_name or "")[:200] or None
    connection.access_token = crypto.encrypt(token["access_token"])
    connection.refresh_token = crypto.encrypt(token.get("refresh_token"))
    connection.access_expires_at = _expires_at(token.get("expires_in"))
    connection.refresh_expires_at = _expires_at(token.get("refresh_expires_in"))
    connection.scopes = scopes
    connection.status, connection.status_reason = "active", None
    kept = {(d.platform, d.external_id): d for d in connection.destinations}
    seen = set()
    for platform, external_id, name, page_token in destinations:
        destination = kept.get((platform, external_id))
        if destination is None:
            destination = SocialDestination(platform=platform, external_id=external_id)
            connection.destinations.append(destination)
        destination.name = name[:200]
        destination.page_token = crypto.encrypt(page_token)
        seen.add((platform, external_id))
    for key, destination in kept.items():
        if key not in seen:  # a Page the person no longer manages
            connection.destinations.remove(destination)
    db.session.commit()
    return connection


def connect_meta(user, token):
    """After Facebook Login: the long-lived token, the person, their Pages and Instagram accounts."""
    long_token, expires_in = meta.long_lived_token(token["access_token"])
    person = meta.me(long_token)
    found = meta.destinations(long_token)
    return save_connection(user, "meta", external_user_id=person.get("id") or "unknown",
                           display_name=person.get("name"), destinations=found,
                           token={"access_token": long_token, "expires_in": expires_in}, scopes=token.get("scope"))


def connect_tiktok(user, token):
    person = tiktok.user_info(token["access_token"])
    open_id = token.get("open_id") or person.get("open_id") or "unknown"
    name = person.get("display_name") or "TikTok account"
    return save_connection(user, "tiktok", external_user_id=open_id, display_name=name, token=token,
                           destinations=[("tiktok", open_id, name, None)], scopes=token.get("scope"))


def disconnect(connection):
    """Revoke at the platform, then forget the tokens. True when the platform confirmed the revocation."""
    revoked = True
    try:
        token = crypto.decrypt(connection.access_token)
        (meta.revoke if connection.provider == "meta" else tiktok.revoke)(token)
    except (PlatformError, crypto.TokenKeyError) as exc:
        current_app.logger.info("revoking %s connection %s: %s", connection.provider, connection.id, exc)
        revoked = False
    db.session.delete(connection)
    db.session.commit()
    return revoked


def mark_refused(connection, reason):
    """The platform refused the token: the page shows Reconnect."""
    connection.status, connection.status_reason = "needs_reconnect", reason
    db.session.commit()


def access_token(connection):
    """The connection's access token, refreshed first when TikTok's 24-hour token is (nearly) out."""
    if connection.provider == "tiktok" and connection.access_expires_at and \
            connection.access_expires_at < utcnow() + timedelta(minutes=5):
        refresh_tiktok(connection)
    return crypto.decrypt(connection.access_token)


def with_access_token(connection, call):
    """call(access token). TikTok's access token can stop working before the time it was given for (it
    answers access_token_invalid): then it is refreshed once with the refresh token and call made again."""
    try:
        return call(access_token(connection))
    except PlatformError as exc:
        if connection.provider != "tiktok" or exc.code != "access_token_invalid" or not connection.refresh_token:
            raise
    refresh_tiktok(connection)
    return call(crypto.decrypt(connection.access_token))


def refresh_tiktok(connection):
    try:
        token = tiktok.refresh(crypto.decrypt(connection.refresh_token) or "")
    except PlatformError as exc:
        if exc.token_refused:
            mark_refused(connection, exc.message)
        raise
    connection.access_token = crypto.encrypt(token["access_token"])
    if token.get("refresh_token"):
        connection.refresh_token = crypto.encrypt(token["refresh_token"])
    connection.access_expires_at = _expires_at(token.get("expires_in"))
    connection.refresh_expires_at = _expires_at(token.get("refresh_expires_in")) or connection.refresh_expires_at
    db.session.commit()


def serialize_connection(connection):
    return {"id": connection.id, "provider": connection.provider,
            "label": oauth.PROVIDER_LABELS[connection.provider], "name": connection.display_name,
            "status": connection.status, "status_reason": connection.status_reason,
            "destinations": [serialize_destination(d) for d in connection.destinations]}


def serialize_destination(destination):
    return {"id": destination.id, "platform": destination.platform, "name": destination.name,
            "label": rules.RULES[destination.platform].label,
            "status": destination.connection.status}


def destinations_of(user):
    return db.session.scalars(select(SocialDestination).join(SocialConnection).where(
        SocialConnection.user_id == user.id).order_by(SocialDestination.platform, SocialDestination.name)).all()


def get_destination(user, destination_id):
    destination = db.session.get(SocialDestination, destination_id) \
        if isinstance(destination_id, int) and not isinstance(destination_id, bool) and 0 < destination_id < 2**31 \
        else None
    if destination is None or destination.connection.user_id != user.id:
        raise not_found("destination")
    return destination


def creator_info(destination):
    """TikTok's creator_info for the Post form (privacy options, the longest video, what is disabled)."""
    if destination.platform != "tiktok":
        raise ApiError(400, "not_tiktok", "Only a TikTok account has creator info.")
    if not current_app.config.get("TIKTOK_DIRECT_POST"):
        # creator_info needs video.publish, which an inbox-only connection was never granted: TikTok would
        # answer scope_not_authorized and the connection would wrongly be marked for reconnecting.
        raise ApiError(409, "inbox_only", "TikTok posts go to the TikTok inbox here; there are no direct-post options.")
    return _with_token(destination.connection, tiktok.creator_info)


def _with_token(connection, call):
    """call(token); a refused token marks the connection for reconnecting and answers 409 in words."""
    try:
        return with_access_token(connection, call)
    except PlatformError as exc:
        if exc.token_refused:
            mark_refused(connection, exc.message)
            raise ApiError(409, "reconnect_needed", exc.message) from None
        raise ApiError(502, "platform_error", exc.message) from None


# --- publications --------------------------------------------------------------------------------

def parse_publication_request(body):
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    target_type = body.get("target_type")
    if target_type not in ("clip", "meet", "voice"):
        raise ApiError(400, "invalid_target_type", "target_type must be clip, meet or voice.")
    target_id = body.get("target_id")
    if target_type == "clip":
        if not isinstance(target_id, str):
            raise not_found("clip")
    else:
        target_id = recordings.parse_id(target_id, "target_id")
    destination_id = body.get("destination_id")
    if not isinstance(destination_id, int) or isinstance(destination_id, bool):
        raise ApiError(400, "invalid_destination", "destination_id must be the id of a connected account's destination.")
    shape = body.get("shape", "original")
    if shape not in SHAPES:
        raise ApiError(400, "invalid_shape", "shape must be original, vertical or square.")
    fill = body.get("fill", "blur")
    if fill not in FILLS:
        raise ApiError(400, "invalid_fill", "fill must be blur or crop.")
    caption = body.get("caption", "")
    if caption is None:
        caption = ""
    if not isinstance(caption, str):
        raise ApiError(400, "invalid_caption", "caption must be text.")
    privacy_level = body.get("privacy_level")
    if privacy_level is not None and (not isinstance(privacy_level, str) or len(privacy_level) > 40):
        raise ApiError(400, "invalid_privacy_level", "privacy_level must be one of the creator's options.")
    return target_type, target_id, destination_id, shape, fill, caption.strip(), privacy_level


def load_target(user, target_type, target_id):
    """(media url or key, duration, title) of a visible, ready clip or playable recording; ApiError otherwise."""
    if target_type == "clip":
        clip, _recording = clips.get_visible_clip(user, target_id)
        if clip.status != ClipStatus.READY:
            raise ApiError(409, "clip_not_ready", "Only a ready clip can be posted.")
        return clip.storage_key, clip.duration_seconds
    recording = recordings.get_visible_recording(user, target_type, target_id)
    recordings.check_playable(recording)
    return recording.recording_url, recording.duration_seconds


def create_publication(user, body):
    target_type, target_id, destination_id, shape, fill, caption, privacy_level = parse_publication_request(body)
    media_url, duration = load_target(user, target_type, target_id)
    destination = get_destination(user, destination_id)
    platform = destination.platform
    if platform not in available_platforms():
        raise ApiError(409, "platform_off", f"Posting to {rules.RULES[platform].label} is not configured here.")
    if destination.connection.status != "active":
        raise ApiError(409, "reconnect_needed", destination.connection.status_reason or
                       f"Reconnect {rules.RULES[platform].label} in Connected accounts first.")
    problem = rules.caption_problem(platform, caption) or \
        rules.media_problem(platform, duration=duration, size_bytes=None)
    if problem:
        raise ApiError(400, "not_allowed_by_platform", problem)
    if platform == "tiktok" and current_app.config.get("TIKTOK_DIRECT_POST") and not privacy_level:
        raise ApiError(400, "privacy_level_required", "Choose who can see the TikTok post.")
    active = db.session.scalar(select(db.func.count()).select_from(Publication).where(
        Publication.user_id == user.id, Publication.status.in_(PublicationStatus.ACTIVE)))
    if active >= MAX_ACTIVE_PUBLICATIONS:
        raise ApiError(429, "too_many_posts", f"{active} posts are on their way already; wait for one to finish.")
    publication = Publication(user_id=user.id, target_type=target_type, target_id=str(target_id),
                              destination_id=destination.id, platform=platform, destination_name=destination.name,
                              shape=shape, fill=fill, caption=caption, privacy_level=privacy_level)
    db.session.add(publication)
    db.session.commit()
    return publication, media_url


def publications_for(user, target_type, target_id):
    return db.session.scalars(select(Publication).where(
        Publication.user_id == user.id, Publication.target_type == target_type,
        Publication.target_id == str(target_id)).order_by(Publication.created_at.desc())).all()


RECENT_POSTS = timedelta(days=30)
RECENT_POSTS_MAX = 200


def recent_publications(user):
    """The person's posts of the last 30 days (at most 200), newest first: what the recordings page shows
    under its rows, asked for once instead of once per row."""
    return db.session.scalars(select(Publication).where(
        Publication.user_id == user.id, Publication.created_at > utcnow() - RECENT_POSTS)
        .order_by(Publication.created_at.desc()).limit(RECENT_POSTS_MAX)).all()


def get_publication(user, publication_id):
    publication = db.session.get(Publication, publication_id) \
        if isinstance(publication_id, str) and len(publication_id) == 32 else None
    if publication is None or publication.user_id != user.id:
        raise not_found("post")
    return publication


def retry_publication(publication):
    if publication.status != PublicationStatus.FAILED:
        raise ApiError(409, "not_failed", "Only a failed post can be tried again.")
    # The job goes on from its last step: one the platform gave up on was cleared when it did (publish.py
    # _start_over), so a new upload is made; a video the platform took is never uploaded a second time.
    publication.status, publication.error, publication.attempts, publication.polls = PublicationStatus.QUEUED, None, 0, 0
    db.session.commit()
    return publication


def status_words(publication):
    label = rules.RULES[publication.platform].label
    return STATUS_WORDS[publication.status].format(platform=label, error=publication.error or "unknown reason")


def serialize_publication(publication):
    return {
        "id": publication.id, "platform": publication.platform, "destination": publication.destination_name,
        "target_type": publication.target_type, "target_id": publication.target_id,
        "shape": publication.shape, "fill": publication.fill, "status": publication.status,
        "message": status_words(publication), "permalink": publication.permalink, "error": publication.error,
        "created_at": publication.created_at.isoformat(),
        "links": {"self": url_for("social.publication", publication_id=publication.id),
                  "retry": url_for("social.retry", publication_id=publication.id)},
    }
