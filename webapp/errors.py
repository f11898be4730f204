"""One error shape: JSON for the API, a page for everything else."""
from flask import jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class ApiError(Exception):
    """An error with an HTTP status, a machine code and a message for people."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class SafeJSONProvider(DefaultJSONProvider):
    """Deeply nested JSON ("[[[[...") exhausts the parser's recursion, and PostgreSQL cannot store a NUL
    character ("\\u0000"): both are bad input (400), not a 500."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _has_nul(value):
            raise ValueError("JSON text with a NUL character")
        return value


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def refuse_nul_characters():
    """A NUL in the path, the query or a form is never meant (and PostgreSQL cannot compare text with one): 400."""
    fields = [request.path, *request.args.keys(), *request.args.values()]
    if request.mimetype == "application/x-www-form-urlencoded":
        fields += [*request.form.keys(), *request.form.values()]
    if any("\x00" in field for field in fields):
        raise ApiError(400, "nul_character", "The request has a NUL character in it.")


def not_found(what="recording"):
    return ApiError(404, "not_found", f"No such {what}.")


def wants_json():
    """API paths and clients that ask for JSON get JSON errors."""
    if request.path.startswith(("/api/", "/storage/")):
        return True
    if request.method == "POST" and request.path == "/auth/supabase":  # the token exchange is an API call
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status, code, message):
    if wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("errors/error.html", status=status, message=message), status


def _code_for(exc):
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def register_errorhandlers(app):
    app.before_request(refuse_nul_characters)

    @app.errorhandler(ApiError)
    def handle_api_error(exc):
        body, status = error_response(exc.status, exc.code, exc.message)
        return body, status, exc.headers

    @app.errorhandler(CSRFError)
    def handle_csrf_error(exc):
        return error_response(400, "csrf_failed", exc.description)

    @app.errorhandler(RateLimitExceeded)
    def handle_rate_limit(exc):
        # Flask-Limiter adds Retry-After; each limit says in words what was too much.
        message = exc.description if exc.limit.error_message else "Too many attempts. Wait a minute and try again."
        return error_response(429, "rate_limited", message)

    @app.errorhandler(413)
    def handle_too_large(exc):
        return error_response(413, "too_large", "The request body is larger than this endpoint accepts.")

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc):
        if exc.code in (301, 302, 303, 307, 308):
            return exc
        body, status = error_response(exc.code, _code_for(exc), exc.description)
        # Keep what the protocol needs: Content-Range on a 416, Allow on a 405.
        headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
        return body, status, headers

    @app.errorhandler(Exception)
    def handle_unexpected(exc):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")
