"""[heat]: how the engine reads Heat stacks (the convergence path).

Heat's default (convergence) engine never calls stack lifecycle plugins,
so Valet plans a stack whole when its first server reaches Nova's filter:
the engine reads the root stack from Heat's orchestration API with these
credentials (keystoneauth auth, session and adapter options, like
``[placement]`` and ``[nova]``). The user needs the ``admin`` role, since
stacks belong to other projects. Unset ``auth_type`` turns the path off:
servers of stacks nobody planned are then placed one at a time.

[heat_notifications]: the engine drops the plan of a stack Heat deleted
when Heat says so (``orchestration.stack.delete.end``; heat.conf needs
``[oslo_messaging_notifications] driver = messagingv2``), since the
convergence engine calls no lifecycle plugin at delete.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP_NAME = 'heat'
NOTIFICATIONS_GROUP = 'heat_notifications'
SERVICE_TYPE = 'orchestration'
DEFAULT_TIMEOUT = 30


def _group():
    return cfg.OptGroup(
        GROUP_NAME, title='Heat orchestration API client options (read by '
                          'the engine to plan a stack when its first server '
                          'is scheduled; optional)')


def _notifications_group():
    return cfg.OptGroup(
        NOTIFICATIONS_GROUP,
        title="Listener for Heat's stack notifications",
        help='Heat emits orchestration.stack.delete.start and .end when '
             'it deletes a stack (with [oslo_messaging_notifications] '
             'driver = messagingv2 in heat.conf); the engine drops the '
             'stack\'s plan at the start. Heat\'s convergence engine calls no '
             'lifecycle plugin, so without these notifications the plan of '
             'a deleted stack stays (with its placements released).')


NOTIFICATION_OPTS = [
    cfg.BoolOpt('enabled', default=None,
                help='Listen to Heat\'s stack notifications. Unset (the '
                     'default) means: listen when [heat] is configured '
                     '(the engine reads stacks from Heat).'),
    cfg.StrOpt('transport_url', secret=True,
               help='Transport URL of the message bus Heat emits its '
                    'notifications on (Heat\'s '
                    '[oslo_messaging_notifications] transport_url, else its '
                    '[DEFAULT] transport_url). Unset means: '
                    '[nova_notifications] transport_url, else Valet\'s own '
                    'notification transport.'),
    cfg.StrOpt('exchange', default='heat',
               help='Exchange Heat publishes on: its control_exchange '
                    '(default "heat").'),
    cfg.ListOpt('topics', default=['notifications'],
                help='Topics Heat publishes on: its '
                     '[oslo_messaging_notifications] topics.'),
    cfg.StrOpt('pool', default='valet-heat-notifications',
               help='Listener pool (queue) Valet reads from; must differ '
                    'from [nova_notifications] pool and [engine] topic. The '
                    'queue outlives the engine: delete it when Valet leaves '
                    'the cloud.'),
]


WAIT_OPTS = [
    cfg.FloatOpt('declared_group_wait', default=10.0, min=0.0,
                 help='Seconds the engine waits, when a stack\'s first '
                      'server is scheduled, for the groups the stack '
                      'declares itself (OS::Valet::Group) that Heat has not '
                      'created yet. Heat\'s convergence engine creates a '
                      'stack\'s resources in parallel, so a server of one '
                      'nested stack can reach Nova before the group of '
                      'another; the stack is planned once they all exist. '
                      'Heat may also hold a nested stack back until another '
                      'is done: the servers of groups still missing then '
                      'are left out of the plan, and re-plan the stack when '
                      'they reach Nova. Keep it well below valet-api\'s RPC '
                      'timeout. 0 does not wait.'),
]


def notifications_enabled(conf):
    """Whether the engine should listen to Heat's stack notifications."""
    enabled = conf.heat_notifications.enabled
    if enabled is None:
        section = conf[GROUP_NAME]
        return bool(section.auth_type or section.auth_section)
    return enabled


def register_opts(conf):
    conf.register_group(_notifications_group())
    conf.register_opts(NOTIFICATION_OPTS, group=NOTIFICATIONS_GROUP)
    conf.register_group(_group())
    ks_loading.register_session_conf_options(conf, GROUP_NAME)
    ks_loading.register_auth_conf_options(conf, GROUP_NAME)
    ks_loading.register_adapter_conf_options(conf, GROUP_NAME)
    conf.register_opts(WAIT_OPTS, group=GROUP_NAME)
    conf.set_default('service_type', SERVICE_TYPE, group=GROUP_NAME)
    conf.set_default('valid_interfaces', ['internal', 'public'],
                     group=GROUP_NAME)
    conf.set_default('connect_retries', 3, group=GROUP_NAME)
    conf.set_default('timeout', DEFAULT_TIMEOUT, group=GROUP_NAME)


def list_opts():
    opts = (ks_loading.get_session_conf_options() +
            ks_loading.get_auth_common_conf_options() +
            ks_loading.get_auth_plugin_conf_options('password') +
            ks_loading.get_adapter_conf_options(include_deprecated=False))
    defaults = {'service_type': SERVICE_TYPE,
                'valid_interfaces': ['internal', 'public'],
                'connect_retries': 3, 'timeout': DEFAULT_TIMEOUT}
    seen, out = set(), []
    for opt in opts:
        if opt.dest in seen:
            continue
        seen.add(opt.dest)
        if opt.dest in defaults:
            opt.default = defaults[opt.dest]
        out.append(opt)
    return [(_group(), out + WAIT_OPTS),
            (_notifications_group(), NOTIFICATION_OPTS)]
