"""[placement] and [nova]: how Valet reaches the OpenStack services it reads.

Both groups hold the standard keystoneauth options (auth plugin, session
and adapter), the way Nova's own ``[placement]`` group does, so that an
operator configures them exactly like every other OpenStack service's
clients. The ``openstack`` inventory driver reads Placement through
``[placement]`` and Nova's compute API through ``[nova]``; Nova is optional
and skipped when ``[nova] auth_type`` is unset.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

PLACEMENT = 'placement'
NOVA = 'nova'

SERVICE_TYPES = {PLACEMENT: 'placement', NOVA: 'compute'}

TITLES = {
    PLACEMENT: 'Placement API client options (read by the openstack '
               'inventory driver)',
    NOVA: 'Nova compute API client options (read by the openstack '
          'inventory driver; optional)',
}

# A whole-cloud load makes thousands of requests: one lost packet or a
# restarting API worker should cost a retry, not the load.
DEFAULT_CONNECT_RETRIES = 3
DEFAULT_STATUS_CODE_RETRIES = 3
DEFAULT_RETRIABLE_STATUS_CODES = [502, 503, 504]
# No request may hang the engine's model rebuild forever.
DEFAULT_TIMEOUT = 60


def _group(name):
    return cfg.OptGroup(name, title=TITLES[name])


def _set_defaults(conf, name):
    conf.set_default('service_type', SERVICE_TYPES[name], group=name)
    conf.set_default('valid_interfaces', ['internal', 'public'], group=name)
    conf.set_default('connect_retries', DEFAULT_CONNECT_RETRIES, group=name)
    conf.set_default('status_code_retries', DEFAULT_STATUS_CODE_RETRIES,
                     group=name)
    conf.set_default('retriable_status_codes',
                     DEFAULT_RETRIABLE_STATUS_CODES, group=name)
    conf.set_default('timeout', DEFAULT_TIMEOUT, group=name)


def register_opts(conf):
    for name in (PLACEMENT, NOVA):
        # A fresh group per ConfigOpts, as in the other valet.conf modules.
        conf.register_group(_group(name))
        ks_loading.register_session_conf_options(conf, name)
        ks_loading.register_auth_conf_options(conf, name)
        ks_loading.register_adapter_conf_options(conf, name)
        _set_defaults(conf, name)


def _sample_opts(name):
    """Every option of one group, for the sample config and the docs.

    The auth plugin's own options are registered only when a plugin is
    loaded; the password plugin's are listed so the sample shows them.
    """
    opts = (ks_loading.get_session_conf_options() +
            ks_loading.get_auth_common_conf_options() +
            ks_loading.get_auth_plugin_conf_options('password') +
            ks_loading.get_adapter_conf_options(include_deprecated=False))
    defaults = {
        'service_type': SERVICE_TYPES[name],
        'valid_interfaces': ['internal', 'public'],
        'connect_retries': DEFAULT_CONNECT_RETRIES,
        'status_code_retries': DEFAULT_STATUS_CODE_RETRIES,
        'retriable_status_codes': DEFAULT_RETRIABLE_STATUS_CODES,
        'timeout': DEFAULT_TIMEOUT,
    }
    seen, out = set(), []
    for opt in opts:
        if opt.dest in seen:
            continue
        seen.add(opt.dest)
        if opt.dest in defaults:
            # The generator reads defaults from the Opt objects; these are
            # fresh copies from keystoneauth, so changing them is harmless.
            opt.default = defaults[opt.dest]
        out.append(opt)
    return out


def list_opts():
    return [(_group(name), _sample_opts(name)) for name in (PLACEMENT, NOVA)]
