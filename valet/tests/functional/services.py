"""How functional tests treat a missing service.

Where a service is absent the test is skipped with a message saying what
is missing and how to get it; in CI (``CI=true``) a missing service is a
failure instead, so CI can never go green by skipping.
"""

import os
import socket
import unittest


def in_ci():
    return os.environ.get('CI', '').lower() in ('1', 'true', 'yes')


def unavailable(message):
    if in_ci():
        raise AssertionError('%s (CI=true: a missing service is a failure)'
                             % message)
    raise unittest.SkipTest(message)


def require_port(port, name, host='127.0.0.1', hint=''):
    """Skip (or fail in CI) unless something listens on host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        unavailable('%s is not reachable on %s:%d (%s). %s' % (
            name, host, port, exc, hint or
            'Run tools/ensure-services.sh to start it.'))
