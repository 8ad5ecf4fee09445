#!/usr/bin/env bash
# Set up Valet in a virtualenv (.venv) and place a sample application stack
# into a small in-memory data centre. Arguments go to tools/place_sample.py
# (`tools/quickstart.sh --help` lists them).
#
# Needs Python 3.11 or newer with venv, and git (pbr reads the version from
# the repository).

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r requirements.txt
"$VENV/bin/python" -m pip install -q -e .

exec "$VENV/bin/python" tools/place_sample.py "$@"
