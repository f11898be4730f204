"""The local backend's signed GET and presigned-POST endpoints (S3 serves these itself)."""
from flask import Blueprint, request, send_file
from itsdangerous import BadSignature

from webapp.errors import ApiError, not_found
from webapp.extensions import csrf
from webapp.security import MEDIA_CONTENT_SECURITY_POLICY
from webapp.storage import get_storage
from webapp.storage.disposition import content_disposition
from webapp.storage.local import CHUNK, ExpiredSignature, LocalStorage

bp = Blueprint("storage", __name__, url_prefix="/storage")
MULTIPART_OVERHEAD = 64 * 1024  # room for the form's other fields and boundaries
SERVED_TYPE_PREFIXES = ("video/", "audio/", "image/jpeg", "image/png", "application/json", "text/vtt")  # no document


def _local():
    storage = get_storage()
    if not isinstance(storage, LocalStorage):
        raise ApiError(404, "not_found", "Not found.")
    return storage


def _verified(verify, token):
    try:
        return verify(token)
    except ExpiredSignature:
        raise ApiError(403, "expired", "This link has expired.") from None
    except BadSignature:
        raise ApiError(403, "bad_signature", "The signature does not match.") from None


@bp.get("/o/<token>")
def get_object(token):
    storage = _local()
    payload = _verified(storage.verify_get, token)
    path = storage.path_for(payload["k"])
    if not path.is_file():
        raise not_found("object")
    info = storage.head(payload["k"])
    mimetype = payload.get("t") or info.content_type or ""
    if not mimetype.startswith(SERVED_TYPE_PREFIXES):
        mimetype = "application/octet-stream"
    response = send_file(path, mimetype=mimetype, conditional=True, etag=info.etag.strip('"'), max_age=0)
    response.headers["Content-Security-Policy"] = MEDIA_CONTENT_SECURITY_POLICY
    response.headers["Content-Disposition"] = content_disposition(payload.get("d", "attachment"), payload["f"])
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Cache-Control"] = "private, max-age=0"
    return response


@bp.post("/upload")
@csrf.exempt  # authorised by the signed policy, like S3's presigned POST
def post_object():
    storage = _local()
    policy = _verified(storage.verify_post, request.args.get("policy", ""))
    max_bytes = int(policy["m"])
    # Werkzeug stops reading (413) as soon as the body passes this, chunked bodies too.
    request.max_content_length = max_bytes + MULTIPART_OVERHEAD
    if request.content_length is not None and request.content_length > request.max_content_length:
        raise ApiError(413, "too_large", f"The upload is larger than the allowed {max_bytes} bytes.")
    request.max_form_parts = 20
    form, files = request.form, request.files
    if form.get("key") != policy["k"]:
        raise ApiError(403, "policy_key", "The key does not match the upload policy.")
    if form.get("Content-Type") != policy["t"]:
        raise ApiError(403, "policy_content_type", "The Content-Type does not match the upload policy.")
    upload = files.get("file")
    if upload is None:
        raise ApiError(400, "no_file", "The form has no file field.")
    _store_limited(storage, policy["k"], upload.stream, max_bytes, policy["t"])
    return "", 204


class _LimitedReader:
    """A read() that refuses (413) once more than max_bytes have passed."""

    def __init__(self, stream, max_bytes):
        self.stream, self.max_bytes, self.read_bytes = stream, max_bytes, 0

    def read(self, size=CHUNK):
        chunk = self.stream.read(size)
        self.read_bytes += len(chunk)
        if self.read_bytes > self.max_bytes:
            raise ApiError(413, "too_large", f"The upload is larger than the allowed {self.max_bytes} bytes.")
        return chunk


def _store_limited(storage, key, stream, max_bytes, content_type):
    """Store the stream under key; the backend's put leaves nothing behind when this raises."""
    reader = _LimitedReader(stream, max_bytes)
    storage.put(key, reader, content_type=content_type)
    if reader.read_bytes == 0:
        storage.delete(key)
        raise ApiError(400, "empty_file", "The uploaded file is empty.")
