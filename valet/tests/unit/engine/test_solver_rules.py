"""The rule registry: one module per group kind, and a validator that
stays independent of it."""

import inspect

from oslotest import base as oslo_base

from valet.engine.solver import rules
from valet.engine.solver.rules import base as rules_base
from valet.engine.solver import validator
from valet.objects import group_kinds


class TestRegistry(oslo_base.BaseTestCase):

    def test_every_kind_has_exactly_one_rule_module(self):
        self.assertEqual(sorted(group_kinds.KINDS), sorted(rules.REGISTRY))
        self.assertEqual(len(rules.MODULES), len(rules.REGISTRY))
        for kind, module in rules.REGISTRY.items():
            self.assertEqual(kind, module.KIND)
            self.assertTrue(callable(module.compile), kind)

    def test_constraints_implement_the_protocol(self):
        for module in rules.MODULES:
            classes = [c for _, c in inspect.getmembers(module,
                                                        inspect.isclass)
                       if issubclass(c, rules_base.Constraint)
                       and c is not rules_base.Constraint]
            self.assertTrue(classes, module.__name__)
            for cls in classes:
                self.assertEqual(module.KIND, cls.kind)
                self.assertIsNot(rules_base.Constraint.start, cls.start)

    def test_validator_checks_every_kind_on_its_own(self):
        source = inspect.getsource(validator)
        self.assertNotIn('solver.rules', source)
        self.assertNotIn('import numpy', source)
        for kind in group_kinds.KINDS:
            method = '_check_' + kind.replace('-', '_')
            self.assertTrue(hasattr(validator._Validation, method), kind)
