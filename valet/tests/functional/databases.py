"""Real MariaDB/MySQL and PostgreSQL servers for functional tests.

A test gets a database of its own (``valet_test_<random>``), created
through the server's admin account over 127.0.0.1 and dropped at the end.
``VALET_TEST_MYSQL_PORT`` and ``VALET_TEST_PGSQL_PORT`` point at servers on
other ports.
"""

import os
import uuid

import fixtures

from valet.tests.functional import services

HOST = '127.0.0.1'
MYSQL_PORT = int(os.environ.get('VALET_TEST_MYSQL_PORT', 3306))
PGSQL_PORT = int(os.environ.get('VALET_TEST_PGSQL_PORT', 5432))


class MySQLServer:
    """MariaDB/MySQL as root (empty password)."""

    label = 'MariaDB/MySQL'

    def _admin(self):
        import pymysql
        return pymysql.connect(host=HOST, port=MYSQL_PORT, user='root',
                               password='', connect_timeout=5,
                               autocommit=True)

    def create(self, name):
        with self._admin() as conn, conn.cursor() as cur:
            cur.execute('CREATE DATABASE `%s` CHARACTER SET utf8mb4' % name)
        return 'mysql+pymysql://root@%s:%d/%s?charset=utf8mb4' % (
            HOST, MYSQL_PORT, name)

    def drop(self, name):
        with self._admin() as conn, conn.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS `%s`' % name)


class PostgreSQLServer:
    """PostgreSQL as postgres (trust authentication)."""

    label = 'PostgreSQL'

    def _admin(self):
        import psycopg2
        conn = psycopg2.connect(host=HOST, port=PGSQL_PORT, user='postgres',
                                dbname='postgres', connect_timeout=5)
        conn.autocommit = True
        return conn

    def create(self, name):
        conn = self._admin()
        try:
            with conn.cursor() as cur:
                cur.execute('CREATE DATABASE "%s"' % name)
        finally:
            conn.close()
        return 'postgresql+psycopg2://postgres@%s:%d/%s' % (
            HOST, PGSQL_PORT, name)

    def drop(self, name):
        conn = self._admin()
        try:
            with conn.cursor() as cur:
                # FORCE: a leaked connection must not keep the database.
                cur.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)'
                            % name)
        finally:
            conn.close()


class DatabaseFixture(fixtures.Fixture):
    """A fresh database on a server; ``self.url`` is its connection URL."""

    def __init__(self, server):
        super().__init__()
        self.server = server

    def _setUp(self):
        name = 'valet_test_%s' % uuid.uuid4().hex[:12]
        try:
            self.url = self.server.create(name)
        except Exception as e:  # any failure to reach the server
            services.unavailable('%s at %s is not usable (%s)' % (
                self.server.label, HOST, ' '.join(str(e).split())))
        self.addCleanup(self.server.drop, name)
