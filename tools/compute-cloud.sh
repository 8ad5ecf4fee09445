#!/usr/bin/env bash
# Bring up, by hand, the compute cloud the functional tests use: Keystone,
# Placement, Glance, nova-api/conductor/scheduler (with ValetFilter), four
# nova-compute services on nova's fake driver in two racks, a Neutron
# stand-in, MariaDB databases and a RabbitMQ virtual host of its own, and
# Valet (API under uwsgi with Keystone auth, engine with the openstack
# inventory). It is the same code as the test fixture
# (valet/tests/functional/compute_cloud.py).
#
# Usage: tools/compute-cloud.sh start [--no-filter] [--computes N]
#        tools/compute-cloud.sh status     # endpoints and credentials again
#        tools/compute-cloud.sh stop
#
# Needs MariaDB on 3306 and RabbitMQ on 5672 (tools/ensure-services.sh) and
# the venvs of tools/install-{keystone,openstack,glance}.sh (installed here
# when missing). Files and logs: $VALET_CLOUD_DIR (default
# .tox/compute-cloud); `stop` keeps the logs until the next `start`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
DIR=${VALET_CLOUD_DIR:-$ROOT/.tox/compute-cloud}
PY=${VALET_PYTHON:-$ROOT/.tox/.ci-venv/bin/python}
STATE=$DIR/state.json
PIDFILE=$DIR/pid

running() {
    [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

case "${1:-}" in
start)
    shift
    if running; then
        echo "compute cloud already running (pid $(cat "$PIDFILE")):"
        cat "$STATE" 2>/dev/null
        exit 0
    fi
    if [ ! -x "$PY" ]; then
        echo "no Python with Valet at $PY: run .ci/run once, or set VALET_PYTHON" >&2
        exit 1
    fi
    bash tools/install-keystone.sh >/dev/null
    bash tools/install-openstack.sh >/dev/null
    bash tools/install-glance.sh >/dev/null
    rm -rf "$DIR/cloud" "$STATE"
    mkdir -p "$DIR"
    echo "starting the compute cloud (about 1-3 minutes); log: $DIR/cloud.out"
    setsid nohup "$PY" -m valet.tests.functional.compute_cloud \
        --state-file "$STATE" --dir "$DIR/cloud" "$@" \
        >"$DIR/cloud.out" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    while [ ! -f "$STATE" ]; do
        if ! running; then
            echo "the compute cloud did not start:" >&2
            tail -n 40 "$DIR/cloud.out" >&2
            exit 1
        fi
        sleep 2
    done
    cat "$STATE"
    echo
    echo "Logs: $DIR/cloud/logs. Stop with: tools/compute-cloud.sh stop"
    ;;
status)
    if running; then cat "$STATE" 2>/dev/null || echo "starting"; else
        echo "not running"; exit 1; fi
    ;;
stop)
    if ! running; then
        echo "not running"
        rm -f "$PIDFILE"
        exit 0
    fi
    pid=$(cat "$PIDFILE")
    kill -TERM "$pid"
    for _ in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
        # Its children die with it (SIGKILL on parent death).
        kill -KILL "$pid"
    fi
    rm -f "$PIDFILE" "$STATE"
    echo "compute cloud stopped (logs kept in $DIR/cloud/logs)"
    ;;
*)
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
