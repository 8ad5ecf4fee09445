#!/usr/bin/env bash
# Install the real Glance image service (and uwsgi to serve it) into a
# virtualenv of its own, for the functional compute cloud
# (valet/tests/functional/compute_cloud.py) that boots servers from a real
# image. Skips the install when the venv already has Glance. Prints the
# venv path last.
# Usage: tools/install-glance.sh [VENV]   (default: .tox/glance)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${1:-$PWD/.tox/glance}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x "$VENV/bin/glance-manage" ] || [ ! -x "$VENV/bin/uwsgi" ] \
        || ! "$VENV/bin/python" -c 'import glance.common.wsgi_app' \
            2>/dev/null; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
    "$VENV/bin/python" -m pip install -q glance uwsgi
fi
echo "$VENV"
