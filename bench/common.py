"""What the benchmarks share: logging to stderr, free ports, cleaning up whatever they start, the
top-level boxes of an MP4 file and the resident memory of a Chromium's renderer processes."""
import os
import signal
import socket
import struct
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


# --- MP4 files ---------------------------------------------------------------------------------

def mp4_top_level_boxes(path):
    """[(type, offset, size)] of an MP4's top-level boxes (64-bit and to-the-end sizes included)."""
    boxes = []
    with open(path, "rb") as fh:
        end = os.fstat(fh.fileno()).st_size
        offset = 0
        while offset + 8 <= end:
            fh.seek(offset)
            header = fh.read(16)
            size, kind = struct.unpack(">I4s", header[:8])
            if size == 1:
                size = struct.unpack(">Q", header[8:16])[0]
            elif size == 0:
                size = end - offset
            if size < 8:
                raise ValueError(f"{path}: a box of {size} bytes at {offset}")
            boxes.append((kind.decode("latin-1"), offset, size))
            offset += size
    return boxes


def mp4_moov(path):
    """(offset, size) of the MP4's moov box, the index that a cut reads whole."""
    for kind, offset, size in mp4_top_level_boxes(path):
        if kind == "moov":
            return offset, size
    raise ValueError(f"{path} has no moov box")


# --- process memory -----------------------------------------------------------------------------

def _proc_children():
    """{pid: [child pids]} of every process we can see."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    return children


def _cmdline_words(pid):
    """A process's command line as words (Chromium's child processes rewrite theirs into one string)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").split()
    except OSError:
        return []


def rss_bytes(pid):
    """VmRSS of a process in bytes (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def chromium_renderers(user_data_dir):
    """Pids of the renderer processes (the pages, their workers inside) of the Chromium that runs
    with --user-data-dir=user_data_dir; its child processes carry the flag too."""
    flag = f"--user-data-dir={user_data_dir}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            words = _cmdline_words(entry)
            if b"--type=renderer" in words and flag in words:
                pids.append(int(entry))
    return pids


class RssSampler:
    """Samples the summed VmRSS of what pids() returns every `interval` seconds, in a thread."""

    def __init__(self, pids, interval=0.1):
        self.pids, self.interval = pids, interval
        self.peak = self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def measure(self):
        return sum(rss_bytes(pid) for pid in self.pids())

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.measure())
            self.samples += 1
            self._stop.wait(self.interval)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        return self.peak


def child_pids(pid):
    """The pids of a process's children."""
    return _proc_children().get(pid, [])
