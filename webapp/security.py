"""The server's edges: trusted hosts and proxies, response headers, CORS for the API, the CSRF token in templates."""
import json
from urllib.parse import urlsplit

from flask import request
from flask_cors import CORS
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response
from werkzeug.wsgi import get_host

# FFmpeg.wasm needs 'wasm-unsafe-eval' and a worker from self/blob; media may come from the bucket.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "style-src 'self'; img-src 'self' data: blob: {media}; media-src 'self' blob: {media}; "
    "connect-src 'self' blob: {media}; object-src 'none'; base-uri 'self'; form-action 'self' {forms}; "
    "frame-ancestors 'none'"
)
# Media bytes served from our origin (proxied or from the local backend) can never act as a document.
MEDIA_CONTENT_SECURITY_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000"
LOCAL_HOSTS = ["localhost", "127.0.0.1"]


def init_app(app):
    media_origins = _media_origins(app.config)
    csp = CONTENT_SECURITY_POLICY.format(media=media_origins, forms=_oauth_origins(app.config))
    csp = csp.replace("  ", " ").replace(" ;", ";")
    public_base_url = app.config.get("PUBLIC_BASE_URL", "")
    hsts = public_base_url.startswith("https://")
    if not app.config.get("TRUSTED_HOSTS"):
        # Links and signed URLs are built on the request's Host: only ours may be used.
        app.config["TRUSTED_HOSTS"] = [urlsplit(public_base_url).hostname] if public_base_url else LOCAL_HOSTS
    app.wsgi_app = TrustedHostsOnly(app.wsgi_app, app.config["TRUSTED_HOSTS"])
    hops = app.config.get("TRUST_PROXY_HOPS", 0)
    if hops:
        # The client address (rate limits) and scheme as the trusted proxies saw them; never the Host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)

    if app.config.get("API_CORS_ORIGINS"):
        # The dashboard on another origin calls the API with its Supabase access token. Never with
        # cookies (no credentials): a cross-origin cookie call would be the CSRF we refuse elsewhere.
        CORS(app, resources={r"/api/*": {"origins": app.config["API_CORS_ORIGINS"]}}, supports_credentials=False,
             allow_headers=["Authorization", "Content-Type"], expose_headers=["Retry-After"], max_age=3600,
             methods=["GET", "HEAD", "POST", "PATCH", "DELETE"])

    @app.context_processor
    def csrf_token_processor():
        return {"csrf_token": generate_csrf}

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", csp)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response


class TrustedHostsOnly:
    """Refuse a Host that is not ours (400) before Flask builds anything on it (Flask checks
    TRUSTED_HOSTS too, but only once the request is under way, and error pages build URLs).

    Load balancers call /healthz with the node's own address as Host: it builds no URL, so it is let in.
    """

    def __init__(self, wsgi_app, trusted_hosts):
        self.wsgi_app = wsgi_app
        self.trusted_hosts = trusted_hosts

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            environ["HTTP_HOST"] = self.trusted_hosts[0].lstrip(".")
        else:
            try:
                get_host(environ, self.trusted_hosts)
            except SecurityError:
                body = json.dumps({"error": {"code": "untrusted_host", "message": "This host is not served here."}})
                return Response(body, status=400, mimetype="application/json")(environ, start_response)
        return self.wsgi_app(environ, start_response)


def _oauth_origins(config):
    """Where Connect sends the browser: Chrome applies form-action to the redirect after a form POST too."""
    urls = []
    if config.get("META_APP_ID"):
        urls.append(config["META_OAUTH_URL"])
    if config.get("TIKTOK_CLIENT_KEY"):
        urls.append(config["TIKTOK_AUTH_URL"])
    return " ".join(sorted({f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in urls}))


def _media_origins(config):
    """Where presigned media URLs point: the S3 endpoint (or AWS), or the Supabase project, when the bucket is remote."""
    if config["STORAGE_BACKEND"] == "supabase":
        parts = urlsplit(config["SUPABASE_URL"])
        return f"{parts.scheme}://{parts.netloc}"
    if config["STORAGE_BACKEND"] != "s3":
        return ""
    endpoint = config.get("S3_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint)
        return f"{parts.scheme}://{parts.netloc}"
    return "https://*.amazonaws.com"
