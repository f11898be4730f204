"""Calls to the platforms: timeouts, backoff on 429 and 5xx (honouring Retry-After), errors in words."""
import time

import requests
from flask import current_app

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


def call(label, method, url, *, describe_error, **kwargs):
    """The response of a call that answered 2xx. Retries 429 and 5xx (and lost connections) with backoff;
    anything else raises PlatformError with describe_error(response)'s words."""
    kwargs.setdefault("timeout", TIMEOUT)
    response = None
    for attempt in range(MAX_TRIES):
        try:
            response = requests.request(method, url, **kwargs)
        except requests.RequestException:
            response = None
            if attempt == MAX_TRIES - 1:
                raise PlatformError(f"{label} cannot be reached right now.", retryable=True) from None
        else:
            if response.status_code < 400:
                return response
            if response.status_code != 429 and response.status_code < 500:
                raise describe_error(response)
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
