"""Blocking C work (PyAV probing, scrypt) off gevent's event loop.

Under gunicorn's gevent workers every request of a worker shares one thread; a call that holds it
in C (decoding a frame, hashing a password) would stall them all. On gevent this runs the call on
gevent's pool of real threads and lets the other requests go on; elsewhere it just calls it.
"""
import sys


def run_blocking(fn, *args, **kwargs):
    if "gevent" in sys.modules:
        from gevent import monkey
        if monkey.is_module_patched("socket"):
            import gevent
            return gevent.get_hub().threadpool.apply(fn, args, kwargs)
    return fn(*args, **kwargs)
