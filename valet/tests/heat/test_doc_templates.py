"""The templates of ``doc/templates`` are valid stacks for Heat.

Each top-level template is parsed into a Heat stack (nested templates
given as files, as ``openstack stack create`` sends them) and validated
by Heat, with Valet's resource types and constraint registered. Glance
and Nova do not run here: Heat's test helpers stand in for the image
and flavor lookups, and servers skip the checks of their own that ask
Glance and Nova (the templates' servers are plain ones).
"""

import os

from heat.common import template_format
from heat.engine import environment
from heat.engine.resources.openstack.nova import server
from heat.engine import stack as parser
from heat.engine import template
from heat.tests import utils

from valet.tests.heat import base

DOC_TEMPLATES = os.path.join(os.path.dirname(__file__), '..', '..', '..',
                             'doc', 'templates')
# Templates used only from others.
NESTED = {'shard.yaml', 'tier.yaml'}
PARAMETERS = {'image': 'cirros', 'projects': 'p1,p2'}


class DocTemplateTest(base.ValetHeatTestCase):

    def setUp(self):
        super().setUp()
        self.stub_ImageConstraint_validate()
        self.stub_FlavorConstraint_validate()
        self.patchobject(server.Server, 'validate', return_value=None)
        self.files = {}
        for name in sorted(os.listdir(DOC_TEMPLATES)):
            with open(os.path.join(DOC_TEMPLATES, name)) as f:
                self.files[name] = f.read()

    def validate(self, name):
        body = template_format.parse(self.files[name])
        wanted = {k: v for k, v in PARAMETERS.items()
                  if k in (body.get('parameters') or {})}
        tmpl = template.Template(body, files=self.files,
                                 env=environment.Environment(wanted))
        stack = parser.Stack(utils.dummy_context(), 'doc-' + name[:-5],
                             tmpl)
        stack.validate()
        return stack

    def test_every_template_validates(self):
        tops = sorted(set(self.files) - NESTED)
        self.assertIn('tiers.yaml', tops)
        for name in tops:
            with self.subTest(template=name):
                self.validate(name)

    def test_nested_groups_name_their_parent(self):
        stack = self.validate('tiers.yaml')
        self.assertEqual('shop-tiers', stack['tiers_apart'].FnGetRefId())
