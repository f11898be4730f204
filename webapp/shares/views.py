from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from webapp import posters
from webapp.errors import ApiError
from webapp.extensions import limiter
from webapp.recordings import service as recordings
from webapp.delivery import json_requested, send_media
from webapp.clips.service import clip_title
from webapp.shares import service

bp = Blueprint("shares", __name__)
UNLOCKED = "unlocked_share_links"


# --- the owner's API -------------------------------------------------------------------------

@bp.post("/api/share-links")
@login_required
def create():
    params = service.parse_share_request(request.get_json(silent=True))
    link, token, created = service.create_share_link(current_user, *params)
    return jsonify({"share_link": service.serialize_share_link(link, token)}), 201 if created else 200


@bp.get("/api/share-links")
@login_required
def list_links():
    target_type = request.args.get("target_type")  # absent: all links; present, it must name a target
    target_id = request.args.get("target_id") or None
    if target_type is not None and (target_type not in service.TARGET_TYPES or not target_id):
        raise ApiError(400, "invalid_target", "Give target_type (meet, voice or clip) with target_id.")
    links = service.list_share_links(current_user, target_type, target_id)
    return jsonify({"share_links": [service.serialize_share_link(link) for link in links]})


@bp.delete(f"/api/share-links/<int(max={2**31 - 1}):link_id>")  # ids are 32-bit: larger ones exist nowhere
@login_required
def revoke(link_id):
    service.revoke_share_link(current_user, link_id)
    return "", 204


# --- the public side ------------------------------------------------------------------------------

@bp.after_request
def no_referrer_no_index(response):
    if request.path.startswith("/s/"):
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        # The page carries the visitor's CSRF token and may be behind a password: never in a shared cache.
        response.headers.setdefault("Cache-Control", "private, no-cache")
    return response


def _unlocked(link):
    return link.password_hash is None or link.id in session.get(UNLOCKED, [])


def _resolve_unlocked(token):
    link, recording, clip = service.resolve_share_link(token)
    if not _unlocked(link):
        raise ApiError(403, "password_required", "This link needs its password: open the link and enter it.")
    return link, recording, clip


def _segment(raw):
    """`?t=START,END` (seconds): play only that part; None when absent or malformed."""
    try:
        start, end = (float(part) for part in (raw or "").split(","))
    except ValueError:
        return None
    return (start, end) if 0 <= start < end < 10**7 else None


def _password_key():
    return f"{get_remote_address()}|{request.view_args.get('token', '')}"


@bp.route("/s/<token>", methods=["GET", "POST"])
@limiter.limit("5 per minute", methods=["POST"], key_func=_password_key,
               deduct_when=lambda response: response.status_code != 302)
def share_page(token):
    link, recording, clip = service.resolve_share_link(token)
    if request.method == "POST":
        if service.check_share_password(link, request.form.get("password", "")):
            session[UNLOCKED] = [*session.get(UNLOCKED, [])[-49:], link.id]
            return redirect(request.full_path.rstrip("?"))
        return render_template("shares/password.html", token=token, error="That password is not right."), 401
    if not _unlocked(link):
        return render_template("shares/password.html", token=token, error=None)
    service.count_view(link)
    title = clip_title(clip, recording) if clip else recordings.title_of(recording)
    share_url = service.share_url(token)
    target = clip or recording
    media_kind, media_type, filename = service.shared_media(recording, clip)
    poster_status = posters.request_poster(target)  # queued here for rows older than posters
    return render_template(
        "shares/page.html", link=link, recording=recording, clip=clip, title=title, token=token,
        share_url=share_url, base_url=share_url[: -len(url_for("shares.share_page", token=token))],
        duration=(clip.duration_seconds if clip else recording.duration_seconds),
        audio_only=media_kind == "audio", media_type=media_type, filename=filename,
        dimensions=(target.width, target.height) if target.width and target.height else None,
        # og:image while the poster is queued too: link previews are fetched later, by then it is made.
        has_poster=poster_status != posters.FAILED, poster_ready=poster_status == posters.READY,
        segment=_segment(request.args.get("t")),
    )


@bp.get("/s/<token>/media")
def media(token):
    link, recording, clip = _resolve_unlocked(token)
    return send_media(service.public_media_location(link, recording, clip, "inline"))


@bp.get("/s/<token>/download")
def download(token):
    as_json = json_requested()
    link, recording, clip = _resolve_unlocked(token)
    return send_media(service.public_media_location(link, recording, clip, "attachment"), as_json)


@bp.get("/s/<token>/poster.jpg")
def poster_image(token):
    _link, recording, clip = _resolve_unlocked(token)
    return send_media(service.poster_location(recording, clip))
