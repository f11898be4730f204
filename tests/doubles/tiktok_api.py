"""The v2 API half of the TikTok double (user info, creator info, the two init endpoints, the media transfer
to upload_url and the status fetch), as a mixin of TikTokDouble (tiktok.py, whose docstring lists the
documented rules and their pages). Every method runs under the double's lock; the probe of an uploaded
video runs in a thread of its own."""
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from tests.doubles.base import json_response
from tests.doubles.media import ProbeError, probe
from tests.doubles.rules import chunk_problem, tiktok_fail_reason

UPLOAD_URL_LIFETIME = 3600
BASIC_FIELDS = ("open_id", "union_id", "avatar_url", "avatar_url_100", "avatar_large_url", "display_name")
PROFILE_FIELDS = ("bio_description", "profile_deep_link", "is_verified", "username")
STATS_FIELDS = ("follower_count", "following_count", "likes_count", "video_count")
VIDEO_MIME_TYPES = ("video/mp4", "video/quicktime", "video/webm")
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


class ApiError(Exception):
    """A v2 API answer: {"data": {}, "error": {"code", "message", "log_id"}}."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self):
        return json_response({"data": {}, "error": {"code": self.code, "message": self.message,
                                                    "log_id": log_id()}}, self.status)


@dataclass
class Post:
    publish_id: str
    grant: object  # tiktok.Grant
    mode: str  # "inbox" or "direct"
    video_size: int
    chunk_size: int
    total_chunk_count: int
    upload_id: str
    upload_token: str
    created_at: float
    post_info: dict
    received: bytearray = None
    done_processing: bool = False
    probe: object = None
    fail_reason: str = None
    forced_fail: str = None
    polls: int = 0
    processing_started: bool = False
    finished_by_user: bool = False
    final_recorded: bool = False
    post_id: int = None

    def chunk_bounds(self, index):
        start = index * self.chunk_size
        end = self.video_size - 1 if index == self.total_chunk_count - 1 else start + self.chunk_size - 1
        return start, end


class TikTokApi:
    """The Bearer-token v2 endpoints of open.tiktokapis.com and the upload_url."""

    def _bearer(self, request, *scopes):
        """The token of a v2 call; `scopes`: any one of them is enough."""
        header = request.headers.get("Authorization", "")
        value = header[7:].strip() if header.startswith("Bearer ") else ""
        token = self.access_tokens.get(value)
        if token is None or token.grant.revoked or self.now() > token.expires_at:
            raise ApiError(401, "access_token_invalid",
                           "The access token is invalid or not found in the request.")
        if scopes and not any(s in token.grant.scopes for s in scopes):
            raise ApiError(401, "scope_not_authorized", "The user did not authorize the scope required for "
                                                        f"completing this request ({' or '.join(scopes)}).")
        return token

    def _rate(self, token, endpoint, limit):
        if not self.within_rate((token.value, endpoint), limit, 60):
            raise ApiError(429, "rate_limit_exceeded", "The API rate limit was exceeded. Please try again later.")

    def _json_body(self, request):
        body = request.get_json(silent=True) if request.mimetype == "application/json" else None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_params", "The body must be a JSON object (Content-Type: application/json; "
                                                  "charset=UTF-8).")
        return body

    def _ok(self, data):
        return json_response({"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}})

    def _user_info(self, request):
        token = self._bearer(request)
        fields = [f for f in request.args.get("fields", "").split(",") if f]
        if not fields:
            raise ApiError(400, "invalid_params", "fields is required.")
        user = {"open_id": token.grant.open_id, "union_id": self.user["union_id"],
                "avatar_url": self.user["avatar_url"], "avatar_url_100": self.user["avatar_url"],
                "avatar_large_url": self.user["avatar_url"], "display_name": self.user["display_name"],
                "bio_description": "", "profile_deep_link": "https://vm.tiktok.com/reclip/",
                "is_verified": False, "username": self.user["username"], "follower_count": 0,
                "following_count": 0, "likes_count": 0, "video_count": len(self.published)}
        for name in fields:
            needed = ("user.info.basic" if name in BASIC_FIELDS else "user.info.profile" if name in PROFILE_FIELDS
                      else "user.info.stats" if name in STATS_FIELDS else None)
            if needed is None:
                raise ApiError(400, "invalid_params", f"Unknown field {name!r}.")
            if needed not in token.grant.scopes:
                raise ApiError(401, "scope_not_authorized", f"The field {name} needs the {needed} scope.")
        return self._ok({"user": {name: user[name] for name in fields}})

    def _creator_info(self, request):
        token = self._bearer(request, "video.publish")
        self._rate(token, "creator_info", 20)
        return self._ok({"creator_avatar_url": self.user["avatar_url"], "creator_username": self.user["username"],
                         "creator_nickname": self.user["display_name"],
                         "privacy_level_options": self.privacy_level_options,
                         "comment_disabled": self.comment_disabled, "duet_disabled": self.duet_disabled,
                         "stitch_disabled": self.stitch_disabled,
                         "max_video_post_duration_sec": self.max_video_post_duration_sec})

    def _inbox_init(self, request):
        token = self._bearer(request, "video.upload")
        self._rate(token, "inbox_init", 6)
        body = self._json_body(request)
        source = self._source_info(body)
        pending = [p for p in self.posts.values() if p.mode == "inbox" and p.grant.open_id == token.grant.open_id
                   and p.created_at > self.now() - 86400 and p.fail_reason is None
                   and len(p.received) >= p.video_size and not p.finished_by_user]
        if len(pending) >= self.pending_share_limit:
            raise ApiError(403, "spam_risk_too_many_pending_share",
                           f"The user already has {len(pending)} pending shares in the last 24 hours; at most "
                           f"{self.pending_share_limit}.")
        return self._new_post(token, "inbox", source, {})

    def _direct_init(self, request):
        token = self._bearer(request, "video.publish")
        self._rate(token, "direct_init", 6)
        body = self._json_body(request)
        post_info = body.get("post_info")
        if not isinstance(post_info, dict) or not post_info.get("privacy_level"):
            raise ApiError(400, "invalid_params", "post_info.privacy_level is required for a direct post.")
        privacy = post_info["privacy_level"]
        if privacy not in self.privacy_level_options:
            raise ApiError(400, "privacy_level_option_mismatch",
                           f"privacy_level {privacy} is not one of the creator's privacy_level_options "
                           f"{self.privacy_level_options}.")
        if not self.audited and (privacy != "SELF_ONLY" or not self.account_private):
            raise ApiError(403, "unaudited_client_can_only_post_to_private_accounts",
                           "Unaudited clients can only post SELF_ONLY content from private accounts.")
        title = post_info.get("title", "")
        if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > 2200:
            raise ApiError(400, "invalid_params", "post_info.title must be a string of at most 2200 UTF-16 units.")
        source = self._source_info(body)
        return self._new_post(token, "direct", source, post_info)

    def _source_info(self, body):
        info = body.get("source_info")
        if not isinstance(info, dict):
            raise ApiError(400, "invalid_params", "source_info is required.")
        if info.get("source") == "PULL_FROM_URL":
            raise ApiError(403, "url_ownership_unverified", "The video_url's domain or URL prefix is not verified "
                                                            "for this app (this double takes FILE_UPLOAD only).")
        if info.get("source") != "FILE_UPLOAD":
            raise ApiError(400, "invalid_params", "source_info.source must be FILE_UPLOAD or PULL_FROM_URL.")
        values = {}
        for name in ("video_size", "chunk_size", "total_chunk_count"):
            value = info.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ApiError(400, "invalid_params", f"source_info.{name} must be a positive integer.")
            values[name] = value
        problem = chunk_problem(values["video_size"], values["chunk_size"], values["total_chunk_count"])
        if problem:
            raise ApiError(400, "invalid_params", problem)
        return values

    def _new_post(self, token, mode, source, post_info):
        prefix = "v_inbox_file~v2." if mode == "inbox" else "v_pub_file~v2."
        post = Post(prefix + self.new_id("", 19), token.grant, mode, source["video_size"], source["chunk_size"],
                    source["total_chunk_count"], self.new_id("", 12), secrets.token_urlsafe(24), self.now(),
                    dict(post_info), bytearray())
        if self._next_post_failure:
            post.forced_fail, self._next_post_failure = self._next_post_failure, None
        self.posts[post.publish_id] = post
        upload_url = f"{self.base_url}/upload/video/?" + urlencode({"upload_id": post.upload_id,
                                                                   "upload_token": post.upload_token})
        return self._ok({"publish_id": post.publish_id, "upload_url": upload_url})

    # --- media transfer ------------------------------------------------------------------------------
    def _upload(self, request):
        post = next((p for p in self.posts.values() if p.upload_id == request.args.get("upload_id")), None)
        if post is None or request.args.get("upload_token") != post.upload_token:
            return _plain(404, "Unknown upload_url.")
        if self.now() > post.created_at + UPLOAD_URL_LIFETIME:
            return _plain(403, "The upload_url has expired (it is valid for one hour after init).")
        if request.mimetype not in VIDEO_MIME_TYPES:
            return _plain(400, f"Content-Type must be one of {', '.join(VIDEO_MIME_TYPES)}.")
        first, last, total = _content_range(request.headers.get("Content-Range", ""))
        if first is None:
            return _plain(400, "Content-Range must be 'bytes FIRST-LAST/TOTAL'.")
        if total != post.video_size:
            return _plain(400, f"Content-Range total {total} differs from video_size {post.video_size}.")
        data = request.get_data()
        declared = request.headers.get("Content-Length")
        if declared is None or int(declared) != len(data) or len(data) != last - first + 1:
            return _plain(400, "Content-Length must equal the chunk's byte count (LAST - FIRST + 1).")
        index = first // post.chunk_size if post.chunk_size else 0
        if index >= post.total_chunk_count or post.chunk_bounds(index) != (first, last):
            return _plain(416, f"bytes {first}-{last} is not one of the declared chunks (chunk_size "
                               f"{post.chunk_size}, {post.total_chunk_count} chunks, the last one to the end).")
        received = len(post.received)
        if first > received:
            return _plain(416, f"Chunks must be uploaded sequentially: expected bytes {received}- next.")
        if first == received:
            post.received.extend(data)
        if len(post.received) < post.video_size:
            return Response("", 206)
        if not post.processing_started:
            post.processing_started = True
            threading.Thread(target=self._process, args=(post, bytes(post.received)), daemon=True).start()
        return Response("", 201)

    def _process(self, post, data):
        info, reason = None, None
        try:
            info = probe(data)
            reason = tiktok_fail_reason(info, self.max_video_post_duration_sec)
        except ProbeError:
            reason = "file_format_check_failed"
        with self._lock:
            post.probe, post.fail_reason, post.done_processing = info, post.forced_fail or reason, True

    def _status_fetch(self, request):
        token = self._bearer(request, "video.upload", "video.publish")
        self._rate(token, "status_fetch", 30)
        body = self._json_body(request)
        post = self.posts.get(body.get("publish_id") or "")
        if post is None or post.grant.open_id != token.grant.open_id:
            raise ApiError(400, "invalid_params", "publish_id is invalid.")
        data = {"uploaded_bytes": len(post.received)}
        complete = len(post.received) >= post.video_size
        if not complete:
            if self.now() > post.created_at + UPLOAD_URL_LIFETIME:
                return self._ok(data | {"status": "FAILED", "fail_reason": "internal"})
            return self._ok(data | {"status": "PROCESSING_UPLOAD"})
        if not post.done_processing or post.polls < self.processing_polls:
            post.polls += 1
            return self._ok(data | {"status": "PROCESSING_UPLOAD"})
        if post.fail_reason:
            return self._ok(data | {"status": "FAILED", "fail_reason": post.fail_reason})
        self._record(post)
        if post.mode == "inbox":
            return self._ok(data | {"status": "SEND_TO_USER_INBOX"})
        public = post.post_info.get("privacy_level") != "SELF_ONLY"
        return self._ok(data | {"status": "PUBLISH_COMPLETE",
                                "publicaly_available_post_id": [post.post_id] if public else []})

    def _record(self, post):
        if post.final_recorded:
            return
        post.final_recorded = True
        post.post_id = int(self.new_id("73", 17))
        record = {"platform": "tiktok", "id": post.publish_id, "post_id": post.post_id, "mode": post.mode,
                  "account_id": post.grant.open_id, "caption": post.post_info.get("title", ""),
                  "privacy_level": post.post_info.get("privacy_level")}
        record.update(post.probe.as_record())
        self.published.append(record)


def _content_range(value):
    try:
        unit, rest = value.strip().split(" ", 1)
        span, total = rest.split("/")
        first, last = span.split("-")
        first, last, total = int(first), int(last), int(total)
    except ValueError:
        return None, None, None
    if unit != "bytes" or first < 0 or last < first:
        return None, None, None
    return first, last, total


def log_id():
    return secrets.token_hex(16).upper()


def _plain(status, message):
    return json_response({"error": {"code": "invalid_upload", "message": message, "log_id": log_id()}}, status)
