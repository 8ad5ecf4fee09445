"""The engine knows every group at once, whichever order things happen in.

Running servers name groups before anyone creates them (static inventory
``servers: [... groups: [dg]]``, or ``valet_groups`` metadata in a real
cloud). Creating the group through the API must make those memberships
count for the very next plan, without waiting for a resync, and a group
the running servers already break is accepted and reported by
``GET /v1/resources``. Through the real API and the real engine on SQLite,
MariaDB and PostgreSQL.
"""

from valet.tests.functional.api_groups import base
from valet.tests.functional import databases


def running(name, host, groups, project='p0', flavor='m1.small'):
    return {'name': name, 'host': host, 'flavor': flavor,
            'groups': list(groups), 'project': project}


class GroupStateTest(base.APIGroupsTestCase):

    def test_diversity_created_after_its_running_members(self):
        aio = self.start(servers=[running('old1', 'h1', ['dg']),
                                  running('old2', 'h2', ['dg'])])
        self.post_group('dg', 'diversity')
        hosts = self.post_plan('s1', {'n1': base.server('n1', ['dg']),
                                      'n2': base.server('n2', ['dg'])})
        self.assertEqual({'h3', 'h4'}, set(hosts.values()))
        # No resync needed, and none happened: the model has them at once.
        self.assertEqual({'old1', 'old2', 'n1', 'n2'},
                         aio.model.group_servers('dg'))
        self.assertEqual({}, self.invalid())
        # A third new member has no host left: a clear refusal.
        error = self.post_plan('s2', {'n3': base.server('n3', ['dg'])},
                               status=409)
        self.assertEqual('valet.placement.none', error['code'])
        # A restarted engine rebuilds the same memberships from storage.
        aio.restart()
        self.assertEqual({'old1', 'old2', 'n1', 'n2'},
                         aio.model.group_servers('dg'))
        self.post_plan('s3', {'n3': base.server('n3', ['dg'])}, status=409)

    def test_exclusivity_created_after_its_running_member(self):
        self.start(servers=[running('tenant-a', 'h1', ['ex'], 'pa')])
        self.post_group('ex', 'exclusivity')
        # Four servers of another project, packed: never on the dedicated
        # host, although it has room.
        hosts = self.post_plan('s1', {
            'o%d' % i: base.server('o%d' % i) for i in range(4)})
        self.assertNotIn('h1', hosts.values())
        # A new member joins the dedicated host.
        hosts = self.post_plan('s2', {'m': base.server('m', ['ex'])})
        self.assertEqual({'m': 'h1'}, hosts)

    def test_affinity_created_after_its_running_member(self):
        # The fullest host (h1) is where packing alone would put them.
        self.start(servers=[running('a1', 'h3', ['aff']),
                            running('big', 'h1', [], flavor='m1.large')])
        self.post_group('aff', 'affinity')
        hosts = self.post_plan('s1', {'n1': base.server('n1', ['aff']),
                                      'n2': base.server('n2', ['aff'])})
        self.assertEqual({'h3'}, set(hosts.values()))

    def test_group_the_running_servers_break_is_accepted_and_reported(self):
        self.start(servers=[running('old3', 'h3', ['tight']),
                            running('old4', 'h3', ['tight']),
                            running('fine', 'h4', ['other'])])
        self.assertEqual({}, self.invalid())
        self.post_group('tight', 'diversity')
        report = self.invalid()
        self.assertEqual({'old3', 'old4'}, set(report))
        for entry in report.values():
            self.assertEqual('h3', entry['location'])
            self.assertIn('tight', entry['message'])
        # New members still keep off the broken host.
        hosts = self.post_plan('s1', {'n': base.server('n', ['tight'])})
        self.assertNotEqual('h3', hosts['n'])

    def test_deleting_a_group_its_running_servers_name_is_refused(self):
        aio = self.start(servers=[running('old1', 'h1', ['dg'])])
        group = self.post_group('dg', 'diversity')
        resp = aio.call('DELETE', '/v1/groups/%s' % group['id'], status=409)
        self.assertEqual('valet.group.member_in_use',
                         resp.json['errors'][0]['code'])
        free = self.post_group('free', 'affinity')
        aio.call('DELETE', '/v1/groups/%s' % free['id'], status=204)
        self.assertNotIn('free', aio.model.groups)
        aio.call('GET', '/v1/groups/free', status=404)

    def test_member_changes_go_through_the_engine(self):
        aio = self.start(servers=[running('old1', 'h1', ['dg'], 'p1')])
        group = self.post_group('dg', 'diversity')
        path = '/v1/groups/%s/members' % group['id']
        body = aio.call('PUT', path, {'members': ['p1', 'p2']},
                        status=201).json
        self.assertEqual(['p1', 'p2'], body['members'])
        self.assertEqual(['p1', 'p2'],
                         aio.engine.endpoint.groups.find('dg').members)
        # p1 runs a server in the group: it stays a member.
        resp = aio.call('DELETE', path + '/p1', status=409)
        self.assertEqual('valet.group.member_in_use',
                         resp.json['errors'][0]['code'])
        aio.call('DELETE', path + '/p2', status=204)
        self.assertEqual(['p1'], aio.call(
            'GET', '/v1/groups/dg', status=200).json['group']['members'])
        # A project that is not a member is refused the group.
        error = self.post_plan('s1', {'n': base.server('n', ['dg'])},
                               headers=base.member('p9'), status=409)
        self.assertEqual('valet.group.not_member', error['code'])


class MySQLGroupStateTest(GroupStateTest):
    DATABASE = databases.MySQLServer()


class PostgreSQLGroupStateTest(GroupStateTest):
    DATABASE = databases.PostgreSQLServer()
