#!/usr/bin/env bash
# Serve the app with gunicorn and run the job consumer beside it; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-5000}"
VENV=.venv

# A short poll delay: on the SQLite queue an idle worker otherwise waits up to 10 s.
"$VENV/bin/huey_consumer" webapp.jobs.worker.queue --workers 2 --delay 0.2 --max-delay 1 \
  --logfile instance/worker.log &
worker=$!
# gevent workers (gunicorn.conf.py): slow or stalled clients cost a greenlet each, not a worker.
PORT="$PORT" "$VENV/bin/gunicorn" -c gunicorn.conf.py wsgi:app &
web=$!

stop() { kill -TERM "$web" "$worker" 2>/dev/null || true; wait "$web" "$worker" 2>/dev/null || true; exit 0; }
trap stop INT TERM
echo "Reclip is serving on http://127.0.0.1:$PORT (Ctrl-C stops it)"
wait -n "$web" "$worker" || true
# Ctrl-C reaches both processes at once; only a lone exit is worth a word.
if kill -0 "$web" 2>/dev/null || kill -0 "$worker" 2>/dev/null; then
  echo "a process stopped; stopping the rest" >&2
fi
stop
