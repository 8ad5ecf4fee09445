"""[inventory]: where the engine learns what the data centre holds."""

import os
import sys

from oslo_config import cfg

from valet.objects import group_kinds


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
                    '"static" reads a YAML file; "openstack" reads the '
                    'Placement API ([placement]) and Nova ([nova]).'),
    cfg.StrOpt('static_file', default=default_static_file(),
               sample_default='<valet>/etc/valet/inventory.sample.yaml',
               help='YAML file the static inventory reads (hosts, their '
                    'topology and capacity, flavors, placed servers). '
                    'Defaults to the sample shipped with Valet.'),
    cfg.StrOpt('static_cache_dir', default='$state_dir/inventory-cache',
               help='Where the static inventory keeps what it parsed from '
                    'a large static_file (1 MiB or more), as JSON keyed by '
                    'the file\'s SHA-256: a restart reads that instead of '
                    'parsing the YAML again (a 5,000-host file with 50,000 '
                    'servers takes seconds to parse). A changed file is '
                    'parsed anew. Empty: no cache.'),
    cfg.ListOpt('levels', default=list(group_kinds.DEFAULT_LEVELS),
                help='Topology levels, lowest first; the first must be '
                     '"host". Used when the inventory does not name its '
                     'own levels.'),
]

# The openstack driver: where each level's domains come from.
DEFAULT_LEVEL_SOURCES = [
    'rack:aggregate_metadata=valet:rack',
    'rack:trait=CUSTOM_RACK_',
    'zone:availability_zone',
    'region:constant=RegionOne',
]
UNMAPPED_CHOICES = [
    ('exclude', 'Leave the host out of the model (and the servers on it): '
                'Valet never places onto a host whose position it does not '
                'know.'),
    ('isolate', 'Give the host a domain of its own at that level, named '
                '"unmapped:<host>". Valet may then count it as a separate '
                'rack even if it shares one with other hosts.'),
]

OPENSTACK_OPTS = [
    cfg.ListOpt('level_sources', default=DEFAULT_LEVEL_SOURCES,
                help='openstack driver: where the domain of a host at each '
                     'level above "host" comes from, as LEVEL:SOURCE '
                     'entries tried in order (the first that gives a value '
                     'wins). SOURCE is one of aggregate_metadata=KEY (the '
                     'value of KEY in the metadata of a Nova host aggregate '
                     'holding the host), trait=PREFIX (a trait PREFIX<NAME> '
                     'of the resource provider gives the domain <name>, '
                     'lower case), availability_zone (the host\'s '
                     'availability zone), constant=VALUE, or '
                     'hostname=rack|region (the original Valet host-name '
                     'convention; see num_of_region_chars). Every level of '
                     '[inventory] levels above host needs at least one '
                     'entry.'),
    cfg.StrOpt('unmapped_hosts', default='exclude',
               choices=UNMAPPED_CHOICES,
               help='openstack driver: what happens to a host that no '
                    'source of level_sources maps to a domain at some '
                    'level. Either way every load logs one warning with '
                    'the count and names.'),
    cfg.StrOpt('default_availability_zone', default='nova',
               help='openstack driver: availability zone of a host in no '
                    'Nova aggregate with an availability zone (Nova\'s own '
                    '[DEFAULT] default_availability_zone).'),
    cfg.IntOpt('request_workers', default=8, min=1, max=64,
               help='openstack driver: concurrent requests to Placement '
                    'while reading resource providers (two requests per '
                    'provider, three without Nova). More than the '
                    'Placement API\'s workers gains nothing.'),
    cfg.BoolOpt('read_servers', default=False,
                help='openstack driver: also read every server from Nova '
                     '(GET /servers/detail?all_tenants=1) to give placed '
                     'servers their name, project and metadata, and an '
                     'evacuated server the host it runs on (its source '
                     'host keeps allocations until that host comes back). '
                     'Placement alone gives their id, host and '
                     'resources.'),
    cfg.BoolOpt('read_consumers', default=False,
                help='openstack driver: read the project and user of every '
                     'Placement consumer (GET /allocations/{consumer}, one '
                     'request per server). Useful when Nova is not read.'),
    cfg.IntOpt('num_of_region_chars', default=3, min=1,
               help='openstack driver, hostname source: number of letters '
                    'the region code of a host name starts with (the '
                    'original Valet convention <region><rack><node>, e.g. '
                    'pdk15r05c001: region pdk15, rack pdk15r05).'),
    cfg.ListOpt('rack_code_list', default=['r'],
                help='openstack driver, hostname source: characters that '
                     'introduce the rack number in a host name.'),
    cfg.ListOpt('node_code_list', default=['a', 'c', 'u', 'f', 'o', 'p',
                                           's'],
                help='openstack driver, hostname source: characters that '
                     'introduce the node number in a host name (node '
                     'types).'),
]


def register_opts(conf):
    # A fresh group per ConfigOpts: a shared OptGroup shares its option
    # table, so overrides would leak from one configuration to another.
    conf.register_group(_group())
    conf.register_opts(OPTS + OPENSTACK_OPTS, group='inventory')


def list_opts():
    return [(GROUP, OPTS + OPENSTACK_OPTS)]
