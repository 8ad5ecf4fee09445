#!/usr/bin/env bash
# Run the phases of Valet's devstack plugin on this machine.
#
# devstack itself cannot run here (it needs systemd, sudo and git access),
# so this harness is the one stand-in: it provides the devstack functions
# and variables devstack/plugin.sh and devstack/lib/valet use, each doing
# the real thing -- iniset edits a real file, the Keystone functions call
# the real Keystone (keystone_ops.py, on keystoneauth), recreate_database
# drops and creates a real MariaDB database, run_process starts a real
# background process. Everything else is the plugin's own code.
#
#   harness.sh stack      # install, post-config, extra, test-config
#   harness.sh unstack
#   harness.sh clean
#
# Environment (required): HARNESS_DIR (everything the deployment writes
# goes there), KEYSTONE_SERVICE_URI, ADMIN_PASSWORD (Keystone user admin,
# project admin). Optional: HARNESS_PYTHON (the Python Valet is installed
# into; default python3), DATABASE_HOST/USER/PASSWORD (127.0.0.1, root,
# empty), RABBIT_HOST/USERID/PASSWORD (127.0.0.1, guest, guest),
# RABBIT_VHOST (the virtual host every service of the cloud talks on, as
# devstack's one RabbitMQ; default /), SERVICE_PASSWORD, ENABLED_SERVICES,
# NOVA_CONF and HEAT_CONF (the files the cloud's nova-scheduler and
# heat-engine read, when n-sch and h-eng are enabled), TEMPEST_CONFIG, and
# any variable of devstack/settings (VALET_SERVICE_PORT, ...).

set -o errexit -o nounset -o pipefail

HARNESS_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VALET_DIR=${VALET_DIR:-$(cd "$HARNESS_HOME/../../../.." && pwd)}
: "${HARNESS_DIR:?HARNESS_DIR must name a directory}"
: "${KEYSTONE_SERVICE_URI:?KEYSTONE_SERVICE_URI must be set}"
: "${ADMIN_PASSWORD:?ADMIN_PASSWORD must be set}"
HARNESS_PYTHON=${HARNESS_PYTHON:-python3}
MODE=${1:?usage: harness.sh stack|unstack|clean}

# -- devstack's variables ----------------------------------------------------
DEST=$(dirname "$VALET_DIR")
DATA_DIR=${DATA_DIR:-$HARNESS_DIR/data}
SERVICE_DIR=$HARNESS_DIR/services
LOGDIR=$HARNESS_DIR/logs
VALET_CONF_DIR=${VALET_CONF_DIR:-$HARNESS_DIR/etc/valet}
TEMPEST_CONFIG=${TEMPEST_CONFIG:-$HARNESS_DIR/tempest.conf}
NOVA_CONF=${NOVA_CONF:-$HARNESS_DIR/etc/nova/nova.conf}
HEAT_CONF=${HEAT_CONF:-$HARNESS_DIR/etc/heat/heat.conf}
ENABLED_SERVICES=${ENABLED_SERVICES:-key,mysql,rabbit,placement-api,tempest}
SERVICE_HOST=${SERVICE_HOST:-127.0.0.1}
SERVICE_PROTOCOL=${SERVICE_PROTOCOL:-http}
REGION_NAME=${REGION_NAME:-RegionOne}
SERVICE_PASSWORD=${SERVICE_PASSWORD:-secretservice}
SERVICE_PROJECT_NAME=${SERVICE_PROJECT_NAME:-service}
SERVICE_DOMAIN_NAME=${SERVICE_DOMAIN_NAME:-Default}
SERVICE_TIMEOUT=${SERVICE_TIMEOUT:-120}
ENABLE_DEBUG_LOG_LEVEL=${ENABLE_DEBUG_LOG_LEVEL:-False}
USE_VENV=False
API_WORKERS=${API_WORKERS:-2}
DATABASE_HOST=${DATABASE_HOST:-127.0.0.1}
DATABASE_USER=${DATABASE_USER:-root}
DATABASE_PASSWORD=${DATABASE_PASSWORD:-}
RABBIT_HOST=${RABBIT_HOST:-127.0.0.1}
RABBIT_USERID=${RABBIT_USERID:-guest}
RABBIT_PASSWORD=${RABBIT_PASSWORD:-guest}
RABBIT_VHOST=${RABBIT_VHOST:-}
mkdir -p "$DATA_DIR" "$SERVICE_DIR" "$LOGDIR"

# -- devstack's functions ----------------------------------------------------
function echo_summary { echo "harness: $*"; }
function die { local line=$1; shift; echo "harness: line $line: $*" >&2; exit 1; }
function trueorfalse {
    local default=$1 value=${!2:-}
    case "${value,,}" in
        1|yes|true|on) echo True ;;
        0|no|false|off) echo False ;;
        *) echo "$default" ;;
    esac
}
function enable_service {
    local svc
    for svc in "$@"; do
        [[ ",$ENABLED_SERVICES," == *",$svc,"* ]] || ENABLED_SERVICES+=",$svc"
    done
}
function is_service_enabled {
    local svc
    for svc in "$@"; do
        [[ ",$ENABLED_SERVICES," == *",$svc,"* ]] && return 0
    done
    return 1
}
function iniset { "$HARNESS_PYTHON" "$HARNESS_HOME/ini.py" set "$@"; }
function iniadd { "$HARNESS_PYTHON" "$HARNESS_HOME/ini.py" add "$@"; }
function iniget { "$HARNESS_PYTHON" "$HARNESS_HOME/ini.py" get "$@"; }
function get_python_exec_prefix { dirname "$("$HARNESS_PYTHON" -c 'import sys; print(sys.executable)')"; }
# pip install -e of the tree, with the build tools (pbr, setuptools) of the
# target Python itself. A Python that already has this very tree installed
# in develop mode (the test virtualenv) is left as it is: reinstalling it
# under tests running in parallel would pull it from under them.
function setup_develop {
    local installed
    installed=$("$HARNESS_PYTHON" -c 'import os, valet; print(os.path.dirname(os.path.dirname(os.path.abspath(valet.__file__))))' 2>/dev/null || true)
    if [[ "$installed" == "$(cd "$1" && pwd)" ]]; then
        echo_summary "$1 is already installed in develop mode"
        return 0
    fi
    "$HARNESS_PYTHON" -m pip install -q --no-build-isolation -e "$1"
}
function pip_install { "$HARNESS_PYTHON" -m pip install -q "$@"; }

function _keystone {
    OS_AUTH_URL=$KEYSTONE_SERVICE_URI OS_USERNAME=admin \
    OS_PASSWORD=$ADMIN_PASSWORD OS_PROJECT_NAME=admin \
    PYTHONPATH=$VALET_DIR "$HARNESS_PYTHON" \
        -m valet.tests.functional.devstack.keystone_ops "$@"
}
function get_or_create_project { _keystone get-or-create-project "$1"; }
function get_or_create_user { _keystone get-or-create-user "$1" "$2"; }
function get_or_add_user_project_role { _keystone get-or-add-user-project-role "$1" "$2" "$3"; }
function get_or_create_service { _keystone get-or-create-service "$1" "$2" "$3"; }
# devstack's signature: <type> <region> <public url> [admin url] [internal url].
function get_or_create_endpoint {
    local id
    id=$(_keystone get-or-create-endpoint "$1" "$2" public "$3")
    [[ -z "${4:-}" ]] || _keystone get-or-create-endpoint "$1" "$2" admin "$4" >/dev/null
    [[ -z "${5:-}" ]] || _keystone get-or-create-endpoint "$1" "$2" internal "$5" >/dev/null
    echo "$id"
}
function create_service_user {
    get_or_create_project "$SERVICE_PROJECT_NAME" >/dev/null
    get_or_create_user "$1" "$SERVICE_PASSWORD" >/dev/null
    get_or_add_user_project_role "${2:-service}" "$1" "$SERVICE_PROJECT_NAME" >/dev/null
}
function configure_keystone_authtoken_middleware {
    local conf=$1 user=$2 section=${3:-keystone_authtoken}
    iniset "$conf" "$section" auth_type password
    iniset "$conf" "$section" interface public
    iniset "$conf" "$section" auth_url "$KEYSTONE_SERVICE_URI"
    iniset "$conf" "$section" www_authenticate_uri "$KEYSTONE_SERVICE_URI"
    iniset "$conf" "$section" username "$user"
    iniset "$conf" "$section" password "$SERVICE_PASSWORD"
    iniset "$conf" "$section" user_domain_name "$SERVICE_DOMAIN_NAME"
    iniset "$conf" "$section" project_name "$SERVICE_PROJECT_NAME"
    iniset "$conf" "$section" project_domain_name "$SERVICE_DOMAIN_NAME"
}
function _mysql { mariadb -h "$DATABASE_HOST" -u "$DATABASE_USER" ${DATABASE_PASSWORD:+-p"$DATABASE_PASSWORD"} "$@"; }
function recreate_database {
    _mysql -e "DROP DATABASE IF EXISTS \`$1\`; CREATE DATABASE \`$1\` CHARACTER SET utf8mb4;"
}
function database_connection_url {
    echo "mysql+pymysql://$DATABASE_USER${DATABASE_PASSWORD:+:$DATABASE_PASSWORD}@$DATABASE_HOST/$1?charset=utf8mb4"
}
# devstack's signature: [virtual host].
function get_transport_url { echo "rabbit://$RABBIT_USERID:$RABBIT_PASSWORD@$RABBIT_HOST:5672/${1:-$RABBIT_VHOST}"; }
function write_uwsgi_config {
    local conf=$1 wsgi=$2 url=$3 http=$4 name=$5
    [[ -n "$http" ]] || die $LINENO "the harness serves uwsgi over http only (no Apache)"
    rm -f "$conf"
    mkdir -p "$(dirname "$conf")"
    iniset "$conf" uwsgi module "$wsgi"
    # http11-socket: plain http-socket resets kept-alive connections.
    iniset "$conf" uwsgi http11-socket "$http"
    iniset "$conf" uwsgi master true
    iniset "$conf" uwsgi processes "$API_WORKERS"
    iniset "$conf" uwsgi threads 2
    iniset "$conf" uwsgi enable-threads true
    iniset "$conf" uwsgi die-on-term true
    iniset "$conf" uwsgi lazy-apps true
    iniset "$conf" uwsgi thunder-lock true
    iniset "$conf" uwsgi need-app true
    iniset "$conf" uwsgi buffer-size 65535
}
function remove_uwsgi_config { rm -f "$1"; }
function run_process {
    local name=$1 command=$2
    # Its own session, so that stop_process ends every process it forks.
    setsid bash -c "exec $command" >"$LOGDIR/$name.log" 2>&1 < /dev/null &
    echo $! > "$SERVICE_DIR/$name.pid"
    echo_summary "started $name (pid $!)"
}
function stop_process {
    local name=$1 pidfile="$SERVICE_DIR/$1.pid" pid i
    [[ -f "$pidfile" ]] || return 0
    pid=$(cat "$pidfile")
    kill -TERM -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile"
    echo_summary "stopped $name"
}
function wait_for_service {
    local timeout=$1 url=$2 deadline=$((SECONDS + $1))
    while ((SECONDS < deadline)); do
        if "$HARNESS_PYTHON" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' "$url" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

# -- the plugin ----------------------------------------------------------------
# devstack sources plugins without nounset (plugin.sh reads $2 unguarded).
set +o nounset
source "$VALET_DIR/devstack/settings"
case "$MODE" in
    stack)
        for phase in install post-config extra test-config; do
            start=$SECONDS
            source "$VALET_DIR/devstack/plugin.sh" stack "$phase"
            echo_summary "stack/$phase done in $((SECONDS - start))s"
        done ;;
    unstack|clean)
        source "$VALET_DIR/devstack/plugin.sh" "$MODE" ;;
    *)
        die $LINENO "unknown mode $MODE" ;;
esac
