"""Connected accounts (a settings page, the OAuth round trip) and posting clips to them (the API)."""
import requests
from authlib.integrations.base_client import OAuthError
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.errors import ApiError
from webapp.extensions import db
from webapp.jobs import enqueue_publish
from webapp.social import oauth, publish, service
from webapp.social.http import PlatformError
from webapp.social.models import PublicationStatus, SocialExport
from webapp.storage import get_storage

bp = Blueprint("social", __name__)


def _provider_or_404(provider):
    if provider not in oauth.configured_providers():
        abort(404)
    return provider


# --- the settings page and the OAuth round trip ---------------------------------------------------

@bp.get("/settings/connections")
@login_required
def connections_page():
    connections = {c.provider: c for c in service.connections_of(current_user)}
    return render_template("social/connections.html", providers=oauth.configured_providers(),
                           labels=oauth.PROVIDER_LABELS, connections=connections)


@bp.post("/settings/connections/<provider>/connect")
@login_required
def connect(provider):
    """A form POST (with its CSRF token), so no other site can start a connection in someone's name."""
    _provider_or_404(provider)
    return oauth.client(provider).authorize_redirect(oauth.redirect_uri(provider))


@bp.get("/settings/connections/<provider>/callback")
@login_required
def callback(provider):
    _provider_or_404(provider)
    label = oauth.PROVIDER_LABELS[provider]
    if request.args.get("error"):
        reason = request.args.get("error_description") or request.args.get("error_reason") or request.args["error"]
        flash(f"{label} was not connected: {reason[:300]}", "error")
        return redirect(url_for("social.connections_page"))
    try:
        token = oauth.client(provider).authorize_access_token()
        connection = (service.connect_meta if provider == "meta" else service.connect_tiktok)(current_user, token)
    except OAuthError as exc:  # a state that does not match, a code refused by the platform
        flash(f"{label} was not connected: {exc.description or exc.error}", "error")
        return redirect(url_for("social.connections_page"))
    except PlatformError as exc:
        flash(f"{label} was not connected: {exc.message}", "error")
        return redirect(url_for("social.connections_page"))
    except requests.RequestException:
        flash(f"{label} was not connected: it could not be reached. Try again.", "error")
        return redirect(url_for("social.connections_page"))
    count = len(connection.destinations)
    flash(f"Connected {label}: {count} place{'s' if count != 1 else ''} to post to.", "success")
    return redirect(url_for("social.connections_page"))


@bp.post("/settings/connections/<int(max=2147483647):connection_id>/disconnect")
@login_required
def disconnect(connection_id):
    connection = service.get_connection(current_user, connection_id)
    label = oauth.PROVIDER_LABELS[connection.provider]
    if service.disconnect(connection):
        flash(f"Disconnected {label}: Reclip's access was taken back and its tokens deleted.", "success")
    else:
        flash(f"Disconnected {label} here and deleted its tokens; {label} did not confirm taking back the access, "
              "so remove Reclip in its settings too.", "error")
    return redirect(url_for("social.connections_page"))


# --- the API --------------------------------------------------------------------------------------

@bp.get("/api/social/destinations")
@login_required
def destinations():
    return jsonify({"platforms": service.available_platforms(),
                    "destinations": [service.serialize_destination(d) for d in service.destinations_of(current_user)
                                     if d.platform in service.available_platforms()],
                    "connect_url": url_for("social.connections_page"),
                    # The Post form asks creator_info (scope video.publish) only when TikTok posts directly.
                    "tiktok_direct_post": bool(current_app.config.get("TIKTOK_DIRECT_POST"))})


@bp.get("/api/social/destinations/<int(max=2147483647):destination_id>/creator-info")
@login_required
def creator_info(destination_id):
    info = service.creator_info(service.get_destination(current_user, destination_id))
    keep = ("creator_nickname", "creator_username", "privacy_level_options", "comment_disabled", "duet_disabled",
            "stitch_disabled", "max_video_post_duration_sec")
    return jsonify({"creator_info": {name: info.get(name) for name in keep},
                    "direct_post": bool(current_app.config.get("TIKTOK_DIRECT_POST"))})


@bp.post("/api/social/publications")
@login_required
def create_publication():
    publication, _media = service.create_publication(current_user, request.get_json(silent=True))
    _enqueue(publication)
    return jsonify({"publication": _publication_json(publication)}), 202


@bp.get("/api/social/publications")
@login_required
def list_publications():
    """A clip's or recording's posts; without a target, the person's recent posts (the page asks once)."""
    target_type = request.args.get("target_type")
    if target_type is None and "target_id" not in request.args:
        publications = service.recent_publications(current_user)
    elif target_type not in ("clip", "meet", "voice"):
        raise ApiError(400, "invalid_target_type", "target_type must be clip, meet or voice.")
    else:
        publications = service.publications_for(current_user, target_type, request.args.get("target_id", "")[:64])
    return jsonify({"publications": [_publication_json(p) for p in publications]})


@bp.get("/api/social/publications/<publication_id>")
@login_required
def publication(publication_id):
    return jsonify({"publication": _publication_json(service.get_publication(current_user, publication_id))})


@bp.post("/api/social/publications/<publication_id>/retry")
@login_required
def retry(publication_id):
    publication = service.retry_publication(service.get_publication(current_user, publication_id))
    _enqueue(publication)
    return jsonify({"publication": _publication_json(publication)}), 202


def _publication_json(publication):
    """The post, and for one that failed because its account's token was refused, where to reconnect it
    (Try again alone would fail the same way)."""
    data = service.serialize_publication(publication)
    if publication.status == PublicationStatus.FAILED and publication.destination_id is not None:
        try:
            destination = service.get_destination(current_user, publication.destination_id)
        except ApiError:  # disconnected since
            destination = None
        if destination is not None and destination.connection.status == "needs_reconnect":
            data["links"]["reconnect"] = url_for("social.connections_page")
    return data


def _enqueue(publication):
    try:
        enqueue_publish(publication.id)
    except Exception as exc:  # the queue's own errors have no common base class
        current_app.logger.warning("could not queue post %s: %s", publication.id, exc)
        publication.status, publication.error = PublicationStatus.FAILED, "The job queue cannot be reached."
        db.session.commit()
        raise ApiError(503, "queue_unavailable", "The job queue cannot be reached right now. Try again shortly.") \
            from None


# --- what the platform fetches -----------------------------------------------------------------

@bp.get("/social/media/<token>.mp4")
def media(token):
    """The export of a post, for the platform's fetcher: a signed one-hour URL, download only."""
    publication = publish.publication_for_media_token(token)
    export = db.session.get(SocialExport, publication.export_id) if publication and publication.export_id else None
    if export is None or export.status != "ready":
        raise ApiError(404, "not_found", "No such video, or its link expired.")
    url = get_storage().signed_download_url(export.storage_key, filename="reclip.mp4", disposition="attachment",
                                            content_type="video/mp4", ttl=600)
    return redirect(url, code=302)
