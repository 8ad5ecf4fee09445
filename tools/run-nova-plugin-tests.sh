#!/usr/bin/env bash
# Run the Nova scheduler filter's tests (valet/tests/nova_plugin) with the
# real Nova of tools/install-openstack.sh, as Nova would load the filter:
# Valet's source on the path of Nova's environment, Valet's client only.
# The run is recorded in this checkout's stestr repository, like the unit
# and functional runs. The tests start `valet-api --all-in-one` from the
# calling environment (the tox env's, or VALET_API_BIN).
# Usage: tools/run-nova-plugin-tests.sh [stestr run arguments]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VALET_OPENSTACK_VENV:-$PWD/.tox/openstack}
if ! "$VENV/bin/python" -c 'import nova.scheduler.filters' 2>/dev/null; then
    bash tools/install-openstack.sh "$VENV" >/dev/null
fi
# The test runner inside Nova's environment (small, pure Python).
if ! "$VENV/bin/python" -c 'import stestr, testtools, hypothesis' \
        2>/dev/null; then
    "$VENV/bin/python" -m pip install -q stestr testtools hypothesis
fi
VALET_API_BIN=${VALET_API_BIN:-$(command -v valet-api || true)}
if [ -z "$VALET_API_BIN" ]; then
    echo "run-nova-plugin-tests: valet-api not found; set VALET_API_BIN" >&2
    exit 1
fi
export VALET_API_BIN
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
# Nova's stestr: its workers run under Nova's interpreter.
exec "$VENV/bin/stestr" --test-path=./valet/tests/nova_plugin run --parallel-class "$@"
