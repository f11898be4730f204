"""A contract double of TikTok's Login Kit (OAuth v2) and Content Posting API, for Reclip's TikTok
publishing (issue 14), written from TikTok for Developers' documentation. It is a real HTTP server:

    double = TikTokDouble(redirect_uris=["http://127.0.0.1:5000/connections/tiktok/callback"]).start()
    app.config["TIKTOK_AUTH_URL"] = double.auth_url   # {base}/v2/auth/authorize/ (www.tiktok.com's path)
    app.config["TIKTOK_API_URL"] = double.api_url     # {base}, in place of https://open.tiktokapis.com
    ...
    double.stop()

Rules enforced, each with the page it comes from:

Login Kit for Web (https://developers.tiktok.com/doc/login-kit-web)
  - GET {auth_url}?client_key&scope&redirect_uri&state&response_type=code. `client_key`, not client_id.
    `scope` is comma-separated; every scope must be one the app is approved for (`approved_scopes`), so a
    space-separated list is one unknown scope (error=invalid_scope). redirect_uri must equal a registered
    one exactly. A wrong client_key or redirect_uri gets an error page, not a redirect.
  - The consent page ("Authorize" / "Cancel"). Authorize redirects with code, scopes (comma-separated, the
    granted ones) and the same state; Cancel with error=access_denied, error_description and the state.
    The code is single-use and lives 10 minutes (TikTok gives no lifetime; RFC 6749 section 4.1.2).
  - PKCE: the web flow documents none; Login Kit for Desktop (https://developers.tiktok.com/doc/login-kit-desktop)
    requires it, with code_challenge_method=S256 and, unlike RFC 7636, the challenge being the HEX encoding
    of SHA256(code_verifier). The double follows that: PKCE is optional (require_pkce=True makes it
    mandatory, the desktop rule, refused with an error page "error_type=code_challenge"), and when a
    challenge was sent the token request must carry the code_verifier whose hex SHA-256 equals it
    (pkce_encoding="base64url" switches to RFC 7636 for apps that follow the RFC on purpose).
Tokens (https://developers.tiktok.com/doc/oauth-get-a-user-access-token,
https://developers.tiktok.com/docs/en/oauth-refresh-a-user-access-token,
https://developers.tiktok.com/docs/en/oauth-revoke-a-user-access-token, all updated November 2, 2026)
  - POST /v2/oauth/token/, application/x-www-form-urlencoded only, with client_key, client_secret,
    code, grant_type=authorization_code, redirect_uri (the very one of the authorization request) and
    code_verifier (see PKCE) -> {access_token, expires_in, open_id, refresh_expires_in, refresh_token,
    scope, token_type: "Bearer"}. Lifetimes follow the current pages: access token 2 hours (expires_in
    7200), refresh token 180 days; the older "Manage User Access Tokens" page said 24 hours and 365 days
    (both are constructor arguments).
  - grant_type=refresh_token gives a new access token and, as the refresh page says, a new refresh token:
    the one sent stops working (rotate_refresh_tokens=False turns rotation off).
  - POST /v2/oauth/revoke/ (client_key, client_secret, token) answers {} and ends the authorization: its
    access and refresh tokens stop working.
  - OAuth errors are {"error", "error_description", "log_id"} (https://developers.tiktok.com/doc/oauth-error-handling:
    invalid_client, invalid_grant, invalid_request, invalid_scope, unsupported_grant_type, access_denied).
    They come with HTTP 200, which is what TikTok's token endpoint answers (reported in
    github.com/HohnerJulian/ResearchTikPy/pull/28): an app must read the body, not the status
    (`oauth_error_status` changes it).
v2 API errors (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling)
  - {"data": {}, "error": {"code", "message", "log_id"}}; a success carries error.code "ok".
    access_token_invalid 401 (missing, unknown, expired or revoked token), scope_not_authorized 401,
    invalid_params 400, rate_limit_exceeded 429 (no Retry-After: TikTok documents none), internal_error 500.
GET /v2/user/info/?fields= (https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info): open_id, union_id,
avatar_url(_100), avatar_large_url, display_name with user.info.basic; profile and stats fields need
user.info.profile / user.info.stats; `fields` is required.
POST /v2/post/publish/creator_info/query/ (https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info)
  - scope video.publish, 20 requests per minute per token; creator_avatar_url, creator_username,
    creator_nickname, privacy_level_options (public account: PUBLIC_TO_EVERYONE, MUTUAL_FOLLOW_FRIENDS,
    SELF_ONLY; private account: FOLLOWER_OF_CREATOR, MUTUAL_FOLLOW_FRIENDS, SELF_ONLY), comment_disabled,
    duet_disabled, stitch_disabled, max_video_post_duration_sec.
POST /v2/post/publish/inbox/video/init/ (scope video.upload,
https://developers.tiktok.com/doc/content-posting-api-reference-upload-video) and
POST /v2/post/publish/video/init/ (scope video.publish, https://developers.tiktok.com/doc/content-posting-api-reference-direct-post)
  - 6 requests per minute per access token (each endpoint's own count), else 429 rate_limit_exceeded.
  - source_info {source: FILE_UPLOAD, video_size, chunk_size, total_chunk_count} with the chunk rules of
    the Media Transfer Guide (https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide):
    total_chunk_count = floor(video_size / chunk_size); chunks of 5 MB to 64 MB, the final one up to
    128 MB; a video under 5 MB is one chunk with chunk_size = video_size; 1 to 1000 chunks; at most 4 GB.
    (MB is read as MiB, 1,048,576 bytes, the unit every client library uses.) PULL_FROM_URL is refused
    with url_ownership_unverified: no domain can be verified here.
  - Direct post: post_info.privacy_level must be one of creator_info's options
    (privacy_level_option_mismatch); an unaudited client may post only SELF_ONLY and only from a private
    account (unaudited_client_can_only_post_to_private_accounts, 403,
    https://developers.tiktok.com/doc/content-sharing-guidelines); title at most 2,200 UTF-16 units.
  - Inbox: at most 5 pending shares (uploaded drafts the user has not yet posted) per 24 hours
    (spam_risk_too_many_pending_share, 403).
  - -> {data: {publish_id, upload_url}}; the upload_url is valid for one hour.
PUT upload_url (Media Transfer Guide): Content-Type video/mp4, video/quicktime or video/webm;
Content-Length equal to the chunk's bytes; Content-Range "bytes FIRST-LAST/TOTAL" with TOTAL =
video_size and FIRST-LAST exactly one declared chunk (the last one runs to the end). Chunks go in order:
the next one is stored (206 Partial Content, 201 Created after the last), one already received is
acknowledged again without being stored twice, one past a gap is refused with 416. After one hour: 403.
Processing, then POST /v2/post/publish/status/fetch/ (https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status,
30 requests per minute): PROCESSING_UPLOAD (with uploaded_bytes) until the upload is complete and for
`processing_polls` polls, then SEND_TO_USER_INBOX (inbox) or PUBLISH_COMPLETE (direct; with
`publicaly_available_post_id`, TikTok's spelling, empty for a SELF_ONLY post), or FAILED with fail_reason
from the probe against the video restrictions of the Media Transfer Guide: MP4/WebM/MOV and
H.264/H.265/VP8/VP9 (file_format_check_failed), 23-60 fps (frame_rate_check_failed), 360 to 4096 pixels
a side (picture_size_check_failed), at most max_video_post_duration_sec (duration_check_failed). An
upload left incomplete past its hour ends FAILED with fail_reason "internal".

Knobs for tests: fail_next, advance (base.py); expire_access_tokens(), revoke(open_id=None),
next_post_failure(fail_reason), finish_inbox_posts(), processing_polls, audited, account_private,
pending_share_limit.
Records: published, posts.
"""
import html
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from tests.doubles.base import HttpDouble, html_response, json_response
from tests.doubles.rules import pkce_matches
from tests.doubles.tiktok_api import PRIVATE_OPTIONS, PUBLIC_OPTIONS, ApiError, TikTokApi, log_id

CODE_LIFETIME = 600


class OAuthError(Exception):
    """An OAuth answer: {"error", "error_description", "log_id"}."""

    def __init__(self, error, description):
        super().__init__(description)
        self.error, self.description = error, description


@dataclass
class Grant:
    open_id: str
    scopes: tuple
    revoked: bool = False


@dataclass
class AccessToken:
    value: str
    grant: Grant
    expires_at: float


@dataclass
class RefreshToken:
    value: str
    grant: Grant
    expires_at: float
    used: bool = False


@dataclass
class AuthRequest:
    redirect_uri: str
    state: str
    scopes: tuple
    challenge: str = None


@dataclass
class AuthCode:
    request: AuthRequest
    expires_at: float
    used: bool = False


DEFAULT_USER = {"open_id": "-000Reclip-TestOpenId-0001", "union_id": "c9c60f44-b5cf-4e2d-8d1e-0001",
                "display_name": "Reclip Tester", "username": "reclip.tester",
                "avatar_url": "https://p16-sign.tiktokcdn-us.com/reclip-avatar.jpeg"}


class TikTokDouble(TikTokApi, HttpDouble):
    """Login Kit + Content Posting API double; see the module docstring for what it enforces."""

    def __init__(self, client_key="tiktok-test-client-key", client_secret="tiktok-test-client-secret",
                 redirect_uris=(), app_name="Reclip",
                 approved_scopes=("user.info.basic", "video.upload", "video.publish"),
                 audited=False, account_private=True, max_video_post_duration_sec=600,
                 access_token_lifetime=7200, refresh_token_lifetime=180 * 86400, rotate_refresh_tokens=True,
                 processing_polls=2, require_pkce=False, pkce_encoding="hex", oauth_error_status=200,
                 pending_share_limit=5, user=None):
        super().__init__()
        self.client_key, self.client_secret, self.app_name = client_key, client_secret, app_name
        self.redirect_uris = set(redirect_uris)
        self.approved_scopes = set(approved_scopes)
        self.audited, self.account_private = audited, account_private
        self.max_video_post_duration_sec = max_video_post_duration_sec
        self.access_token_lifetime, self.refresh_token_lifetime = access_token_lifetime, refresh_token_lifetime
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.processing_polls = processing_polls
        self.require_pkce, self.pkce_encoding = require_pkce, pkce_encoding
        self.oauth_error_status = oauth_error_status
        self.pending_share_limit = pending_share_limit
        self.user = dict(user or DEFAULT_USER)
        self.comment_disabled = self.duet_disabled = self.stitch_disabled = False
        self.auth_url = f"{self.base_url}/v2/auth/authorize/"
        self.api_url = self.base_url
        self.pending = {}
        self.codes = {}
        self.grants = []
        self.access_tokens = {}
        self.refresh_tokens = {}
        self.posts = {}
        self.published = []
        self._next_post_failure = None

    # --- knobs ---------------------------------------------------------------------------------------
    def register_redirect_uri(self, uri):
        with self._lock:
            self.redirect_uris.add(uri)

    def expire_access_tokens(self):
        """Every access token expires now, so the app must use its refresh token."""
        with self._lock:
            for token in self.access_tokens.values():
                token.expires_at = self.now() - 1

    def revoke(self, open_id=None):
        """The user removes the app in TikTok: its access and refresh tokens stop working."""
        with self._lock:
            for grant in self.grants:
                if open_id in (None, grant.open_id):
                    grant.revoked = True

    def next_post_failure(self, fail_reason="file_format_check_failed"):
        """The next post ends FAILED with this fail_reason whatever its video."""
        with self._lock:
            self._next_post_failure = fail_reason

    def finish_inbox_posts(self):
        """The user opens TikTok and posts (or discards) every draft in the inbox: none is pending."""
        with self._lock:
            for post in self.posts.values():
                post.finished_by_user = True

    @property
    def privacy_level_options(self):
        return list(PRIVATE_OPTIONS if self.account_private else PUBLIC_OPTIONS)

    # --- base hooks ----------------------------------------------------------------------------------
    def is_api_request(self, request):
        return not request.path.startswith("/v2/auth/")

    def injected_failure(self, request, status, retry_after):
        code = "rate_limit_exceeded" if status == 429 else "internal_error"
        message = ("The API rate limit was exceeded. Please try again later." if status == 429
                   else "Something went wrong. Please try again later.")
        return ApiError(status, code, message).response()

    def dispatch(self, request):
        path = request.path
        try:
            if path == "/v2/auth/authorize/" and request.method == "GET":
                return self._authorize(request)
            if path == "/v2/auth/authorize/confirm/" and request.method == "POST":
                return self._authorize_confirm(request)
            if path == "/v2/oauth/token/" and request.method == "POST":
                return self._token(request)
            if path == "/v2/oauth/revoke/" and request.method == "POST":
                return self._revoke(request)
            if path == "/upload/video/" and request.method == "PUT":
                return self._upload(request)
            routes = {
                ("GET", "/v2/user/info/"): self._user_info,
                ("POST", "/v2/post/publish/creator_info/query/"): self._creator_info,
                ("POST", "/v2/post/publish/inbox/video/init/"): self._inbox_init,
                ("POST", "/v2/post/publish/video/init/"): self._direct_init,
                ("POST", "/v2/post/publish/status/fetch/"): self._status_fetch,
            }
            handler = routes.get((request.method, path))
            if handler is None:
                raise ApiError(404, "invalid_params", f"No such endpoint: {request.method} {path}")
            return handler(request)
        except ApiError as error:
            return error.response()
        except OAuthError as error:
            return json_response({"error": error.error, "error_description": error.description,
                                  "log_id": log_id()}, self.oauth_error_status)

    # --- Login Kit -----------------------------------------------------------------------------------
    def _authorize(self, request):
        args = request.args
        if args.get("client_key") != self.client_key:
            detail = "client_id was sent instead of client_key" if "client_id" in args else "unknown client_key"
            return _error_page("client_key", f"Something went wrong: {detail}.")
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            return _error_page("redirect_uri", f"Something went wrong: redirect_uri {redirect_uri!r} is not "
                                               "registered for this app.")
        state = args.get("state")
        if args.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type",
                                            "error_description": "response_type must be code", "state": state})
        scopes = tuple(s for s in args.get("scope", "").split(",") if s)
        bad = [s for s in scopes if s not in self.approved_scopes]
        if not scopes or bad:
            return _redirect(redirect_uri, {"error": "invalid_scope", "state": state,
                                            "error_description": "The scope is invalid or not approved for this "
                                                                 f"app: {', '.join(bad) or '(none)'} "
                                                                 "(scopes are separated by commas)"})
        challenge = args.get("code_challenge")
        if challenge and args.get("code_challenge_method") != "S256":
            return _error_page("code_challenge", "code_challenge_method must be S256.")
        if self.require_pkce and not challenge:
            return _error_page("code_challenge", "Something went wrong: code_challenge is required.")
        request_id = secrets.token_urlsafe(16)
        self.pending[request_id] = AuthRequest(redirect_uri, state, scopes, challenge)
        items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
        name = html.escape(self.app_name)
        return html_response(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TikTok - Authorize</title></head>
<body>
<main>
<h1>{name} wants to access your TikTok account</h1>
<p>Logged in as {html.escape(self.user["display_name"])}. {name} would like to:</p>
<ul>{items}</ul>
<form method="post" action="/v2/auth/authorize/confirm/">
<input type="hidden" name="request_id" value="{request_id}">
<button type="submit" name="action" value="authorize">Authorize</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
</main>
</body></html>""")

    def _authorize_confirm(self, request):
        auth = self.pending.pop(request.form.get("request_id", ""), None)
        if auth is None:
            return _error_page("request", "This authorization request is no longer valid.")
        if request.form.get("action") != "authorize":
            return _redirect(auth.redirect_uri, {"error": "access_denied", "state": auth.state,
                                                 "error_description": "The user denied the authorization request."})
        code = self.token("", 36)
        self.codes[code] = AuthCode(auth, self.now() + CODE_LIFETIME)
        return _redirect(auth.redirect_uri, {"code": code, "scopes": ",".join(auth.scopes), "state": auth.state})

    def _client(self, request):
        if request.mimetype != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
        form = request.form
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            detail = " (client_id is not a parameter here: use client_key)" if "client_id" in form else ""
            raise OAuthError("invalid_client", "Client key or secret is incorrect." + detail)
        return form

    def _token(self, request):
        form = self._client(request)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._token_from_code(form)
        if grant_type == "refresh_token":
            return self._token_from_refresh(form)
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported.")

    def _token_from_code(self, form):
        code = self.codes.get(form.get("code", ""))
        if code is None or code.used or self.now() > code.expires_at:
            raise OAuthError("invalid_grant", "Authorization code is expired.")
        if form.get("redirect_uri") != code.request.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the one of the authorization request.")
        verifier = form.get("code_verifier")
        if code.request.challenge:
            if not verifier or not pkce_matches(verifier, code.request.challenge, self.pkce_encoding):
                raise OAuthError("invalid_request", "Code verifier or code challenge is invalid.")
        elif self.require_pkce:
            raise OAuthError("invalid_request", "Code verifier or code challenge is invalid.")
        code.used = True
        grant = Grant(self.user["open_id"], code.request.scopes)
        self.grants.append(grant)
        refresh = RefreshToken(self.token("rft."), grant, self.now() + self.refresh_token_lifetime)
        self.refresh_tokens[refresh.value] = refresh
        return self._token_answer(grant, refresh)

    def _token_from_refresh(self, form):
        refresh = self.refresh_tokens.get(form.get("refresh_token", ""))
        if refresh is None or refresh.used or refresh.grant.revoked or self.now() > refresh.expires_at:
            raise OAuthError("invalid_grant", "Refresh token is invalid or expired.")
        if self.rotate_refresh_tokens:
            refresh.used = True
            refresh = RefreshToken(self.token("rft."), refresh.grant, refresh.expires_at)
            self.refresh_tokens[refresh.value] = refresh
        return self._token_answer(refresh.grant, refresh)

    def _token_answer(self, grant, refresh):
        access = AccessToken(self.token("act."), grant, self.now() + self.access_token_lifetime)
        self.access_tokens[access.value] = access
        return json_response({"access_token": access.value, "expires_in": self.access_token_lifetime,
                              "open_id": grant.open_id, "refresh_expires_in": int(refresh.expires_at - self.now()),
                              "refresh_token": refresh.value, "scope": ",".join(grant.scopes),
                              "token_type": "Bearer"})

    def _revoke(self, request):
        form = self._client(request)
        token = self.access_tokens.get(form.get("token", ""))
        if token is None:
            raise OAuthError("invalid_request", "The token is invalid.")
        token.grant.revoked = True
        return json_response({})

    # --- v2 API --------------------------------------------------------------------------------------
def _redirect(redirect_uri, values):
    values = {k: v for k, v in values.items() if v is not None}
    separator = "&" if "?" in redirect_uri else "?"
    return Response("", 302, headers={"Location": redirect_uri + separator + urlencode(values)})


def _error_page(error_type, message):
    return html_response(f"<!doctype html><html lang=en><head><meta charset=utf-8><title>TikTok</title></head>"
                         f"<body><h1>Something went wrong</h1><p>{html.escape(message)}</p>"
                         f"<p>error_type={html.escape(error_type)}</p></body></html>", 400)
