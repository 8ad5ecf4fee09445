"""Heat's own test case, with Valet's client plugin answering from
``fakes.FakeValet`` (see that module for why)."""

import os
import sys

from heat.engine import resource
from heat.engine import resources as heat_resources
from heat.tests import common
from oslo_config import cfg

from valet.plugins.heat import client_plugin
from valet.plugins.heat import resources
from valet.tests.heat import fakes


class ValetHeatTestCase(common.HeatTestCase):

    def setUp(self):
        if heat_resources._environment is None:
            # Heat's test base looks for etc/heat beside its source tree;
            # an installed Heat has it under the virtualenv.
            cfg.CONF.set_default('environment_dir', os.path.join(
                sys.prefix, 'etc', 'heat', 'environment.d'))
            heat_resources.initialise()
        super().setUp()
        for name, cls in resources.resource_mapping().items():
            resource._register_class(name, cls)
        self.valet = fakes.FakeValet()
        self.patchobject(client_plugin.ValetClientPlugin, '_create',
                         return_value=self.valet)
