#!/usr/bin/env bash
# Install a real Keystone (and uwsgi to serve it) into a virtualenv of its
# own, for the functional RBAC tests. Prints the venv path last.
# Usage: tools/install-keystone.sh [VENV]   (default: .tox/keystone)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${1:-$PWD/.tox/keystone}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x "$VENV/bin/keystone-manage" ] || [ ! -x "$VENV/bin/uwsgi" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
    "$VENV/bin/python" -m pip install -q keystone uwsgi
fi
echo "$VENV"
