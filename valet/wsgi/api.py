"""The WSGI application for uwsgi: ``--module valet.wsgi.api:application``."""

import threading

from valet import wsgi

_LOCK = threading.Lock()
_APPLICATION = None


def _build():
    # Threads of one worker may import this at once; build exactly once.
    global _APPLICATION
    with _LOCK:
        if _APPLICATION is None:
            _APPLICATION = wsgi.init_application()
    return _APPLICATION


application = _build()
