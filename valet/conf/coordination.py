"""[coordination]: leader election between valet-engine processes."""

from oslo_config import cfg


def _group():
    return cfg.OptGroup(
        'coordination', title='Engine leader election',
        help='Several valet-engine processes may run at once: one leader '
             'decides, the others stand by. They elect the leader through '
             'a tooz backend. Without a backend the engine runs alone and '
             'is always the leader.')


GROUP = _group()

OPTS = [
    cfg.StrOpt('backend_url', default='', secret=True,
               help='tooz URL of the coordination backend, e.g. '
                    'redis://:PASSWORD@HOST:6379, '
                    'etcd3+http://HOST:2379, zookeeper://HOST:2181, '
                    'mysql://USER:PASSWORD@HOST/DB or '
                    'postgresql://USER:PASSWORD@HOST/DB. Empty (the '
                    'default) runs a single engine that is always the '
                    'leader, with no coordination at all. Never run two '
                    'engines of one deployment without a backend.'),
    cfg.StrOpt('group_name',
               help='Name of the election (lock and group) on the backend. '
                    'Defaults to "<[engine] topic>.leader", so deployments '
                    'with different topics never collide. Set it when two '
                    'deployments share a backend but use the same topic '
                    '(e.g. on separate RabbitMQ virtual hosts).'),
    cfg.IntOpt('lease_timeout', default=10, min=2,
               help='Seconds a leader\'s claim lasts without renewal. A '
                    'standby takes over at most this long (plus one '
                    'heartbeat_interval and takeover_delay) after the '
                    'leader died. Passed to the backend as its lock or '
                    'session timeout.'),
    cfg.FloatOpt('lease_safety_fraction', default=0.6, min=0.1, max=0.9,
                 help='A leader that could not renew its claim for this '
                      'fraction of lease_timeout stops deciding, so it has '
                      'stopped before the backend lets anyone else win. '
                      'The remainder of the lease is the margin for clock '
                      'rate differences and for a decision in flight.'),
    cfg.FloatOpt('heartbeat_interval', default=1.0, min=0.05,
                 help='Seconds between renewals by the leader and between '
                      'attempts to win by a standby. Must be well below '
                      'lease_timeout * lease_safety_fraction (it is capped '
                      'to a third of it).'),
    cfg.FloatOpt('takeover_delay', min=0.0,
                 help='Seconds a member that has just won waits, still '
                      'renewing, before it acts as leader. By default 0 '
                      'for lease backends (Redis, etcd), whose lock cannot '
                      'change hands before the old lease ran out, and '
                      'lease_timeout for session backends (MySQL, '
                      'PostgreSQL, ZooKeeper), whose lock is freed as soon '
                      'as the old holder\'s session ends while the old '
                      'leader only notices at its next check. Set it for a '
                      'Redis that can lose data (no persistence, or '
                      'failover to an asynchronous replica).'),
    cfg.FloatOpt('max_retry_interval', default=10.0, min=0.1,
                 help='Longest wait between attempts to reach an '
                      'unreachable backend (the wait doubles from '
                      'heartbeat_interval up to this).'),
]


def register_opts(conf):
    # A fresh group per ConfigOpts: a shared OptGroup would share its
    # option table, leaking overrides between configurations.
    conf.register_group(_group())
    conf.register_opts(OPTS, group='coordination')


def list_opts():
    return [(GROUP, OPTS)]
