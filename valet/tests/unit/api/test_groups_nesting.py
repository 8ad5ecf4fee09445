"""/v1/groups with ``parents`` (microversion 1.4): what the API itself does.

The API gates ``parents`` by microversion, validates its shape, forwards
it to the engine with the caller's project when the caller may only nest
in groups open to it, and renders it. The nesting rules are the engine's:
they are tested against the real engine in
``valet/tests/functional/api_groups/test_nesting.py``.
"""

import os

import fixtures

from valet import policy
from valet.tests.unit.api import base

V14 = {'OpenStack-API-Version': 'workload-placement 1.4'}
V13 = {'OpenStack-API-Version': 'workload-placement 1.3'}


def headers(*parts):
    out = {}
    for part in parts:
        out.update(part)
    return out


class GroupNestingAPITest(base.APITestCase):

    def create(self, name, parents=None, hdrs=None, status=201):
        body = {'name': name, 'type': 'affinity', 'level': 'host'}
        if parents is not None:
            body['parents'] = parents
        return self.post('/v1/groups', body,
                         headers=hdrs or headers(base.ADMIN, V14),
                         status=status)

    def test_parents_are_forwarded_and_shown_from_1_4(self):
        self.create('outer')
        group = self.create('inner', ['outer']).json
        self.assertEqual(['outer'], group['parents'])
        sent = self.engine.calls_to('create_group')[-1]
        self.assertEqual(['outer'], sent['group']['parents'])
        # An administrator may nest in any group.
        self.assertIsNone(sent['project_id'])
        for hdrs in (headers(base.ADMIN, V14),
                     headers(base.ADMIN,
                             {'OpenStack-API-Version':
                              'workload-placement latest'})):
            shown = self.get('/v1/groups/inner', headers=hdrs).json['group']
            self.assertEqual(['outer'], shown['parents'])
        members = self.put('/v1/groups/inner/members',
                           {'members': ['project1']},
                           headers=headers(base.ADMIN, V14), status=201)
        self.assertEqual(['outer'], members.json['parents'])
        shown = self.get('/v1/groups/inner',
                         headers=headers(base.ADMIN, V13)).json['group']
        self.assertNotIn('parents', shown)

    def test_shapes_refused_before_the_engine(self):
        self.create('outer')
        bad = [['outer', 'outer'], 'outer', [''], ['has space'],
               ['g%d' % i for i in range(17)], [7], {'outer': 1}]
        for parents in bad:
            resp = self.create('inner', parents, status=400)
            self.assertError(resp, 400, 'valet.request.invalid')
        self.assertError(self.put('/v1/groups/outer', {},
                                  headers=headers(base.ADMIN, V14)),
                         400, 'valet.request.invalid')
        self.assertError(self.put('/v1/groups/outer', {'parents': ['x'],
                                                       'level': 'rack'},
                                  headers=headers(base.ADMIN, V14)),
                         400, 'valet.request.invalid')
        # 1.3 knows no parents, and its update needs a description.
        self.assertError(self.create('inner', ['outer'], hdrs=headers(
            base.ADMIN, V13), status=400), 400, 'valet.request.invalid')
        self.assertError(self.put('/v1/groups/outer', {'parents': []},
                                  headers=headers(base.ADMIN, V13)),
                         400, 'valet.request.invalid')
        self.assertEqual(1, len(self.engine.calls_to('create_group')))
        self.assertEqual([], self.engine.calls_to('update_group'))

    def test_update_changes_only_what_it_names(self):
        self.create('outer')
        self.create('inner')
        self.put('/v1/groups/inner', {'description': 'd'},
                 headers=headers(base.ADMIN, V14), status=201)
        resp = self.put('/v1/groups/inner', {'parents': ['outer']},
                        headers=headers(base.ADMIN, V14), status=201)
        self.assertEqual(('d', ['outer']), (resp.json['description'],
                                            resp.json['parents']))
        first, second = self.engine.calls_to('update_group')
        self.assertEqual(('d', None), (first['description'],
                                       first['parents']))
        self.assertEqual((None, ['outer']), (second['description'],
                                             second['parents']))
        # Before 1.4 a description update forwards no parents.
        self.put('/v1/groups/inner', {'description': 'e'},
                 headers=headers(base.ADMIN, V13), status=201)
        self.assertIsNone(self.engine.calls_to('update_group')[-1]['parents'])
        self.assertEqual(['outer'], self.storage.get_group('inner').parents)

    def test_a_project_that_may_create_groups_nests_as_itself(self):
        # A cloud whose policy lets members create groups: the engine is
        # told the caller's project, so that a parent open to other
        # projects only is refused (valet.group.parent_not_member).
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'policy.yaml')
        with open(path, 'w') as f:
            f.write('"valet:groups:create": "role:member"\n')
        policy.reset()
        policy.init(self.conf, policy_file=path)
        self.create('outer')
        self.create('inner', ['outer'], hdrs=headers(base.MEMBER, V14))
        self.assertEqual('project1',
                         self.engine.calls_to('create_group')[-1][
                             'project_id'])
