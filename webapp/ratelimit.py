"""Rate-limit counters in a SQLite file, so that every process of a node counts together.

`limits` (behind Flask-Limiter) keeps counters in memory per process or in Redis; a node
without Redis needs one store that all of its gunicorn workers share. This is the fixed-window
storage that Flask-Limiter's default strategy uses, as one atomic UPSERT per hit.
Registered for URIs `sqlite:///<path>`.
"""
import sqlite3
import threading
import time
from pathlib import Path

from limits.storage import Storage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    expires_at REAL NOT NULL
)
"""
# A new window starts when the old one has ended; otherwise the hit adds to it.
_INCREMENT = """
INSERT INTO counters (key, value, expires_at) VALUES (:key, :amount, :expires_at)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN counters.expires_at <= :now THEN :amount ELSE counters.value + :amount END,
    expires_at = CASE WHEN counters.expires_at <= :now THEN :expires_at ELSE counters.expires_at END
RETURNING value
"""
_PURGE_EVERY = 1000  # hits between deletions of ended windows


class SQLiteStorage(Storage):
    STORAGE_SCHEME = ["sqlite"]

    def __init__(self, uri, wrap_exceptions=False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = uri.removeprefix("sqlite:///")  # as SQLAlchemy: sqlite:////abs/path, sqlite:///relative
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = None
        self._hits = 0

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _db(self):
        if self._connection is None:
            # One connection per process, used under a lock; WAL lets the other processes read and write.
            connection = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
            self._connection = connection
        return self._connection

    def incr(self, key, expiry, amount=1):
        now = time.time()
        with self._lock:
            db = self._db()
            (value,) = db.execute(_INCREMENT, {"key": key, "amount": amount, "expires_at": now + expiry,
                                               "now": now}).fetchone()
            self._hits += 1
            if self._hits % _PURGE_EVERY == 0:
                db.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        return value

    def get(self, key):
        with self._lock:
            row = self._db().execute("SELECT value FROM counters WHERE key = ? AND expires_at > ?",
                                     (key, time.time())).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key):
        with self._lock:
            row = self._db().execute("SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
                                     (key, time.time())).fetchone()
        return row[0] if row else time.time()

    def check(self):
        try:
            with self._lock:
                self._db().execute("SELECT 1")
            return True
        except sqlite3.Error:
            return False

    def reset(self):
        with self._lock:
            return self._db().execute("DELETE FROM counters").rowcount

    def clear(self, key):
        with self._lock:
            self._db().execute("DELETE FROM counters WHERE key = ?", (key,))
