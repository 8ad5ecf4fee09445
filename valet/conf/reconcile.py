"""[reconcile]: how the engine keeps its model in line with the cloud."""

from oslo_config import cfg


def _group():
    return cfg.OptGroup('reconcile', title='Model reconciliation options')


GROUP = _group()

OPTS = [
    cfg.IntOpt('resync_interval', default=600, min=0,
               help='Seconds between two full resyncs of the model with '
                    'the inventory (Placement and Nova): drift is found and '
                    'repaired, each repair logged once at INFO. 0 disables '
                    'periodic resyncs (the model then follows notifications '
                    'only).'),
    cfg.IntOpt('resync_min_interval', default=10, min=0,
               help='Seconds a resync asked for by an event (a new compute '
                    'host, a server on an unknown host) waits at least '
                    'after the previous one, so that a burst of such events '
                    'causes one resync.'),
    cfg.IntOpt('planned_timeout', default=3600, min=1,
               help='Seconds a planned server may wait for Nova to build it '
                    'before its host is no longer held for it (its '
                    'placement is released; the Nova filter re-plans it if '
                    'it comes later). Counted from when the engine first '
                    'saw it waiting. Only with an inventory that observes '
                    'servers (openstack).'),
    cfg.IntOpt('missing_timeout', default=300, min=1,
               help='Seconds a server Nova built may be missing from the '
                    'inventory before its placement is released (it was '
                    'deleted while Valet did not hear of it).'),
    cfg.FloatOpt('retry_max_delay', default=60.0, min=0.1,
                 help='Longest wait, in seconds, between two attempts to '
                      'rebuild or resync after a failure (storage, '
                      'Placement or Nova unreachable); attempts back off '
                      'exponentially from one second up to this.'),
]


def register_opts(conf):
    # A fresh group per ConfigOpts; see valet/conf/engine.py.
    conf.register_group(_group())
    conf.register_opts(OPTS, group='reconcile')


def list_opts():
    return [(GROUP, OPTS)]
