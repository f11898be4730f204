from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from webapp.extensions import db
from webapp.storage import get_storage

bp = Blueprint("health", __name__)


def _check(fn):
    try:
        fn()
        return "ok"
    except Exception as exc:  # a health check reports every failure, it never raises
        current_app.logger.warning("health check failed: %s", exc)
        return f"error: {exc.__class__.__name__}"


def _queue():
    queue = current_app.extensions.get("job_queue")
    if queue is not None:
        queue.storage.queue_size()


@bp.get("/healthz")
def healthz():
    checks = {
        "db": _check(lambda: db.session.execute(text("SELECT 1"))),
        "storage": _check(get_storage().check),
        "queue": _check(_queue),
    }
    healthy = all(value == "ok" for value in checks.values())
    return jsonify({"status": "ok" if healthy else "error", "checks": checks}), 200 if healthy else 503
