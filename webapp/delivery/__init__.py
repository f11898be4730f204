"""How a file reaches the browser or ffmpeg: the one place that decides.

- The browser: `locate()` checks that the object exists (else 404 `media_missing`) and signs a
  short-lived URL to redirect to; `external()` is a recording at an external URL, streamed through
  the guarded proxy (`proxy.py`); `send_media()` turns either into the response, or, with
  `format=json` (`json_requested()`), into `{url, filename}` for a page that asks before it navigates.
- ffmpeg and PyAV: `open_media()` gives them a local path or a signed URL (`Storage.readable_source`),
  or, for an external URL, a loopback relay through the same guard (`relay.py`), and names the only
  protocols and container formats they may use on it.
"""
from contextlib import contextmanager
from dataclasses import dataclass

from urllib.parse import urlencode

from flask import Response, current_app, jsonify, redirect, request

from webapp.delivery.proxy import looks_like_media, open_upstream
from webapp.delivery.relay import NOT_MEDIA, ExternalSourceRelay
from webapp.errors import ApiError
from webapp.media import EXTERNAL_FORMATS, RECORDING_FORMATS, REMOTE_PROTOCOLS, MediaError, MediaSource
from webapp.security import MEDIA_CONTENT_SECURITY_POLICY
from webapp.storage import ObjectMissing, get_storage
from webapp.storage.disposition import content_disposition

READER_TTL = 900  # ffmpeg may read a long recording for a while


@dataclass(frozen=True)
class MediaLocation:
    """Either a signed URL to redirect to, or an external URL to stream through the proxy."""

    filename: str
    content_type: str
    disposition: str
    redirect_url: str | None = None
    external_url: str | None = None


def locate(key, filename, content_type, disposition, ttl=None, what="file"):
    """A signed URL of the object at `key`; ApiError(404, media_missing) when it is not there."""
    storage = get_storage()
    # Signing needs no network, so without this a missing object or an unreachable bucket would
    # only show up as a broken redirect; head() raises StorageUnavailable (503) for the latter.
    if storage.head(key) is None:
        raise ApiError(404, "media_missing", f"The {what} is missing from storage.")
    url = storage.signed_download_url(key, filename=filename, disposition=disposition, content_type=content_type,
                                      ttl=ttl or current_app.config["SIGNED_URL_TTL"])
    return MediaLocation(filename, content_type, disposition, redirect_url=url)


def external(url, filename, content_type, disposition):
    return MediaLocation(filename, content_type, disposition, external_url=url)


def json_requested():
    """True for `format=json`, False without `format`; ApiError(400) for any other value."""
    value = request.args.get("format")
    if value is not None and value != "json":
        raise ApiError(400, "invalid_format", "format must be json, or absent for the file itself.")
    return value == "json"


def send_media(location, as_json=False):
    """302 to the signed URL, or stream the external file with Range support; as_json: where that is."""
    if as_json:
        return _media_json(location)
    if location.redirect_url:
        response = redirect(location.redirect_url, code=302)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    config = current_app.config
    upstream = open_upstream(location.external_url, allowed_hosts=config["PROXY_ALLOWED_HOSTS"],
                             allow_private=config["PROXY_ALLOW_PRIVATE_ADDRESSES"],
                             range_header=request.headers.get("Range"), if_range=request.headers.get("If-Range"))
    # Our media type, whatever the upstream says: an upstream's text/html or image/svg+xml
    # would otherwise run as a document on our origin.
    response = Response(upstream.body, status=upstream.status, direct_passthrough=True,
                        content_type=location.content_type)
    for name, value in upstream.headers.items():
        response.headers[name] = value
    response.headers["Content-Security-Policy"] = MEDIA_CONTENT_SECURITY_POLICY
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Disposition"] = content_disposition(location.disposition, location.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _media_json(location):
    # A page asks first so that a refusal (storage down, the file gone) comes back as JSON it can put
    # in words, then navigates once to `url`. An external file has no signed URL: its `url` is this
    # endpoint without `format`, which streams it through the proxy.
    url = location.redirect_url
    if url is None:
        query = urlencode([(name, value) for name, value in request.args.items(multi=True) if name != "format"])
        url = f"{request.path}?{query}" if query else request.path
    response = jsonify({"url": url, "filename": location.filename})
    response.headers["Cache-Control"] = "no-store"
    return response


@contextmanager
def open_media(url_or_key, formats=RECORDING_FORMATS):
    """The MediaSource that ffmpeg or PyAV read inside the `with` block; MediaError when not allowed."""
    storage = get_storage()
    key = storage.key_for_url(url_or_key)
    if key:
        try:
            source = storage.readable_source(key, ttl=READER_TTL)
        except ObjectMissing:  # a backend that signs existing objects only (Supabase)
            raise MediaError("The file is missing from storage.") from None
        yield MediaSource(source, protocols=REMOTE_PROTOCOLS, formats=formats) if "://" in source \
            else MediaSource(source, formats=formats)
        return
    config = current_app.config
    try:
        relay = ExternalSourceRelay(url_or_key, allowed_hosts=config["PROXY_ALLOWED_HOSTS"],
                                    allow_private=config["PROXY_ALLOW_PRIVATE_ADDRESSES"])
    except ApiError as exc:  # not on the allow-list, a private address, no such host
        raise MediaError(exc.message) from None
    with relay:
        try:
            yield MediaSource(relay.url, protocols="http,tcp", formats=EXTERNAL_FORMATS)
        except MediaError:
            if relay.refusal:  # the reason in words, not ffmpeg's "Server returned 5XX"
                raise MediaError(relay.refusal) from None
            raise


def check_external_source(url):
    """ApiError(422) unless the external file starts like an MP4, M4A or WebM file (502 if unreachable)."""
    config = current_app.config
    upstream = open_upstream(url, allowed_hosts=config["PROXY_ALLOWED_HOSTS"],
                             allow_private=config["PROXY_ALLOW_PRIVATE_ADDRESSES"], range_header="bytes=0-63")
    try:
        head = next(iter(upstream.body), b"")
    finally:
        upstream.body.close()
    if not looks_like_media(head):
        raise ApiError(422, "unsupported_source", NOT_MEDIA)
