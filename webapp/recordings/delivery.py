"""Turn a MediaLocation into a response: a redirect, or the proxied stream."""
from flask import Response, current_app, redirect, request

from webapp.recordings.proxy import open_upstream
from webapp.security import MEDIA_CONTENT_SECURITY_POLICY
from webapp.storage.disposition import content_disposition


def send_media(location):
    """302 to the presigned URL, or stream the external file with Range support."""
    if location.redirect_url:
        response = redirect(location.redirect_url, code=302)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
    upstream = open_upstream(
        location.external_url,
        allowed_hosts=current_app.config["PROXY_ALLOWED_HOSTS"],
        allow_private=current_app.config["PROXY_ALLOW_PRIVATE_ADDRESSES"],
        range_header=request.headers.get("Range"),
        if_range=request.headers.get("If-Range"),
    )
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
