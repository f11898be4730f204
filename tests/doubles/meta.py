"""A contract double of Meta's Facebook Login dialog and Graph API, for Reclip's Facebook Page and
Instagram publishing (issue 14), written from Meta's documentation. It is a real HTTP server:

    double = MetaDouble(redirect_uris=["http://127.0.0.1:5000/connections/meta/callback"]).start()
    app.config["META_OAUTH_URL"] = double.oauth_url   # {base}/v26.0, the dialog is {oauth_url}/dialog/oauth
    app.config["META_GRAPH_URL"] = double.graph_url   # {base}/v26.0
    ...
    double.stop()

Graph API version: v26.0 by default (a constructor argument), the newest that Meta's changelog lists
(https://developers.facebook.com/docs/graph-api/changelog: v26.0 introduced July 29, 2026), and the
app's default (webapp/config.py).
Only that version's prefix is served: an app that builds a URL from anything but META_GRAPH_URL gets
"Unknown path components" (#2500).

Rules enforced, each with the page it comes from:

Facebook Login, manual flow
(https://developers.facebook.com/documentation/facebook-login/guides/advanced/manual-flow)
  - GET {oauth_url}/dialog/oauth takes client_id (the app id), redirect_uri, state, response_type=code and
    scope (comma- or space-separated permissions). A wrong client_id or a redirect_uri that is not one of
    the app's "Valid OAuth Redirect URIs" (compared exactly) gets an error page, never a redirect.
  - The consent page ("Allow" / "Cancel"). Allow redirects to redirect_uri with `code` and the same
    `state`; Cancel with error_reason=user_denied&error=access_denied&error_description=Permissions+error
    and the state.
  - GET (or POST) {graph_url}/oauth/access_token with client_id, client_secret, redirect_uri, code gives
    {access_token, token_type: "bearer", expires_in}: a short-lived user token. The redirect_uri must be
    the one used for the dialog. A code is single-use and lives 10 minutes (Meta's page gives no
    lifetime; RFC 6749 section 4.1.2 recommends at most 10 minutes). Errors as Graph answers them: #100
    with subcode 36007 (code expired), 36008 (redirect_uri differs), 36009 (code already used);
    #101 for an unknown client_id; #1 "Error validating client secret". The client secret is read from
    the parameters only (client_secret_post), as the page shows it: HTTP Basic is not looked at.
  - PKCE (https://developers.facebook.com/documentation/facebook-login/guides/advanced/oidc-token):
    when the dialog got code_challenge (+ code_challenge_method S256, or plain), the exchange must carry
    the code_verifier with BASE64URL(SHA256(verifier)) == challenge (RFC 7636), else #100.
Long-lived tokens (https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived)
  - grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token gives a long-lived user token,
    expires_in 5183944 (about 60 days); an expired token cannot be exchanged.
  - Page tokens read from /me/accounts with a long-lived user token have no expiry; with a short-lived
    one they expire with it.
Errors (https://developers.facebook.com/docs/graph-api/guides/error-handling)
  - {"error": {"message", "type": "OAuthException", "code", "error_subcode", "error_user_title",
    "error_user_msg", "fbtrace_id"}}. #104 no token; #190 bad token, with subcode 463 expired, 458 the user
    removed the app (DELETE /me/permissions), 460 session invalidated (password changed). HTTP 400 with
    `WWW-Authenticate: OAuth "Facebook Platform" "invalid_token" ...` (the page gives no HTTP statuses;
    400 is what Graph answers). Permission errors #10 / #200 with HTTP 403.
  - Rate limiting (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/): throttled
    calls fail with #4 (app), #17 (user), #32 (Page) and carry X-App-Usage; Meta documents no HTTP 429
    and no Retry-After. `throttle_next(n, code)` gives that documented shape; `fail_next(n, 503|429,
    retry_after)` is a transport-level failure for testing backoff, not something Meta documents.
Graph nodes used to connect
  - GET /me?fields=id,name; GET /me/accounts (https://developers.facebook.com/docs/graph-api/reference/user/accounts)
    with each Page's id, name, access_token (a Page token), category, tasks and, when `fields` asks,
    instagram_business_account{id,username}; GET /<page-id>, GET /<ig-user-id>?fields=id,username;
    GET /debug_token; DELETE /me/permissions (https://developers.facebook.com/docs/graph-api/reference/user/permissions/)
    revokes the user's grant: every user and Page token of it then answers #190/458.
Instagram content publishing
(https://developers.facebook.com/docs/instagram-platform/content-publishing/ and
 https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media)
  - POST /<ig-user-id>/media with media_type=REELS, video_url, caption and a token of a user who manages
    the linked Page, with instagram_basic + instagram_content_publish + pages_read_engagement (or that
    Page's token). media_type=VIDEO is refused (no longer supported since November 9, 2023). The caption
    holds at most 2,200 characters, 30 hashtags and 20 @ tags, else #100 in words. upload_type=resumable
    answers {id, uri} and takes the bytes at `uri` (Authorization: OAuth <token>, offset, file_size) or a
    `file_url` header.
  - The double fetches video_url itself in a background thread, following redirects ("We cURL media used
    in publishing attempts"), and probes it against the Reels specifications of that page: MOV or MP4,
    moov atom at the front, H.264 or HEVC, progressive 4:2:0, AAC audio at most 48 kHz with 1 or 2
    channels, 23-60 fps, at most 1920 columns, aspect ratio between 0.01:1 and 10:1, 3 s to 15 min,
    video bit rate at most 25 Mbps, at most 300 MB. "No edit lists" is also in the specification, but
    every MP4 that ffmpeg writes carries one, so it is enforced only with strict_edit_lists=True.
  - GET /<container-id>?fields=status_code,status (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container):
    IN_PROGRESS for the first `processing_polls` polls (and until the fetch and probe end), then FINISHED,
    or ERROR with `status` naming the rule that failed, or EXPIRED 24 hours after creation, or PUBLISHED.
  - POST /<ig-user-id>/media_publish?creation_id= gives {id} only for a FINISHED container; otherwise the
    documented errors (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/error-codes):
    9007/2207027 "Media ID is not available" (not ready), -2/2207020 (expired), -1/2207032 (failed),
    9/2207042 (publishing limit reached).
  - GET /<ig-user-id>/content_publishing_limit (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/content_publishing_limit)
    gives quota_usage and config {quota_total, quota_duration: 86400}. quota_total is 50, the value that
    reference states ("currently 50"); older copies of the guide say 25 (`publish_quota` sets it).
  - GET /<media-id>?fields=permalink,... gives https://www.instagram.com/reel/<shortcode>/ ;
    GET /<ig-user-id>/media lists what was published.
Facebook Page video (https://developers.facebook.com/docs/video-api/guides/publishing and
https://developers.facebook.com/docs/graph-api/reference/page/videos)
  - POST /<page-id>/videos with file_url (or a multipart `source`), description, title and a Page access
    token of that Page whose grant has pages_show_list, pages_read_engagement and pages_manage_posts
    (a user token is refused, #200). The double fetches file_url and probes it: a video stream of a
    common codec (H.264, HEVC, VP8, VP9, AV1, MPEG-4), 1 s to 240 min, at most 10 GB.
  - GET /<video-id>?fields=status,permalink_url: status is the documented Video Status object
    (https://developers.facebook.com/docs/graph-api/reference/video-status) with video_status
    "processing" over `processing_polls` polls, then "ready" (or "error" with processing_phase.errors).
    permalink_url is relative ("/<page-id>/videos/<video-id>/"), as Graph answers it.

Knobs for tests: fail_next, throttle_next, advance (base.py); expire_tokens(), revoke_grant(),
invalidate_sessions(), next_container_outcome(status_code, message), set_container_status(id, code),
next_video_error(message), processing_polls, publish_quota. Records: published, containers, videos.
"""
import base64
import html
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from tests.doubles.base import HttpDouble, html_response, json_response
from tests.doubles.graph import GraphError, graph_params, no_object, parse_fields, token_error
from tests.doubles.meta_publishing import MetaPublishing
from tests.doubles.rules import pkce_matches

GRAPH_VERSION = "v26.0"
SHORT_LIVED_SECONDS = 3600
LONG_LIVED_SECONDS = 5183944
CODE_LIFETIME = 600
ALL_TASKS = ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE", "MESSAGING"]
KNOWN_PERMISSIONS = {
    "public_profile", "email", "pages_show_list", "pages_read_engagement", "pages_manage_posts",
    "pages_manage_metadata", "pages_read_user_content", "instagram_basic", "instagram_content_publish",
    "instagram_manage_comments", "instagram_manage_insights", "business_management", "publish_video",
    "read_insights", "ads_management", "ads_read", "openid",
}


@dataclass
class Grant:
    """One user's authorization of the app (what DELETE /me/permissions removes)."""
    user_id: str
    scopes: tuple
    revoked: bool = False


@dataclass
class MetaToken:
    value: str
    kind: str  # "user", "page" or "app"
    grant: Grant = None
    expires_at: float = None  # None: never
    page_id: str = None
    long_lived: bool = False
    invalidated: bool = False


@dataclass
class AuthRequest:
    client_id: str
    redirect_uri: str
    state: str
    scopes: tuple
    challenge: str = None
    challenge_method: str = None


@dataclass
class AuthCode:
    request: AuthRequest
    expires_at: float
    used: bool = False


DEFAULT_USER = {"id": "10160000000000001", "name": "Ada Lovelace"}
DEFAULT_PAGES = (
    {"id": "106000000000001", "name": "Reclip Test Page", "category": "Software", "tasks": ALL_TASKS,
     "instagram": {"id": "17841400000000001", "username": "reclip.test", "name": "Reclip Test"}},
    {"id": "106000000000002", "name": "Side Project Page", "category": "Community", "tasks": ALL_TASKS,
     "instagram": None},
)


class MetaDouble(MetaPublishing, HttpDouble):
    """Facebook Login + Graph API double; see the module docstring for what it enforces."""

    def __init__(self, app_id="1234567890123456", app_secret="meta-test-app-secret", redirect_uris=(),
                 version=GRAPH_VERSION, app_name="Reclip", user=None, pages=None, processing_polls=2,
                 publish_quota=50, strict_edit_lists=False):
        super().__init__()
        self.app_id, self.app_secret, self.version, self.app_name = app_id, app_secret, version, app_name
        self.redirect_uris = set(redirect_uris)
        self.user = dict(user or DEFAULT_USER)
        self.pages = [dict(page) for page in (pages or DEFAULT_PAGES)]
        self.processing_polls = processing_polls
        self.publish_quota = publish_quota
        self.strict_edit_lists = strict_edit_lists
        self.declined_scopes = set()  # scopes the "user" unticks on the consent page
        self.oauth_url = f"{self.base_url}/{version}"
        self.graph_url = f"{self.base_url}/{version}"
        self.tokens = {}
        self.grants = []
        self.pending = {}
        self.codes = {}
        self.containers = {}
        self.media = {}
        self.videos = {}
        self.published = []
        self._throttles = []
        self._next_container_outcome = None
        self._next_video_error = None
        self.app_token = f"{app_id}|{app_secret}"

    # --- knobs ---------------------------------------------------------------------------------------
    def register_redirect_uri(self, uri):
        with self._lock:
            self.redirect_uris.add(uri)

    def expire_tokens(self, include_pages=False):
        """Every user token (and Page token, when asked) expires now: #190/463 from then on."""
        with self._lock:
            for token in self.tokens.values():
                if token.kind == "user" or (include_pages and token.kind == "page"):
                    token.expires_at = self.now() - 1

    def revoke_grant(self, user_id=None):
        """The user removes the app in their Facebook settings: #190/458 for all of its tokens."""
        with self._lock:
            for grant in self.grants:
                if user_id in (None, grant.user_id):
                    grant.revoked = True

    def invalidate_sessions(self):
        """The user changes their password: every token answers #190/460."""
        with self._lock:
            for token in self.tokens.values():
                token.invalidated = True

    def throttle_next(self, n=1, code=4):
        """The next n Graph calls fail as throttled: #4 (app), #17 (user) or #32 (Page), HTTP 400."""
        with self._lock:
            self._throttles.extend([code] * n)

    def next_container_outcome(self, status_code="ERROR", message="Error: Injected failure (2207001)"):
        """The next IG container ends in this status_code (ERROR or EXPIRED) whatever its video."""
        with self._lock:
            self._next_container_outcome = (status_code, message)

    def set_container_status(self, container_id, status_code, message=None):
        with self._lock:
            self.containers[container_id].forced = (status_code, message or f"Error: {status_code}")

    def next_video_error(self, message="Injected processing failure"):
        """The next Page video ends with video_status "error"."""
        with self._lock:
            self._next_video_error = message

    # --- lookups -------------------------------------------------------------------------------------
    def page(self, page_id):
        return next((p for p in self.pages if p["id"] == page_id), None)

    def page_of_ig_user(self, ig_user_id):
        return next((p for p in self.pages if p.get("instagram") and p["instagram"]["id"] == ig_user_id), None)

    @property
    def ig_user_ids(self):
        return [p["instagram"]["id"] for p in self.pages if p.get("instagram")]

    # --- base hooks ----------------------------------------------------------------------------------
    def is_api_request(self, request):
        return "/dialog/oauth" not in request.path

    def injected_failure(self, request, status, retry_after):
        if status == 429:
            error = GraphError(4, "(#4) Application request limit reached", status=429, transient=True)
        else:
            error = GraphError(2, "An unexpected error has occurred. Please retry your request later.",
                               status=status, transient=True)
        return error.response()

    def dispatch(self, request):
        try:
            return self._route(request)
        except GraphError as error:
            return error.response()

    # --- routing -------------------------------------------------------------------------------------
    def _route(self, request):
        parts = [p for p in request.path.split("/") if p]
        if len(parts) >= 3 and parts[0] == "ig-api-upload":
            return self._rupload(request, parts[1], parts[2])
        if not parts or parts[0] != self.version:
            raise GraphError(2500, "Unknown path components: " + request.path
                             + f" (this double serves Graph API {self.version} only)")
        parts = parts[1:]
        if parts[:2] == ["dialog", "oauth"]:
            if len(parts) == 2 and request.method == "GET":
                return self._dialog(request)
            if len(parts) == 3 and parts[2] == "confirm" and request.method == "POST":
                return self._dialog_confirm(request)
            return html_response("<h1>Not found</h1>", 404)
        params = graph_params(request)
        if self._throttles:
            code = self._throttles.pop(0)
            message = {4: "(#4) Application request limit reached", 17: "(#17) User request limit reached",
                       32: "(#32) Page request limit reached"}.get(code, f"(#{code}) Request limit reached")
            usage = '{"call_count":100,"total_cputime":25,"total_time":25}'
            header = "X-Page-Usage" if code == 32 else "X-App-Usage"
            raise GraphError(code, message, transient=True, headers={header: usage})
        if parts == ["oauth", "access_token"] and request.method in ("GET", "POST"):
            return self._access_token(params)
        if parts == ["debug_token"]:
            return self._debug_token(params, request)
        if not parts:
            raise GraphError(2500, "Unknown path components: " + request.path)
        token = self._authenticate(params, request)
        node = parts[0]
        if node == "me":
            node = token.page_id if token.kind == "page" else token.grant.user_id
        edge = parts[1] if len(parts) > 1 else None
        if len(parts) > 2:
            raise GraphError(2500, "Unknown path components: " + request.path)
        return self._node(request, params, token, node, edge)

    def _node(self, request, params, token, node, edge):
        method = request.method
        fields = parse_fields(params.get("fields"))
        if node == self.user["id"]:
            if edge is None and method == "GET":
                return json_response(self._user_json(fields))
            if edge == "accounts" and method == "GET":
                return json_response(self._accounts(token, fields))
            if edge == "permissions" and method == "DELETE":
                return self._delete_permissions(token)
            if edge == "permissions" and method == "GET":
                return json_response({"data": [{"permission": s, "status": "granted"} for s in token.grant.scopes]})
        if self.page(node):
            return self._page_node(request, params, token, node, edge, fields)
        if node in self.ig_user_ids:
            return self._ig_user_node(request, params, token, node, edge, fields)
        if node in self.containers and edge is None and method == "GET":
            return self._container_status(token, self.containers[node], fields)
        if node in self.media and edge is None and method == "GET":
            return json_response(self._media_json(self.media[node], fields))
        if node in self.videos and edge is None and method == "GET":
            return self._video_status(token, self.videos[node], fields)
        raise no_object(node, method.lower())

    # --- OAuth dialog --------------------------------------------------------------------------------
    def _dialog(self, request):
        args = request.args
        if args.get("client_id") != self.app_id:
            return _error_page("Invalid App ID", "The provided app ID does not look like a valid app ID.")
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in self.redirect_uris:
            return _error_page("URL blocked", "This redirect failed because the redirect URI is not white-listed in "
                                              "the app's client OAuth settings. Make sure that the client and web "
                                              "OAuth logins are on and add all your app domains as valid OAuth "
                                              f"redirect URIs. (redirect_uri={redirect_uri!r})")
        response_type = args.get("response_type", "code")
        if response_type != "code":
            return _error_page("Unsupported response_type",
                               f"This double implements response_type=code only (got {response_type!r}).")
        scopes = tuple(s for s in args.get("scope", "").replace(" ", ",").split(",") if s)
        unknown = [s for s in scopes if s not in KNOWN_PERMISSIONS]
        if unknown:
            return _error_page("Invalid Scopes", "Invalid Scopes: " + ", ".join(unknown) + ". This message is only "
                                                 "shown to developers.")
        challenge = args.get("code_challenge")
        method = args.get("code_challenge_method")
        if challenge and (method or "plain") not in ("S256", "plain"):
            return _error_page("Invalid request", f"Unsupported code_challenge_method {method!r}.")
        request_id = secrets.token_urlsafe(16)
        self.pending[request_id] = AuthRequest(self.app_id, redirect_uri, args.get("state"), scopes,
                                               challenge, (method or "plain") if challenge else None)
        items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes) or "<li>public_profile</li>"
        name = html.escape(self.app_name)
        return html_response(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in with Facebook</title></head>
<body>
<main>
<h1>{name} wants to access your Pages</h1>
<p>Logged in as {html.escape(self.user["name"])}. {name} is requesting:</p>
<ul>{items}</ul>
<form method="post" action="/{self.version}/dialog/oauth/confirm">
<input type="hidden" name="request_id" value="{request_id}">
<button type="submit" name="action" value="allow">Allow</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form>
</main>
</body></html>""")

    def _dialog_confirm(self, request):
        auth = self.pending.pop(request.form.get("request_id", ""), None)
        if auth is None:
            return _error_page("Session expired", "This login request is no longer valid. Start again.")
        if request.form.get("action") == "allow":
            code = self.token("AQ", 48)
            self.codes[code] = AuthCode(auth, self.now() + CODE_LIFETIME)
            values = {"code": code}
        else:
            values = {"error_reason": "user_denied", "error": "access_denied",
                      "error_description": "Permissions error."}
        if auth.state is not None:
            values["state"] = auth.state
        separator = "&" if "?" in auth.redirect_uri else "?"
        return redirect(auth.redirect_uri + separator + urlencode(values))

    # --- tokens --------------------------------------------------------------------------------------
    def _access_token(self, params):
        if params.get("client_id") != self.app_id:
            raise GraphError(101, "Error validating application. Invalid application ID.")
        grant_type = params.get("grant_type")
        if params.get("client_secret") != self.app_secret:
            raise GraphError(1, "Error validating client secret.")
        if grant_type == "client_credentials":
            return json_response({"access_token": self.app_token, "token_type": "bearer"})
        if grant_type == "fb_exchange_token":
            short = self.tokens.get(params.get("fb_exchange_token", ""))
            if short is None or short.kind != "user":
                raise token_error("Invalid OAuth access token - Cannot parse access token")
            self._check_token(short)
            token = self._issue_user_token(short.grant, LONG_LIVED_SECONDS, long_lived=True)
            return json_response({"access_token": token.value, "token_type": "bearer",
                                  "expires_in": LONG_LIVED_SECONDS})
        if grant_type not in (None, "authorization_code"):
            raise GraphError(100, f"Unsupported grant_type {grant_type!r}")
        code = self.codes.get(params.get("code", ""))
        if code is None:
            raise GraphError(100, "Invalid verification code format.", type_="OAuthException")
        if code.used:
            raise GraphError(100, "This authorization code has been used.", subcode=36009)
        if self.now() > code.expires_at:
            raise GraphError(100, "This authorization code has expired.", subcode=36007)
        if params.get("redirect_uri") != code.request.redirect_uri:
            raise GraphError(100, "Error validating verification code. Please make sure your redirect_uri is "
                                  "identical to the one you used in the OAuth dialog request", subcode=36008)
        if code.request.challenge:
            verifier = params.get("code_verifier")
            encoding = "plain" if code.request.challenge_method == "plain" else "base64url"
            if not verifier or not pkce_matches(verifier, code.request.challenge, encoding):
                raise GraphError(100, "Invalid code verifier: it does not match the code_challenge of the "
                                      "authorization request.")
        code.used = True
        scopes = tuple(s for s in code.request.scopes if s not in self.declined_scopes) or ("public_profile",)
        grant = Grant(self.user["id"], tuple(dict.fromkeys(scopes + ("public_profile",))))
        self.grants.append(grant)
        token = self._issue_user_token(grant, SHORT_LIVED_SECONDS)
        return json_response({"access_token": token.value, "token_type": "bearer", "expires_in": SHORT_LIVED_SECONDS})

    def _issue_user_token(self, grant, lifetime, long_lived=False):
        token = MetaToken(self.token("EAAB"), "user", grant, self.now() + lifetime, long_lived=long_lived)
        self.tokens[token.value] = token
        return token

    def _page_token(self, user_token, page):
        """The Page token /me/accounts hands out: no expiry from a long-lived user token."""
        for token in self.tokens.values():
            if (token.kind == "page" and token.page_id == page["id"] and token.grant is user_token.grant
                    and token.long_lived == user_token.long_lived and not token.invalidated):
                return token
        expires = None if user_token.long_lived else user_token.expires_at
        token = MetaToken(self.token("EAAP"), "page", user_token.grant, expires, page["id"], user_token.long_lived)
        self.tokens[token.value] = token
        return token

    def _authenticate(self, params, request):
        value = params.get("access_token")
        header = request.headers.get("Authorization", "")
        if not value and header.split(" ", 1)[0] in ("Bearer", "OAuth"):
            value = header.split(" ", 1)[1].strip() if " " in header else ""
        if not value:
            raise GraphError(104, "An access token is required to request this resource.")
        token = self.tokens.get(value)
        if token is None:
            raise token_error("Invalid OAuth access token - Cannot parse access token")
        self._check_token(token)
        return token

    def _check_token(self, token):
        if token.grant is not None and token.grant.revoked:
            raise token_error(f"Error validating access token: The user has not authorized application "
                               f"{self.app_id}.", subcode=458)
        if token.invalidated:
            raise token_error("Error validating access token: The session has been invalidated because the user "
                               "changed their password or Facebook has changed the session for security reasons.",
                               subcode=460)
        if token.expires_at is not None and self.now() > token.expires_at:
            when = datetime.fromtimestamp(token.expires_at, timezone.utc).strftime("%A, %d-%b-%y %H:%M:%S UTC")
            raise token_error(f"Error validating access token: Session has expired on {when}.", subcode=463)

    def _debug_token(self, params, request):
        if params.get("access_token") != self.app_token and self.tokens.get(params.get("access_token", "")) is None:
            raise token_error("Invalid OAuth access token - Cannot parse access token")
        token = self.tokens.get(params.get("input_token", ""))
        if token is None:
            return json_response({"data": {"is_valid": False, "error": {
                "code": 190, "message": "Invalid OAuth access token - Cannot parse access token"}}})
        data = {"app_id": self.app_id, "type": token.kind.upper(), "application": self.app_name,
                "expires_at": int(token.expires_at) if token.expires_at else 0,
                "scopes": list(token.grant.scopes), "user_id": token.grant.user_id}
        if token.page_id:
            data["profile_id"] = token.page_id
        try:
            self._check_token(token)
            data["is_valid"] = True
        except GraphError as error:
            data["is_valid"] = False
            data["error"] = {"code": error.code, "subcode": error.subcode, "message": error.message}
        return json_response({"data": data})

    def _delete_permissions(self, token):
        if token.kind != "user":
            raise GraphError(200, "(#200) Requires a user access token", status=403)
        token.grant.revoked = True
        return json_response({"success": True})

    # --- user and Pages ------------------------------------------------------------------------------
    def _user_json(self, fields):
        fields = fields or {"id": None, "name": None}
        body = {}
        for name in fields:
            if name in ("id", "name"):
                body[name] = self.user[name]
        return body

    def _accounts(self, token, fields):
        if token.kind != "user":
            raise GraphError(100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)")
        if "pages_show_list" not in token.grant.scopes:
            return {"data": []}
        fields = fields or {"access_token": None, "category": None, "category_list": None, "name": None,
                            "id": None, "tasks": None}
        data = [self._page_json(page, fields, token) for page in self.pages]
        cursor = base64.b64encode(b"cursor").decode()
        return {"data": data, "paging": {"cursors": {"before": cursor, "after": cursor}}}

    def _page_json(self, page, fields, token):
        body = {}
        for name, sub in fields.items():
            if name in ("id", "name", "category", "tasks"):
                body[name] = page[name]
            elif name == "category_list":
                body[name] = [{"id": "2211", "name": page["category"]}]
            elif name == "access_token" and token.kind == "user":
                body[name] = self._page_token(token, page).value
            elif name == "instagram_business_account" and page.get("instagram"):
                ig = page["instagram"]
                body[name] = {k: ig[k] for k in (sub or ["id"]) if k in ig} or {"id": ig["id"]}
        body.setdefault("id", page["id"])
        return body

    def _page_node(self, request, params, token, page_id, edge, fields):
        page = self.page(page_id)
        if edge is None and request.method == "GET":
            self._require_page_access(token, page)
            return json_response(self._page_json(page, fields or {"name": None, "id": None}, token))
        if edge == "videos" and request.method == "POST":
            return self._create_page_video(request, params, token, page)
        raise no_object(page_id, request.method.lower())

    def _require_page_access(self, token, page):
        if token.kind == "page" and token.page_id != page["id"]:
            raise no_object(page["id"])

    # --- Instagram -----------------------------------------------------------------------------------



def _error_page(title, message):
    return html_response(f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
                         f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>", 400)


def redirect(location):
    return Response("", 302, headers={"Location": location})
