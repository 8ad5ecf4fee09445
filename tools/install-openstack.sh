#!/usr/bin/env bash
# Install the real Nova and Placement packages (and uwsgi to serve
# Placement, PyMySQL for the compute cloud's MariaDB databases) into a
# virtualenv of their own, for the functional tests that run a real
# Placement API, a real compute cloud, and build Nova's versioned
# notifications with Nova's own objects. Prints the venv path last.
# Usage: tools/install-openstack.sh [VENV]   (default: .tox/openstack)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${1:-$PWD/.tox/openstack}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x "$VENV/bin/placement-manage" ] || [ ! -x "$VENV/bin/uwsgi" ] \
        || ! "$VENV/bin/python" -c 'import nova.notifications, pymysql' \
            2>/dev/null; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
    "$VENV/bin/python" -m pip install -q nova openstack-placement uwsgi pymysql
fi
echo "$VENV"
