"""Tempest configuration options of Valet's tempest plugin."""

from oslo_config import cfg

service_available_group = cfg.OptGroup(
    name='service_available', title='Available OpenStack Services')

ServiceAvailableGroup = [
    cfg.BoolOpt('valet', default=False,
                help='Whether or not Valet (workload-placement) is expected '
                     'to be available.'),
]

valet_group = cfg.OptGroup(name='valet', title='Valet options')

ValetGroup = [
    cfg.StrOpt('catalog_type', default='workload-placement',
               help='Catalog type of the Valet service.'),
    cfg.StrOpt('endpoint_type', default='publicURL',
               choices=['public', 'admin', 'internal', 'publicURL',
                        'adminURL', 'internalURL'],
               help='The endpoint type to use for the Valet service.'),
    cfg.StrOpt('region', default='',
               help='Region of the Valet endpoint; empty: '
                    '[identity] region.'),
    cfg.IntOpt('build_timeout', default=300,
               help='Seconds to wait for a server or stack the scenario '
                    'tests create.'),
    cfg.IntOpt('build_interval', default=2,
               help='Seconds between status checks while waiting.'),
    cfg.StrOpt('rack_aggregate_key', default='valet:rack',
               help="Metadata key of the Nova host aggregates that name a "
                    "host's rack (Valet's default [inventory] "
                    'level_sources); the scenario tests read racks from '
                    'Nova with it.'),
]

valet_feature_group = cfg.OptGroup(
    name='valet_feature_enabled', title='Valet features')

ValetFeatureGroup = [
    cfg.BoolOpt('nova_filter', default=False,
                help="Nova's scheduler runs Valet's ValetFilter."),
    cfg.BoolOpt('heat_plugin', default=False,
                help="Heat has Valet's resource types and stack lifecycle "
                     'plugin.'),
]
