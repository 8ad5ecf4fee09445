"""The ``[valet]`` options of nova.conf, and the client they configure."""

import copy

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

from valet import client as valet_client
from valet.client import http as valet_http

GROUP = 'valet'
# Nova's own rpc_response_timeout: a burst of boots queues behind the
# engine's decisions, and 10 s (then 30 s) failed boots of a burst of 20 on
# a busy test cloud (doc/source/admin/nova-filter.rst).
DEFAULT_TIMEOUT = 60.0
REJECT, YIELD = 'reject', 'yield'


def _group():
    # A new OptGroup per ConfigOpts: a group object keeps its options'
    # values, so sharing one would share overrides between configs.
    return cfg.OptGroup(
        GROUP, title='Valet scheduler filter',
        help='How nova-scheduler reaches Valet (keystoneauth auth and '
             'session options plus the ones below).')


OPTS = [
    cfg.StrOpt('endpoint_override',
               help="Valet's URL, e.g. http://valet.example.org:8090. "
                    'Unset: the service catalog endpoint of type '
                    'workload-placement.'),
    cfg.StrOpt('region_name',
               help='Region of the catalog endpoint.'),
    cfg.ListOpt('valid_interfaces', default=['internal', 'public'],
                help='Catalog interfaces to use, in order of preference.'),
    cfg.StrOpt('failure_mode', default=REJECT, choices=[
        (REJECT, 'no host passes: the boot fails with NoValidHost, so no '
                 'server escapes its groups (exclusivity above all)'),
        (YIELD, 'every candidate passes: Nova places the server itself')],
        help='What the filter does when Valet cannot answer (unreachable, '
             'timed out, 5xx, credentials refused). An answer of Valet '
             '(e.g. no host honours the groups) is always followed.'),
    cfg.IntOpt('retries', default=2, min=0,
               help='Further attempts after a connection error or a '
                    '502/503/504, while the timeout budget lasts.'),
    cfg.FloatOpt('retry_delay', default=0.5, min=0.0,
                 help='First back-off between attempts, in seconds; it '
                      'doubles on each retry.'),
]


def register_opts(conf):
    conf.register_group(_group())
    conf.register_opts(OPTS, group=GROUP)
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    # The session's timeout is the whole budget of one scheduling request.
    conf.set_default('timeout', DEFAULT_TIMEOUT, group=GROUP)


def list_opts():
    """For oslo-config-generator (namespace ``valet.plugins.nova``)."""
    opts = list(OPTS)
    for opt in ks_loading.get_session_conf_options():
        if opt.dest == 'timeout':
            opt = copy.copy(opt)
            opt.default = DEFAULT_TIMEOUT
        opts.append(opt)
    opts += ks_loading.get_auth_common_conf_options()
    opts += ks_loading.get_auth_plugin_conf_options('password')
    return [(_group(), opts)]


def timeout(conf):
    value = conf[GROUP].timeout
    return DEFAULT_TIMEOUT if value is None else float(value)


def make_client(conf):
    """A Valet client from the ``[valet]`` options."""
    section = conf[GROUP]
    auth = None
    if section.auth_type:
        auth = ks_loading.load_auth_from_conf_options(conf, GROUP)
    # Keystone's answers (token, catalog) are bounded by the budget of
    # the Valet call that needs them, as Valet's are.
    session = ks_loading.load_session_from_conf_options(
        conf, GROUP, auth=auth, session=valet_http.DeadlineTransport())
    return valet_client.Client(
        session, endpoint_override=section.endpoint_override,
        interface=section.valid_interfaces, region_name=section.region_name,
        timeout=timeout(conf), retries=section.retries,
        retry_delay=section.retry_delay)
