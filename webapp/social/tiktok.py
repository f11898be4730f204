"""TikTok's Content Posting API: creator info, init, the chunked upload, and the post's status.

Inbox upload (`video.upload`): the video lands in the creator's TikTok inbox to finish there. Direct post
(`video.publish`, for audited apps, TIKTOK_DIRECT_POST) publishes with the title and privacy chosen.
"""
from flask import current_app

from webapp.social.http import PlatformError, call, json_of

SCOPES = ["user.info.basic", "video.upload"]
DIRECT_SCOPES = ["user.info.basic", "video.upload", "video.publish"]
# Media Transfer Guide: chunks of 5 to 64 MB, the last one may take the rest (up to 128 MB); a file
# under 5 MB goes whole in one chunk.
MIN_CHUNK = 5 * 1024 * 1024
CHUNK = 10 * 1024 * 1024
TOKEN_REFUSED = {"access_token_invalid", "scope_not_authorized", "token_not_authorized_for_specified_user"}
FAIL_REASONS = {
    "file_format_check_failed": "TikTok could not read the video's format.",
    "duration_check_failed": "The video is longer or shorter than TikTok allows for this account.",
    "frame_rate_check_failed": "TikTok needs 23 to 60 frames a second.",
    "picture_size_check_failed": "The picture is smaller than TikTok allows (360 pixels a side).",
    "internal": "TikTok had a problem of its own; try again.",
    "video_pull_failed": "TikTok could not fetch the video.",
    "spam_risk_too_many_posts": "TikTok says this account posted too much today.",
    "spam_risk_user_banned_from_posting": "TikTok does not let this account post right now.",
}


def api_url(path):
    return f"{current_app.config['TIKTOK_API_URL'].rstrip('/')}/{path.lstrip('/')}"


def _describe(response):
    body = json_of(response) if response is not None else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    code = error.get("code") or body.get("error") or ""
    message = error.get("message") or body.get("error_description") or f"HTTP {getattr(response, 'status_code', '')}"
    if code in TOKEN_REFUSED or code == "invalid_grant":
        return PlatformError(f"TikTok refused the connection ({message}). Reconnect it in Connected accounts.",
                             status=getattr(response, "status_code", None), token_refused=True, code=code)
    if code == "rate_limit_exceeded":
        return PlatformError("TikTok says too many requests; try again in a minute.", status=429, retryable=True)
    return PlatformError(f"TikTok answered: {message}", status=getattr(response, "status_code", None))


def _checked(response):
    """The `data` of a v2 API answer whose error code is "ok"."""
    body = json_of(response)
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    if error.get("code", "ok") != "ok":
        raise _describe(response)
    return body.get("data") if isinstance(body.get("data"), dict) else {}


def _api(method, path, token, creates=None, **kwargs):
    response = call("TikTok", method, api_url(path), headers={"Authorization": f"Bearer {token}",
                                                              "Content-Type": "application/json; charset=UTF-8"},
                    describe_error=_describe, creates=creates, **kwargs)
    return _checked(response)


def _oauth(data):
    config = current_app.config
    response = call("TikTok", "POST", api_url("v2/oauth/token/"), describe_error=_describe,
                    data={"client_key": config["TIKTOK_CLIENT_KEY"], "client_secret": config["TIKTOK_CLIENT_SECRET"],
                          **data}, headers={"Content-Type": "application/x-www-form-urlencoded"})
    body = json_of(response)
    if body.get("error") or not body.get("access_token"):
        raise _describe(response)
    return body


def refresh(refresh_token):
    """A new token set (access_token, expires_in, refresh_token, refresh_expires_in, ...)."""
    return _oauth({"grant_type": "refresh_token", "refresh_token": refresh_token})


def revoke(access_token):
    config = current_app.config
    call("TikTok", "POST", api_url("v2/oauth/revoke/"), describe_error=_describe,
         data={"client_key": config["TIKTOK_CLIENT_KEY"], "client_secret": config["TIKTOK_CLIENT_SECRET"],
               "token": access_token})


def user_info(token):
    data = _api("GET", "v2/user/info/", token, params={"fields": "open_id,union_id,avatar_url,display_name"})
    user = data.get("user") if isinstance(data.get("user"), dict) else {}
    return user


def creator_info(token):
    """What the creator may post now: privacy_level_options, max_video_post_duration_sec, *_disabled..."""
    return _api("POST", "v2/post/publish/creator_info/query/", token, json={})


def chunk_plan(size):
    """(chunk_size, total_chunk_count) as the Media Transfer Guide wants them."""
    if size < CHUNK:  # under 5 MB it must go whole; up to CHUNK one chunk of it is within 5-64 MB
        return size, 1
    return CHUNK, max(1, size // CHUNK)


def init_upload(token, size, *, direct=False, post_info=None):
    """(publish_id, upload_url) of a FILE_UPLOAD post: to the inbox, or published directly."""
    chunk_size, count = chunk_plan(size)
    body = {"source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk_size,
                            "total_chunk_count": count}}
    if direct:
        body["post_info"] = post_info
    path = "v2/post/publish/video/init/" if direct else "v2/post/publish/inbox/video/init/"
    # Sent once: a direct post init repeated after a lost answer would post the video twice.
    data = _api("POST", path, token, creates="the video" if direct else None, json=body)
    if not data.get("publish_id") or not data.get("upload_url"):
        raise PlatformError("TikTok did not give an upload address.")
    return data["publish_id"], data["upload_url"]


def chunks(size):
    """[(first, last)] byte ranges of the upload, in order; the last chunk takes the remainder."""
    chunk_size, count = chunk_plan(size)
    ranges = []
    for index in range(count):
        first = index * chunk_size
        last = size - 1 if index == count - 1 else first + chunk_size - 1
        ranges.append((first, last))
    return ranges


def put_chunk(upload_url, data, first, last, total):
    call("TikTok", "PUT", upload_url, data=data, describe_error=_describe,
         headers={"Content-Type": "video/mp4", "Content-Length": str(len(data)),
                  "Content-Range": f"bytes {first}-{last}/{total}"})


def publish_status(token, publish_id):
    """(status, fail_reason in words or None, post id or None)."""
    data = _api("POST", "v2/post/publish/status/fetch/", token, json={"publish_id": publish_id})
    reason = data.get("fail_reason")
    words = FAIL_REASONS.get(reason, f"TikTok said: {reason}") if reason else None
    posts = data.get("publicaly_available_post_id") or []  # sic: TikTok's spelling
    return data.get("status"), words, str(posts[0]) if posts else None
