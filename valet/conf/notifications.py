"""[nova_notifications]: how the engine follows Nova's versioned notifications.

The group is not called ``[notifications]``: Nova has a group of that name
(which decides what Nova *emits*) and Valet emits notifications of its own
through oslo.messaging's ``[oslo_messaging_notifications]``. This group only
says where and how the engine *listens* to Nova.
"""

from oslo_config import cfg


def _group():
    return cfg.OptGroup(
        'nova_notifications',
        title="Listener for Nova's versioned notifications",
        help='The engine keeps its model of the cloud current by listening '
             'to the versioned notifications Nova emits (set '
             '[notifications] notification_format to "versioned" or "both" '
             'in nova.conf). The periodic resync repairs whatever a lost '
             'or dropped notification leaves behind.')


GROUP = _group()

OPTS = [
    cfg.BoolOpt('enabled', default=None,
                help='Listen to Nova notifications. Unset (the default) '
                     'means: listen when [inventory] driver is "openstack"; '
                     'the static inventory has no Nova behind it. Set it to '
                     'false to rely on the periodic resync alone, or to '
                     'true to listen whatever the inventory driver.'),
    cfg.StrOpt('transport_url', secret=True,
               help='Transport URL of the message bus Nova emits its '
                    'notifications on (Nova\'s [oslo_messaging_notifications] '
                    'transport_url, or its [DEFAULT] transport_url when that '
                    'is unset). Unset means: Valet\'s own '
                    '[oslo_messaging_notifications] transport_url, else its '
                    '[DEFAULT] transport_url, which is right when Valet and '
                    'Nova share one broker and virtual host.'),
    cfg.StrOpt('exchange', default='nova',
               help='Exchange Nova publishes on: its control_exchange '
                    '(default "nova").'),
    cfg.ListOpt('topics', default=['versioned_notifications'],
                help='Topics Nova publishes versioned notifications on: its '
                     '[notifications] versioned_notifications_topics.'),
    cfg.StrOpt('pool', default='valet-notifications',
               help='Listener pool: Valet reads from a queue of this name, '
                    'bound next to the queues of other consumers, so it '
                    'gets its own copy of every notification instead of '
                    'taking turns with them. Engines of one Valet '
                    'deployment share it (only the active engine listens); '
                    'separate Valet deployments on one broker need '
                    'different pools. Must differ from [engine] topic, '
                    'which names the engine\'s RPC queue. The queue '
                    'outlives the engine, so nothing is lost across '
                    'restarts: delete it (or give it a RabbitMQ length '
                    'or TTL policy) when Valet leaves the cloud.'),
    cfg.IntOpt('retry_attempts', default=5, min=0,
               help='How often a notification is retried in place, with '
                    'exponential back-off, when applying it fails for a '
                    'transient reason (storage or engine unavailable). '
                    'Retrying in place keeps notifications in order.'),
    cfg.FloatOpt('retry_interval', default=1.0, min=0.0,
                 help='Seconds before the first in-place retry; doubles '
                      'after every attempt up to retry_max_interval.'),
    cfg.FloatOpt('retry_max_interval', default=30.0, min=0.0,
                 help='Longest wait, in seconds, between two in-place '
                      'retries.'),
    cfg.IntOpt('requeue_limit', default=3, min=0,
               help='When the in-place retries are used up the '
                    'notification goes back to the broker to be delivered '
                    'again, at most this many times; then it is dropped '
                    'with an error and the periodic resync repairs the '
                    'model.'),
]


def register_opts(conf):
    # A fresh group per ConfigOpts: a shared OptGroup shares its option
    # table, so overrides would leak from one configuration to another.
    conf.register_group(_group())
    conf.register_opts(OPTS, group='nova_notifications')


def list_opts():
    return [(GROUP, OPTS)]


def listener_enabled(conf):
    """Whether the engine should run the Nova notification listener."""
    enabled = conf.nova_notifications.enabled
    if enabled is None:
        return conf.inventory.driver == 'openstack'
    return enabled
