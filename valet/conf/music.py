"""[music]: the Music storage driver (``[storage] driver = music``).

Music is a REST service over Cassandra with distributed locks; Valet
talks to its v1 surface under ``/MUSIC/rest`` on any of ``hosts``.
"""

from oslo_config import cfg


def _group():
    return cfg.OptGroup(
        'music', title='Music storage driver',
        help='Used when [storage] driver is "music". Every write that can '
             'race holds a Music lock on the rows it changes (critical '
             'consistency) or uses an atomic operation, so concurrent '
             'writers never lose an update.')


GROUP = _group()

OPTS = [
    cfg.ListOpt('hosts', default=['127.0.0.1'],
                help='Music servers: host names or addresses, each with '
                     'an optional ":port" (default [music] port). Requests '
                     'go to the last host that answered; a host that does '
                     'not answer, times out or answers 5xx is skipped for '
                     'the next one.'),
    cfg.PortOpt('port', default=8080, help='Port of every Music server.'),
    cfg.StrOpt('path', default='/MUSIC/rest',
               help='Path prefix of Music\'s REST API (v1).'),
    cfg.StrOpt('keyspace', default='valet',
               help='Cassandra keyspace for Valet\'s tables. valet-manage '
                    'db_sync creates it and its tables (idempotent).'),
    cfg.IntOpt('replication_factor', default=3, min=1,
               help='Replication factor of the keyspace (SimpleStrategy); '
                    'used only when db_sync creates it.'),
    cfg.FloatOpt('connect_timeout', default=3.0, min=0.1,
                 help='Seconds to wait for a TCP connection to one host.'),
    cfg.FloatOpt('request_timeout', default=10.0, min=0.1,
                 help='Seconds to wait for one host\'s answer before '
                      'trying the next.'),
    cfg.IntOpt('retries', default=3, min=1,
               help='Rounds over every host before a request fails with '
                    '"storage unavailable".'),
    cfg.FloatOpt('retry_interval', default=0.5, min=0.0,
                 help='Seconds to wait after the first round over all '
                      'hosts failed; doubles after every further round.'),
    cfg.FloatOpt('lock_wait', default=30.0, min=0.1,
                 help='Seconds a writer waits at most for a Music lock '
                      'held by another writer before the write fails '
                      '(503, nothing changed). Keep it above lock_lease so '
                      'that a lock left by a dead process is taken over '
                      'rather than failing writes.'),
    cfg.FloatOpt('lock_lease', default=15.0, min=0.5,
                 help='Seconds a lock holder keeps its lock at most; after '
                      'that Music lets the next writer force it free. '
                      'Must exceed the longest write (a plan of a few '
                      'hundred servers takes well under a second). It '
                      'bounds how long a lock held by a crashed process '
                      'blocks others.'),
    cfg.IntOpt('parallel_requests', default=8, min=1,
               help='Requests one write sends to Music at once for '
                    'independent rows (index rows, claims).'),
]


def register_opts(conf):
    # A fresh group per ConfigOpts: a shared OptGroup would share its
    # option table, leaking overrides between configurations.
    conf.register_group(_group())
    conf.register_opts(OPTS, group='music')


def list_opts():
    return [(GROUP, OPTS)]
