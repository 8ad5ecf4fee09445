#!/usr/bin/env bash
# Install tempest (from PyPI) and Valet's tempest plugin into a virtualenv
# of their own (default .tox/tempest).
#
#   tools/install-tempest.sh [VENV]
#
# The plugin is valet/tests/tempest; it needs tempest.lib and nothing of
# Valet's own requirements, so Valet goes in with --no-deps (its
# dependencies are not installed a second time); only hypothesis, which
# valet/tests/__init__.py configures, comes along. Idempotent.

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${1:-.tox/tempest}
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

if [ ! -x "$VENV/bin/tempest" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel pbr
    "$VENV/bin/python" -m pip install -q 'tempest>=40.0.0' 'hypothesis>=6.100'
fi
# Registers the tempest.test_plugins entry point of setup.cfg.
if ! out=$("$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e . 2>&1); then
    echo "$out" >&2
    exit 1
fi
plugins=$("$VENV/bin/tempest" list-plugins)
grep -q 'valet.tests.tempest.plugin' <<<"$plugins"
echo "tempest $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("tempest"))') with the valet plugin in $VENV"
