"""When the database goes away (a PostgreSQL restart, a failover): a clear 503, and a pool that heals.

`pool_pre_ping` (config.py) replaces connections that died while idle in the pool; this covers the ones
that die during a request: its query fails (503 `database_unavailable`, no traceback), or its closing
rollback does (the response is made already, so the dead connection is dropped, not raised).
"""
from sqlalchemy.exc import InterfaceError, OperationalError

from webapp.errors import error_response
from webapp.extensions import db

CONNECTION_ERRORS = (OperationalError, InterfaceError)


def init_app(app):
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def handle_database_unavailable(exc):
        app.logger.warning("database unavailable: %s", getattr(exc, "orig", exc))
        _drop_session()
        return error_response(503, "database_unavailable", "The database cannot be reached right now. "
                                                           "Try again shortly.")

    # Registered after Flask-SQLAlchemy's teardown, so it runs first (teardowns run in reverse).
    @app.teardown_appcontext
    def close_session(exc):
        try:
            db.session.remove()
        except CONNECTION_ERRORS as error:
            app.logger.warning("database connection lost while closing a session: %s", getattr(error, "orig", error))
            _drop_session()


def _drop_session():
    """Forget the session and invalidate its connections, whatever state they are in."""
    try:
        db.session().invalidate()  # the request's Session itself (scoped_session does not proxy this)
    finally:
        db.session.remove()
