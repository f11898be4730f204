"""What the benchmarks share: logging to stderr, free ports, and cleaning up whatever they start."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Cleanup:
    """Callbacks run once, newest first: on normal exit, exceptions, Ctrl-C, SIGTERM and the budget alarm."""

    def __init__(self):
        self._callbacks = []
        self._lock = threading.Lock()

    def add(self, label, callback):
        self._callbacks.append((label, callback))

    def run(self):
        with self._lock:
            while self._callbacks:
                label, callback = self._callbacks.pop()
                try:
                    callback()
                except Exception as exc:  # keep cleaning up the rest
                    log(f"cleanup of {label} failed: {exc!r}")


def stop_process(proc, grace=8.0):
    """SIGTERM the process group that this child leads (and only it), SIGKILL after the grace time."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(5)
