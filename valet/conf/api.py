"""[api]: the valet-api REST service."""

import os
import sys

from oslo_config import cfg

GROUP = cfg.OptGroup('api', title='valet-api options')


def _packaged_paste_config():
    """Where the api-paste.ini shipped with Valet lives.

    A source checkout or editable install keeps it next to the package; a
    wheel install puts the data file under ``<prefix>/etc/valet``.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.path.join(here, '..', '..', 'etc', 'valet', 'api-paste.ini'),
        os.path.join(sys.prefix, 'etc', 'valet', 'api-paste.ini'),
    ]
    for path in candidates:
        if os.path.exists(path):
            return os.path.normpath(path)
    return '/etc/valet/api-paste.ini'


# 2 MiB: a 1,000-server stack's plan with room to spare (see the help).
DEFAULT_MAX_BODY = 2 * 1024 * 1024

OPTS = [
    cfg.StrOpt('auth_strategy', default='keystone',
               choices=[('keystone', 'validate Keystone tokens with '
                         'keystonemiddleware auth_token'),
                        ('noauth', 'trust X-Project-Id and X-Roles headers; '
                         'tests and all-in-one only, never production')],
               help='How requests to /v1 are authenticated.'),
    cfg.HostAddressOpt('host', default='0.0.0.0',
                       help='Address the development server (valet-api) '
                            'listens on; uwsgi has its own setting.'),
    cfg.PortOpt('port', default=8090,
                help='Port the development server (valet-api) listens on.'),
    cfg.IntOpt('client_socket_timeout', default=60, min=1,
               help='Seconds the development server (valet-api) waits for '
                    'a client to send more of its request, or the next '
                    'request on a kept-alive connection, before closing '
                    'the connection, so slow, stalled or idle clients '
                    'cannot hold its threads; uwsgi has its own setting '
                    '(socket-timeout).'),
    cfg.IntOpt('max_limit', default=1000, min=1,
               help='Most objects one page of a list holds (microversion '
                    '1.1 and later); a larger "limit" is reduced to it, and '
                    'a list without "limit" is paged at it.'),
    cfg.IntOpt('max_request_body_size', default=DEFAULT_MAX_BODY, min=1,
               help='Largest request body, in bytes, the API accepts; '
                    'larger ones get 413. The default, 2 MiB, holds the '
                    'plan of a Heat stack of about 4,000 servers (a '
                    '1,000-server stack is about 530 KB as the Heat '
                    'plugins send it, twice that for an update that also '
                    'sends the original resources); raise it for larger '
                    'stacks.'),
    cfg.StrOpt('api_paste_config', default=_packaged_paste_config(),
               sample_default='<valet package>/etc/valet/api-paste.ini',
               help='The paste deploy file that assembles the API '
                    'pipeline.'),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    return [(GROUP, OPTS)]
