"""gunicorn settings for `make run` and production (`gunicorn -c gunicorn.conf.py wsgi:app`).

gevent workers: a connection costs a greenlet, not a thread, so clients that send their request
slowly (or stall on purpose) cannot hold every worker; a threaded worker has 4 to give away.
"""
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gevent"
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
timeout = 120
graceful_timeout = 20
keepalive = 5
# Requests must arrive in bounded pieces: headers at most 8 KB, 100 of them.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log


def post_request(worker, req, environ, resp):
    """Let the worker's other connections have their turn: a keep-alive client that sends its next
    request at once keeps its greenlet running (its socket never blocks), and the others wait seconds."""
    import gevent
    gevent.sleep(0)
