#!/usr/bin/env bash
# Set up Valet in a virtualenv (.venv), run it all-in-one (valet-api with
# the engine in-process, SQLite, the sample inventory, no auth, no other
# service), place a sample stack through the REST API, print a table of
# where each server went (host, rack, zone) and one of the groups (kind,
# level and why the placement keeps each), and stop the server.
#
# Needs Python 3.11 or newer with venv, and git (pbr reads the version from
# the repository). VALET_PORT (default 8090) and VALET_STATE_DIR (default:
# a fresh temporary directory) can be set.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
PORT=${VALET_PORT:-8090}
export VALET_STATE_DIR=${VALET_STATE_DIR:-$(mktemp -d)}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
echo "installing Valet into $VENV ..."
PIPLOG=$(mktemp)
if ! { "$VENV/bin/python" -m pip install -q --upgrade pip &&
       "$VENV/bin/python" -m pip install -q -r requirements.txt &&
       "$VENV/bin/python" -m pip install -q -e . ; } >"$PIPLOG" 2>&1; then
    cat "$PIPLOG" >&2
    exit 1
fi
rm -f "$PIPLOG"

LOG=$VALET_STATE_DIR/valet-api.log
"$VENV/bin/valet-api" --all-in-one --host 127.0.0.1 --port "$PORT" \
    >"$LOG" 2>&1 &
API=$!
trap 'kill $API 2>/dev/null; wait $API 2>/dev/null' EXIT

for _ in $(seq 1 150); do
    if "$VENV/bin/python" -c "import urllib.request as u; \
u.urlopen('http://127.0.0.1:$PORT/', timeout=1)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$API" 2>/dev/null; then
        echo "valet-api did not start; its log:" >&2
        cat "$LOG" >&2
        exit 1
    fi
    sleep 0.2
done
echo "valet-api all-in-one on http://127.0.0.1:$PORT (state in $VALET_STATE_DIR)"
"$VENV/bin/python" tools/sample_stack.py --url "http://127.0.0.1:$PORT"
