"""Meta's Graph API: the signed-in person, their Pages and Instagram accounts, and publishing to them.

Instagram (Instagram API with Facebook Login for Business, Content Publishing): a REELS container made
from a `video_url` that Instagram fetches, polled until FINISHED, then media_publish. Facebook Pages
(Video API): `/<page-id>/videos` with `file_url` and the Page's own token, polled until ready.
"""
from flask import current_app

from webapp.social.http import PlatformError, call, json_of

FACEBOOK = "https://www.facebook.com"
# OAuthException code 190: the token expired, was revoked, or the password changed (Graph API errors).
TOKEN_REFUSED_CODES = {190, 102}
PERMISSION_CODES = {10, 200}
# Rate limiting (Graph API rate-limiting page): app #4, user #17, Page #32, and #613; HTTP 400, no Retry-After.
THROTTLE_CODES = {4, 17, 32, 613}
SCOPES = ["pages_show_list", "pages_read_engagement", "pages_manage_posts", "instagram_basic",
          "instagram_content_publish"]


def graph_url(path):
    return f"{current_app.config['META_GRAPH_URL'].rstrip('/')}/{path.lstrip('/')}"


def _describe(label):
    def describe(response):
        error = json_of(response).get("error") if response is not None else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        message = error.get("error_user_msg") or error.get("message") or f"HTTP {getattr(response, 'status_code', '')}"
        if code in TOKEN_REFUSED_CODES:
            return PlatformError(f"{label} refused the connection ({message}). Reconnect it in Connected accounts.",
                                 status=getattr(response, "status_code", None), token_refused=True)
        if code in PERMISSION_CODES:
            return PlatformError(f"{label} did not give Reclip the permission it needs ({message}). Reconnect and "
                                 "allow every permission asked for.", status=response.status_code, token_refused=True)
        if code in THROTTLE_CODES or error.get("is_transient") is True:
            return PlatformError(f"{label} is limiting Reclip's requests right now ({message}).",
                                 status=getattr(response, "status_code", None), retryable=True)
        return PlatformError(f"{label} answered: {message}", status=getattr(response, "status_code", None))
    return describe


def _get(path, token, label="Facebook", **params):
    response = call(label, "GET", graph_url(path), params={**params, "access_token": token},
                    describe_error=_describe(label))
    return json_of(response)


def _post(path, token, label, creates=None, **data):
    response = call(label, "POST", graph_url(path), data={**data, "access_token": token},
                    describe_error=_describe(label), creates=creates)
    return json_of(response)


# --- connecting ----------------------------------------------------------------------------

def long_lived_token(short_token):
    """(token, expires_in or None): the 60-day user token for the short-lived one the login gave."""
    config = current_app.config
    body = _get("oauth/access_token", short_token, grant_type="fb_exchange_token", client_id=config["META_APP_ID"],
                client_secret=config["META_APP_SECRET"], fb_exchange_token=short_token)
    if not body.get("access_token"):
        raise PlatformError("Facebook did not give a long-lived token.")
    return body["access_token"], body.get("expires_in")


def me(token):
    return _get("me", token, fields="id,name")


def destinations(token):
    """[(platform, id, name, page_token)]: the person's Pages, and the Instagram accounts linked to them."""
    found = []
    url = "me/accounts"
    params = {"fields": "id,name,access_token,tasks,instagram_business_account{id,username}", "limit": "100"}
    for _page in range(20):  # at most 2,000 Pages
        body = _get(url, token, **params)
        for page in body.get("data") or []:
            if not isinstance(page, dict) or not page.get("id"):
                continue
            found.append(("facebook", str(page["id"]), page.get("name") or "Page", page.get("access_token")))
            instagram = page.get("instagram_business_account")
            if isinstance(instagram, dict) and instagram.get("id"):
                name = f"@{instagram['username']}" if instagram.get("username") else "Instagram account"
                found.append(("instagram", str(instagram["id"]), name, page.get("access_token")))
        after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
        if not after or not (body.get("paging") or {}).get("next"):
            break
        params = {**params, "after": after}
    return found


def revoke(token):
    """Take back every permission the person gave Reclip (their Page tokens stop working too)."""
    call("Facebook", "DELETE", graph_url("me/permissions"), params={"access_token": token},
         describe_error=_describe("Facebook"))


# --- Instagram ----------------------------------------------------------------------------------

def instagram_container(ig_user_id, token, video_url, caption):
    body = _post(f"{ig_user_id}/media", token, "Instagram", media_type="REELS", video_url=video_url,
                 caption=caption, share_to_feed="true")
    if not body.get("id"):
        raise PlatformError("Instagram did not make a media container.")
    return str(body["id"])


def instagram_container_status(container_id, token):
    """(status_code, status text): IN_PROGRESS, FINISHED, PUBLISHED, ERROR or EXPIRED."""
    body = _get(container_id, token, "Instagram", fields="status_code,status")
    return body.get("status_code"), body.get("status")


def instagram_publish(ig_user_id, token, container_id):
    body = _post(f"{ig_user_id}/media_publish", token, "Instagram", creation_id=container_id)
    if not body.get("id"):
        raise PlatformError("Instagram did not publish the Reel.")
    return str(body["id"])


def instagram_permalink(media_id, token):
    return _get(media_id, token, "Instagram", fields="permalink").get("permalink")


# --- Facebook Pages -----------------------------------------------------------------------------

def page_video(page_id, page_token, file_url, description):
    body = _post(f"{page_id}/videos", page_token, "Facebook", creates="the video", file_url=file_url,
                 description=description)
    if not body.get("id"):
        raise PlatformError("Facebook did not take the video.")
    return str(body["id"])


def page_video_status(video_id, page_token):
    """(video_status, permalink or None, error text or None): video_status is ready, processing or error."""
    body = _get(video_id, page_token, "Facebook", fields="status,permalink_url")
    status = body.get("status") if isinstance(body.get("status"), dict) else {}
    permalink = body.get("permalink_url")
    if permalink and permalink.startswith("/"):
        permalink = FACEBOOK + permalink
    error = None
    processing = status.get("processing_phase") if isinstance(status.get("processing_phase"), dict) else {}
    if status.get("video_status") == "error":
        errors = processing.get("errors") or []
        error = "; ".join(e.get("message", "") for e in errors if isinstance(e, dict)) or "Facebook could not process it."
    return status.get("video_status"), permalink, error
