#!/usr/bin/env bash
# Make sure the services the functional tests use are installed and running
# on loopback: MariaDB (3306), PostgreSQL (5432), RabbitMQ (5672) and
# Redis (6379, the engines' coordination backend in the HA tests).
# There is no systemd: missing packages are installed with apt-get and the
# servers are started by hand. Safe to run again: running services are left
# alone. Exits non-zero if a service cannot be brought up.
set -u

listening() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for() {  # port, seconds
    local i
    for ((i = 0; i < $2 * 4; i++)); do
        listening "$1" && return 0
        sleep 0.25
    done
    return 1
}

apt_updated=0
need_package() {  # command, package
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$apt_updated" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

failed=0

if ! listening 3306; then
    echo "services: starting MariaDB"
    need_package mariadbd mariadb-server || need_package mysqld mariadb-server
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null
    if [ ! -d /var/lib/mysql/mysql ]; then
        mariadb-install-db --user=mysql >/dev/null 2>&1
    fi
    start-stop-daemon --start --oknodo --background \
        --exec "$(command -v mariadbd || command -v mysqld)" -- \
        --user=mysql --bind-address=127.0.0.1 --max-connections=500 \
        >/dev/null 2>&1
    wait_for 3306 30 || { echo "services: MariaDB did not start"; failed=1; }
fi
# The compute cloud (Nova, Heat, Glance, Valet) alone holds over a hundred
# connections; the default limit of 151 runs out when a second test
# deployment starts beside it.
if listening 3306 && command -v mysql >/dev/null 2>&1; then
    mysql -h 127.0.0.1 -u root -e \
        'SET GLOBAL max_connections = GREATEST(@@max_connections, 500)' \
        >/dev/null 2>&1 || echo "services: could not raise MariaDB's max_connections"
fi

if ! listening 5432; then
    echo "services: starting PostgreSQL"
    need_package pg_ctlcluster postgresql
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$version" ]; then
        version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        pg_createcluster "$version" main >/dev/null 2>&1
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1
    wait_for 5432 30 || { echo "services: PostgreSQL did not start"; failed=1; }
fi

if ! listening 6379; then
    echo "services: starting Redis"
    need_package redis-server redis-server
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis \
        --logfile /var/log/redis/ci.log >/dev/null 2>&1
    wait_for 6379 30 || { echo "services: Redis did not start"; failed=1; }
fi

if ! listening 5672; then
    echo "services: starting RabbitMQ"
    need_package rabbitmq-server rabbitmq-server
    rabbitmq-server -detached >/dev/null 2>&1
    wait_for 5672 60 || { echo "services: RabbitMQ did not start"; failed=1; }
fi

exit "$failed"
