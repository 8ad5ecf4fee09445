"""Heat stacks planned whole on their first server (convergence path).

The engine runs for real over oslo.messaging's fake transport (see
``test_service``); Heat cannot run in these unit tests, so the stack
reader answers from a preview shaped as Heat's REST API gives it (the
functional tests in ``valet/tests/functional/heat`` read real Heat).
"""

import threading

from valet.common import exception
from valet.common import heat_stack
from valet.engine import stacks
from valet.inventory.openstack import heat as heat_reader
from valet import objects
from valet.tests.unit.engine import test_service

ROOT = 'f00dfeed-0000-4000-8000-000000000001'
PREVIEW = 'valet-preview-shop'


def leaf(name, stack_name, parent=None, groups=None, flavor='small'):
    props = {'flavor': flavor, 'image': 'cirros', 'user_data': 'x'}
    if groups:
        props['metadata'] = {'valet': {'groups': groups}}
    out = {'resource_name': name, 'resource_type': 'OS::Nova::Server',
           'stack_name': stack_name, 'properties': props}
    if parent:
        out['parent_resource'] = parent
    return out


def member(index, groups):
    name = '%s-tier-%d' % (PREVIEW, index)
    return [leaf('web', name, str(index), groups),
            leaf('cache', name, str(index))]


def preview(count=2, groups=('apart',)):
    """A root stack: one server, a ResourceGroup of two-server templates
    and a GroupAssignment putting the group's servers in 'rack-mates'.
    ``groups``: the web servers' groups, or a list of them per member."""
    return [
        leaf('db', PREVIEW),
        [member(i, list(groups[i] if isinstance(groups, list) else groups))
         for i in range(count)],
        {'resource_name': 'mates', 'stack_name': PREVIEW,
         'resource_type': 'OS::Valet::GroupAssignment',
         'properties': {'group': 'rack-mates', 'resources': ['db']}},
    ]


class FakeReader:

    def __init__(self, project='p1', count=2):
        self.reads = 0
        self.project = project
        self.count = count
        self.gate = None
        self.groups = ('apart',)
        self.declared = ()

    def read(self, stack_id):
        self.reads += 1
        if self.gate is not None:
            self.gate.wait(10)
        if stack_id != ROOT:
            raise heat_reader.StackNotFound('Heat has no stack %s' % stack_id)
        entries = heat_reader.preview_entries(
            preview(self.count, self.groups), PREVIEW)
        return heat_reader.StackRead(
            stack_id, 'shop', self.project,
            heat_stack.plan_resources(stack_id, 'shop', entries),
            declared_groups=self.declared)


def hints(*path):
    levels = ['shop'] + ['%s,shop-x%d' % (p, i)
                         for i, p in enumerate(path[:-1])]
    return {'heat_root_stack_id': ROOT, 'heat_stack_id': 'whatever',
            'heat_path_in_stack': levels, 'heat_resource_name': path[-1],
            'heat_resource_uuid': 'not-a-valet-id'}


class StackPlanTest(test_service.EngineServiceTestBase):

    def setUp(self):
        super().setUp()
        self.storage.create_group(objects.Group(
            name='apart', type='diversity', level='host'))
        self.storage.create_group(objects.Group(
            name='rack-mates', type='affinity', level='rack'))
        self.reader = FakeReader()
        self.engine.endpoint.stacks = stacks.StackPlanner(
            self.engine.endpoint, reader=self.reader)

    def reserve(self, path, locations=None, **kw):
        return self.api.reserve_stack_server(
            self.ctxt, hints=hints(*path),
            locations=locations or sorted(self.dc.hosts),
            resource_id='vm-' + '-'.join(path), project_id='p1', **kw)

    def test_preview_entries_name_every_server_by_path(self):
        entries = heat_reader.preview_entries(preview(), PREVIEW)
        self.assertEqual(
            [['db'], ['tier', '0', 'web'], ['tier', '0', 'cache'],
             ['tier', '1', 'web'], ['tier', '1', 'cache'], ['mates']],
            [e['path'] for e in entries])
        self.assertNotIn('user_data', entries[0]['properties'])

    def test_first_server_plans_the_whole_stack(self):
        out = self.reserve(['tier', '1', 'web'])
        self.assertTrue(out['reserved'])
        plan = self.storage.get_plan(ROOT)
        self.assertEqual(('shop', 'p1'), (plan.name, plan.project_id))
        placed = self.placements(ROOT)
        self.assertEqual(5, len(placed))
        webs = [p.location for p in placed.values()
                if p.metadata['heat_resource_name'] == 'web']
        self.assertEqual(2, len(set(webs)))       # diversity at host level
        self.assertEqual(['rack-mates'], placed[heat_stack.orchestration_id(
            ROOT, ['db'])].spec['groups'])
        # Later servers find theirs: no second read, no second plan.
        again = self.reserve(['tier', '0', 'web'])
        self.assertEqual(placed[again['orchestration_id']].location,
                         again['location'])
        self.assertEqual(1, self.reader.reads)

    def test_concurrent_first_servers_make_one_plan(self):
        self.reader.gate = threading.Event()
        results, errors = [], []

        def first(path):
            try:
                results.append(self.reserve(path))
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=first, args=(p,)) for p in (
            ['db'], ['tier', '0', 'web'], ['tier', '1', 'cache'])]
        for t in threads:
            t.start()
        self.reader.gate.set()
        for t in threads:
            t.join(30)
        self.assertEqual([], errors)
        self.assertEqual(3, len(results))
        self.assertEqual(1, self.reader.reads)
        self.assertEqual(1, len(self.storage.list_plans()))

    def test_a_grown_stack_is_replanned_keeping_placed_servers(self):
        first = self.reserve(['tier', '0', 'web'])
        self.reader.count = 3
        out = self.reserve(['tier', '2', 'web'])
        self.assertEqual(7, len(self.placements(ROOT)))
        kept = self.placements(ROOT)[first['orchestration_id']]
        self.assertEqual(first['location'], kept.location)
        webs = {p.location for p in self.placements(ROOT).values()
                if p.metadata['heat_resource_name'] == 'web'}
        self.assertEqual(3, len(webs))
        self.assertTrue(out['reserved'])

    def test_unsatisfiable_stack_is_explained(self):
        self.reader.count = 5      # five servers apart on four hosts
        exc = self.assertRaises(exception.NoPlacement, self.reserve,
                                ['tier', '0', 'web'])
        self.assertIn('No placement', str(exc))
        self.assertEqual([], self.storage.list_plans())

    def test_another_projects_stack_is_not_found(self):
        self.reader.project = 'p2'
        exc = self.assertRaises(exception.NotFound, self.reserve, ['db'])
        self.assertEqual(stacks.STACK_UNKNOWN, exc.code)
        self.assertEqual([], self.storage.list_plans())
        # A service caller may plan any project's stack, owned by it.
        self.reserve(['db'], any_project=True)
        self.assertEqual('p2', self.storage.get_plan(ROOT).project_id)

    def test_hints_without_a_stack_are_refused(self):
        exc = self.assertRaises(
            exception.BadRequest, self.api.reserve_stack_server, self.ctxt,
            hints={'heat_resource_name': 'db'}, locations=['r0h0'],
            resource_id=None, project_id='p1')
        self.assertEqual(stacks.HINTS_INVALID, exc.code)

    def test_unknown_stack(self):
        hinted = dict(hints('db'), heat_root_stack_id='nope')
        exc = self.assertRaises(
            exception.NotFound, self.api.reserve_stack_server, self.ctxt,
            hints=hinted, locations=['r0h0'], resource_id=None,
            project_id='p1')
        self.assertEqual(stacks.STACK_UNKNOWN, exc.code)

    def test_a_deleted_stack_leaves_no_plan(self):
        self.reserve(['tier', '0', 'web'])
        planner = stacks.planner(self.engine.endpoint)
        self.assertTrue(planner.forget(self.ctxt, ROOT))
        self.assertEqual([], self.storage.list_plans())
        self.assertEqual([], self.storage.list_placements())
        self.assertNotIn(heat_stack.orchestration_id(ROOT, ['db']),
                         self.dc.servers)
        # Again (the lifecycle plugin dropped it, a redelivery), or a
        # nested stack's id: nothing to do.
        self.assertFalse(planner.forget(self.ctxt, ROOT))
        self.assertFalse(planner.forget(self.ctxt, 'nested-stack-id'))

    def _heat_creates_late_groups(self, after_sleeps):
        """The tiers' group 'late' comes into being after that many polls
        (Heat creating it while the first server waits)."""
        self.reader.groups = ('late',)
        self.reader.declared = ('late',)
        planner = self.engine.endpoint.stacks
        clock = {'now': 0.0, 'sleeps': 0}

        def sleep(seconds):
            clock['now'] += seconds
            clock['sleeps'] += 1
            if clock['sleeps'] == after_sleeps:
                self.storage.create_group(objects.Group(
                    name='late', type='diversity', level='host'))
        planner._clock = lambda: clock['now']
        planner._sleep = sleep
        return clock

    def test_first_server_waits_for_the_groups_its_stack_declares(self):
        clock = self._heat_creates_late_groups(after_sleeps=3)
        out = self.reserve(['tier', '0', 'web'])
        self.assertTrue(out['reserved'])
        self.assertEqual(3, clock['sleeps'])
        webs = [p.location for p in self.placements(ROOT).values()
                if p.metadata['heat_resource_name'] == 'web']
        self.assertEqual(2, len(set(webs)))       # 'late' holds

    def test_a_declared_group_never_created_is_unknown_after_the_wait(self):
        self.conf.set_override('declared_group_wait', 2.0, group='heat')
        clock = self._heat_creates_late_groups(after_sleeps=-1)
        exc = self.assertRaises(exception.NotFound, self.reserve,
                                ['tier', '0', 'web'])
        self.assertEqual('valet.group.not_found', exc.code)
        self.assertIn('late', str(exc))
        self.assertEqual(2.0 / stacks.GROUP_POLL_SECONDS, clock['sleeps'])
        # The rest of the stack is planned; the servers in 'late' are not.
        names = sorted(p.metadata['heat_resource_name']
                       for p in self.placements(ROOT).values())
        self.assertEqual(['cache', 'cache', 'db'], names)

    def test_servers_whose_group_is_late_are_planned_when_they_come(self):
        # Heat holds tier 0 (and its group 'late') back until tier 1 is
        # done, and tier 1's web is the stack's first server.
        self.conf.set_override('declared_group_wait', 1.0, group='heat')
        self._heat_creates_late_groups(after_sleeps=-1)
        self.reader.groups = [('late',), ('apart',)]
        out = self.reserve(['tier', '1', 'web'])
        self.assertTrue(out['reserved'])
        first = {p.orchestration_id: p.location
                 for p in self.placements(ROOT).values()}
        self.assertEqual(4, len(first))     # db, both caches, tier 1's web
        self.storage.create_group(objects.Group(
            name='late', type='diversity', level='host'))
        out = self.reserve(['tier', '0', 'web'])
        self.assertTrue(out['reserved'])
        now = {p.orchestration_id: p.location
               for p in self.placements(ROOT).values()}
        self.assertEqual(5, len(now))
        for orch_id, host in first.items():
            self.assertEqual(host, now[orch_id])
