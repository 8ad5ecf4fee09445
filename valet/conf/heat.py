"""[heat]: how the engine reads Heat stacks (the convergence path).

Heat's default (convergence) engine never calls stack lifecycle plugins,
so Valet plans a stack whole when its first server reaches Nova's filter:
the engine reads the root stack from Heat's orchestration API with these
credentials (keystoneauth auth, session and adapter options, like
``[placement]`` and ``[nova]``). The user needs the ``admin`` role, since
stacks belong to other projects. Unset ``auth_type`` turns the path off:
servers of stacks nobody planned are then placed one at a time.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

GROUP_NAME = 'heat'
SERVICE_TYPE = 'orchestration'
DEFAULT_TIMEOUT = 30


def _group():
    return cfg.OptGroup(
        GROUP_NAME, title='Heat orchestration API client options (read by '
                          'the engine to plan a stack when its first server '
                          'is scheduled; optional)')


def register_opts(conf):
    conf.register_group(_group())
    ks_loading.register_session_conf_options(conf, GROUP_NAME)
    ks_loading.register_auth_conf_options(conf, GROUP_NAME)
    ks_loading.register_adapter_conf_options(conf, GROUP_NAME)
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
    return [(_group(), out)]
