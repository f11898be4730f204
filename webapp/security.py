"""Response headers that every page gets, and the CSRF token in templates."""
from urllib.parse import urlsplit

from flask import request
from flask_wtf.csrf import generate_csrf

# FFmpeg.wasm needs 'wasm-unsafe-eval' and a worker from self/blob; media may come from the bucket.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "style-src 'self'; img-src 'self' data: blob: {media}; media-src 'self' blob: {media}; "
    "connect-src 'self' blob: {media}; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def init_app(app):
    media_origins = _media_origins(app.config)
    csp = CONTENT_SECURITY_POLICY.format(media=media_origins).replace("  ", " ")

    @app.context_processor
    def csrf_token_processor():
        return {"csrf_token": generate_csrf}

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", csp)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response


def _media_origins(config):
    """Where presigned media URLs point: the S3 endpoint (or AWS) when the bucket is remote."""
    if config["STORAGE_BACKEND"] != "s3":
        return ""
    endpoint = config.get("S3_ENDPOINT_URL")
    if endpoint:
        parts = urlsplit(endpoint)
        return f"{parts.scheme}://{parts.netloc}"
    return "https://*.amazonaws.com"
