"""[inventory]: where the engine learns what the data centre holds."""

import os
import sys

from oslo_config import cfg


def _group():
    return cfg.OptGroup('inventory', title='Data-centre inventory options')


GROUP = _group()

SAMPLE_NAME = 'inventory.sample.yaml'


def default_static_file():
    """The packaged sample inventory.

    A source tree or an editable install has ``etc/valet`` next to the
    ``valet`` package; an installed wheel puts data files under the prefix.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.path.join(here, '..', '..', 'etc', 'valet', SAMPLE_NAME),
        os.path.join(sys.prefix, 'etc', 'valet', SAMPLE_NAME),
        os.path.join(sys.prefix, 'share', 'valet', SAMPLE_NAME),
    ]
    for path in candidates:
        if os.path.isfile(path):
            return os.path.normpath(path)
    return os.path.normpath(candidates[0])


OPTS = [
    cfg.StrOpt('driver', default='static',
               help='Inventory driver (stevedore namespace valet.inventory): '
                    '"static" reads a YAML file.'),
    cfg.StrOpt('static_file', default=default_static_file(),
               sample_default='<valet>/etc/valet/inventory.sample.yaml',
               help='YAML file the static inventory reads (hosts, their '
                    'topology and capacity, flavors, placed servers). '
                    'Defaults to the sample shipped with Valet.'),
    cfg.ListOpt('levels', default=['host', 'rack', 'zone', 'region'],
                help='Topology levels, lowest first; the first must be '
                     '"host". Used when the inventory does not name its '
                     'own levels.'),
]


def register_opts(conf):
    # A fresh group per ConfigOpts: a shared OptGroup shares its option
    # table, so overrides would leak from one configuration to another.
    conf.register_group(_group())
    conf.register_opts(OPTS, group='inventory')


def list_opts():
    return [(GROUP, OPTS)]
