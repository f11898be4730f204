"""Calls to the platforms: timeouts, backoff on 429 and 5xx (honouring Retry-After), errors in words."""
import time

import requests
from flask import current_app
from urllib3.exceptions import NewConnectionError

TIMEOUT = (10, 60)  # connect, read
MAX_TRIES = 5
MAX_WAIT = 60.0


class PlatformError(Exception):
    """A platform refused or failed; `message` is for people. `retryable`: trying later may work."""

    def __init__(self, message, *, status=None, retryable=False, token_refused=False, code=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code  # the platform's own error code, when it gave one
        self.retryable = retryable
        self.token_refused = token_refused


def _retry_after(response, attempt):
    """Seconds to wait before the next try: the platform's Retry-After, else exponential backoff."""
    header = response.headers.get("Retry-After") if response is not None else None
    base = current_app.config.get("SOCIAL_BACKOFF_SECONDS", 1.0)
    try:
        wait = float(header) if header is not None else base * 2 ** attempt
    except ValueError:
        wait = base * 2 ** attempt
    return min(max(wait, 0.0), MAX_WAIT)


def _never_sent(exc):
    """Whether the request surely did not reach the platform (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def call(label, method, url, *, describe_error, creates=None, **kwargs):
    """The response of a call that answered 2xx. Retries 429 and 5xx (and lost connections) with backoff;
    anything else raises PlatformError with describe_error(response)'s words.

    creates: what a call that posts names ("the video"). Such a call may have been carried out even
    though its answer was lost (a dropped connection, a 500/502/504), and neither Facebook nor TikTok
    takes an idempotency key, so it is sent again only when it surely was not carried out: no
    connection, or 429 / 503 (the platform refused it for now). Otherwise the post fails in words."""
    kwargs.setdefault("timeout", TIMEOUT)
    response = None
    unknown = PlatformError(f"{label} did not answer, so {creates} may have been posted all the same. Look at "
                            f"{label} before trying again.") if creates else None
    for attempt in range(MAX_TRIES):
        try:
            response = requests.request(method, url, **kwargs)
        except requests.RequestException as exc:
            response = None
            if unknown and not _never_sent(exc):
                raise unknown from None
            if attempt == MAX_TRIES - 1:
                raise PlatformError(f"{label} cannot be reached right now.", retryable=True) from None
        else:
            if response.status_code < 400:
                return response
            if response.status_code != 429 and response.status_code < 500:
                raise describe_error(response)
            if unknown and response.status_code not in (429, 503):
                raise unknown
            if attempt == MAX_TRIES - 1:
                break
        time.sleep(_retry_after(response, attempt))
    error = describe_error(response)
    error.retryable = True
    raise error


def json_of(response):
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
