"""Valet's tempest plugin (entry point ``tempest.test_plugins``)."""

import os

from tempest import config
from tempest.test_discover import plugins

from valet.tests.tempest import config as valet_config


class ValetTempestPlugin(plugins.TempestPlugin):

    def load_tests(self):
        here = os.path.dirname(os.path.abspath(__file__))
        test_dir = os.path.join(here, 'tests')
        # Test ids start at the repository's top: valet.tests.tempest...
        top = os.path.abspath(os.path.join(here, '..', '..', '..'))
        return test_dir, top

    def register_opts(self, conf):
        config.register_opt_group(conf, valet_config.service_available_group,
                                  valet_config.ServiceAvailableGroup)
        config.register_opt_group(conf, valet_config.valet_group,
                                  valet_config.ValetGroup)
        config.register_opt_group(conf, valet_config.valet_feature_group,
                                  valet_config.ValetFeatureGroup)

    def get_opt_lists(self):
        return [
            (valet_config.service_available_group.name,
             valet_config.ServiceAvailableGroup),
            (valet_config.valet_group.name, valet_config.ValetGroup),
            (valet_config.valet_feature_group.name,
             valet_config.ValetFeatureGroup),
        ]

    def get_service_clients(self):
        params = config.service_client_config('valet')
        params.update({
            'name': 'valet_v1',
            'service_version': 'valet.v1',
            'module_path': 'valet.tests.tempest.services.v1',
            'client_names': ['GroupsClient', 'PlansClient',
                             'PlacementsClient', 'StatusClient'],
        })
        return [params]
