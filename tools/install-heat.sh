#!/usr/bin/env bash
# Install the real Heat (heat-engine, heat-api served by uwsgi, heat-manage)
# into a virtualenv of its own, plus Valet itself without its dependencies so
# that Heat finds Valet's plugins: the lifecycle plugin and the group-name
# constraint through their entry points, the resource types through the
# plugin_dirs shim. The plugins need only valet.client, valet.plugins.heat
# and keystoneauth1, which Heat already has. Reused when present.
# Prints the venv path last.
# Usage: tools/install-heat.sh [VENV]   (default: .tox/heat)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${1:-$PWD/.tox/heat}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x "$VENV/bin/heat-engine" ] || [ ! -x "$VENV/bin/uwsgi" ] \
        || ! "$VENV/bin/python" -c 'import heat.engine.stack, pymysql' 2>/dev/null; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
    "$VENV/bin/python" -m pip install -q openstack-heat python-heatclient \
        uwsgi PyMySQL stestr testtools fixtures hypothesis
fi
# Valet's own code changes with every checkout: always refresh it (fast).
"$VENV/bin/python" -m pip install -q --no-deps -e .
echo "$VENV"
