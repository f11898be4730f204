"""What the tests' own HTTP servers share: serve on a thread, start and stop, use with `with`."""
import threading


class ServedInThread:
    """Mixin for a helper whose `self._server` (a socketserver) is served by `serve_in_thread()`."""

    def serve_in_thread(self, poll_interval=0.5):
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": poll_interval},
                                        daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
