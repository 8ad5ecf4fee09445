"""/v1/groups: every row of the v1 contract, with the fixed bugs."""

from valet.common import exception
from valet.storage import base as storage_base
from valet.tests.unit.api import base


class GroupsTest(base.APITestCase):

    def test_create_returns_bare_group(self):
        resp = self.post('/v1/groups', {'name': 'db-diverse',
                                        'type': 'diversity', 'level': 'rack',
                                        'description': 'databases'},
                         status=201)
        group = resp.json
        self.assertEqual({'id', 'name', 'description', 'type', 'level',
                          'members'}, set(group))
        self.assertEqual(('db-diverse', 'diversity', 'rack', 'databases', []),
                         (group['name'], group['type'], group['level'],
                          group['description'], group['members']))

    def test_create_every_type_and_level(self):
        for i, type_ in enumerate(('affinity', 'diversity', 'exclusivity')):
            for level in ('host', 'rack', 'zone', 'region'):
                self.post('/v1/groups', {'name': 'g-%s-%s' % (type_, level),
                                         'type': type_, 'level': level},
                          status=201)
        self.assertEqual(12, len(self.get('/v1/groups').json['groups']))

    def test_levels_follow_configuration(self):
        self.flags(levels=['host', 'pod'], group='inventory')
        self.post('/v1/groups', {'name': 'p', 'type': 'affinity',
                                 'level': 'pod'}, status=201)
        resp = self.post('/v1/groups', {'name': 'r', 'type': 'affinity',
                                        'level': 'rack'})
        error = self.assertError(resp, 400, 'valet.request.invalid')
        self.assertIn('host, pod', error['detail'])

    def test_create_duplicate_name_conflicts(self):
        self.make_group('dup')
        resp = self.post('/v1/groups', {'name': 'dup', 'type': 'diversity',
                                        'level': 'host'})
        self.assertError(resp, 409, 'valet.group.duplicate')

    def test_create_rejects_bad_names(self):
        # Original bug: invalid names were only logged.
        for name in ('', 'has space', 'slash/name', 'ünï', 'a' * 256,
                     'semi;colon', "quote'", 'new\nline', 'tab\t',
                     '<script>', '%2F', 'name\n'):
            resp = self.post('/v1/groups', {'name': name, 'type': 'affinity',
                                            'level': 'host'})
            self.assertError(resp, 400, 'valet.request.invalid')
        self.assertEqual([], self.get('/v1/groups').json['groups'])

    def test_create_accepts_every_unreserved_character(self):
        name = 'Az09._~-'
        self.post('/v1/groups', {'name': name, 'type': 'affinity',
                                 'level': 'host'}, status=201)
        self.assertEqual(name, self.get('/v1/groups/' + name)
                         .json['group']['name'])

    def test_create_rejects_unknown_type_level_and_keys(self):
        bad = [{'name': 'g', 'type': 'friendly', 'level': 'host'},
               {'name': 'g', 'type': 'affinity', 'level': 'galaxy'},
               {'name': 'g', 'type': 'affinity'},
               {'name': 'g', 'level': 'host'},
               {'type': 'affinity', 'level': 'host'},
               {'name': 'g', 'type': 'affinity', 'level': 'host',
                'members': ['p1']},
               {'name': 'g', 'type': 'affinity', 'level': 'host',
                'extra': 1},
               {'name': 'g', 'type': 'affinity', 'level': 'host',
                'description': 'x' * 1025},
               {'name': 'g', 'type': 'affinity', 'level': 'host',
                'description': 'bell\x07'},
               {'name': 7, 'type': 'affinity', 'level': 'host'}]
        for body in bad:
            self.assertError(self.post('/v1/groups', body), 400,
                             'valet.request.invalid')
        self.assertEqual([], self.get('/v1/groups').json['groups'])

    def test_list_and_show_by_id_or_name(self):
        group = self.make_group('web')
        self.assertEqual([group], self.get('/v1/groups',
                                           status=200).json['groups'])
        self.assertEqual(group, self.get('/v1/groups/' + group['id'],
                                         status=200).json['group'])
        self.assertEqual(group, self.get('/v1/groups/web',
                                         status=200).json['group'])

    def test_show_missing(self):
        self.assertError(self.get('/v1/groups/nope'), 404,
                         'valet.group.not_found')

    def test_update_description_only(self):
        group = self.make_group('web')
        resp = self.put('/v1/groups/' + group['id'],
                        {'description': 'front end'}, status=201)
        self.assertEqual('front end', resp.json['description'])
        self.assertEqual('front end', self.get('/v1/groups/web')
                         .json['group']['description'])
        for body in ({'name': 'other'}, {'type': 'diversity'},
                     {'level': 'rack'}, {},
                     {'description': 'x', 'name': 'y'}):
            self.assertError(self.put('/v1/groups/web', body), 400,
                             'valet.request.invalid')

    def test_update_missing(self):
        self.assertError(self.put('/v1/groups/nope', {'description': 'x'}),
                         404, 'valet.group.not_found')

    def test_delete(self):
        group = self.make_group('web')
        resp = self.delete('/v1/groups/' + group['id'], status=204)
        self.assertEqual(b'', resp.body)
        self.assertError(self.get('/v1/groups/web'), 404)
        self.assertError(self.delete('/v1/groups/web'), 404,
                         'valet.group.not_found')

    def test_delete_with_members_conflicts(self):
        group = self.make_group('web', members=['project1'])
        self.assertError(self.delete('/v1/groups/' + group['id']), 409,
                         'valet.group.has_members')

    def test_delete_with_placed_servers_conflicts(self):
        group = self.make_group('web')
        self.engine.group_servers['web'] = [
            {'id': 'p', 'project_id': 'project1', 'host': 'host1'}]
        self.assertError(self.delete('/v1/groups/' + group['id']), 409,
                         'valet.group.member_in_use')

    def test_add_members_is_a_union(self):
        group = self.make_group('web')
        url = '/v1/groups/%s/members' % group['id']
        resp = self.put(url, {'members': ['p1', 'p2']}, status=201)
        self.assertEqual(['p1', 'p2'], resp.json['members'])
        resp = self.put(url, {'members': ['p2', 'p3', 'p3']}, status=201)
        self.assertEqual(['p1', 'p2', 'p3'], resp.json['members'])

    def test_add_members_validates_every_id(self):
        # Original bug: one valid id let invalid ones in.
        group = self.make_group('web')
        url = '/v1/groups/%s/members' % group['id']
        for members in ([], [''], ['ok', ''], ['ok', 'bad id'],
                        ['ok', 'x' * 65], ['ok', 7], ['ok', None],
                        ['ok', "1' OR '1'='1"], ['ok', 'ünï'], 'p1'):
            self.assertError(self.put(url, {'members': members}), 400,
                             'valet.request.invalid')
        self.assertError(self.put(url, {'tenants': ['p1']}), 400)
        self.assertEqual([], self.get(url.rsplit('/', 1)[0])
                         .json['group']['members'])

    def test_add_members_missing_group(self):
        self.assertError(self.put('/v1/groups/nope/members',
                                  {'members': ['p1']}), 404,
                         'valet.group.not_found')

    def test_membership_test(self):
        group = self.make_group('web', members=['p1'])
        url = '/v1/groups/%s/members/' % group['id']
        resp = self.get(url + 'p1', status=204)
        self.assertEqual(b'', resp.body)
        self.assertError(self.get(url + 'p9'), 404,
                         'valet.group.member_not_found')
        self.assertError(self.get('/v1/groups/nope/members/p1'), 404,
                         'valet.group.not_found')

    def test_remove_one_member(self):
        group = self.make_group('web', members=['p1', 'p2'])
        url = '/v1/groups/%s/members/' % group['id']
        self.delete(url + 'p1', status=204)
        self.assertEqual(['p2'], self.get('/v1/groups/web')
                         .json['group']['members'])
        self.assertError(self.delete(url + 'p1'), 404,
                         'valet.group.member_not_found')

    def test_remove_member_with_servers_conflicts(self):
        group = self.make_group('web', members=['p1', 'p2'])
        self.engine.group_servers['web'] = [
            {'id': 'x', 'project_id': 'p1', 'host': 'host1'}]
        url = '/v1/groups/%s/members/' % group['id']
        self.assertError(self.delete(url + 'p1'), 409,
                         'valet.group.member_in_use')
        self.delete(url + 'p2', status=204)
        self.assertEqual(['p1'], self.get('/v1/groups/web')
                         .json['group']['members'])

    def test_remove_all_members(self):
        group = self.make_group('web', members=['p1', 'p2'])
        url = '/v1/groups/%s/members' % group['id']
        self.engine.group_servers['web'] = [
            {'id': 'x', 'project_id': 'p2', 'host': 'host1'}]
        error = self.assertError(self.delete(url), 409,
                                 'valet.group.member_in_use')
        self.assertIn('p2', error['detail'])
        self.engine.group_servers['web'] = []
        self.delete(url, status=204)
        self.assertEqual([], self.get('/v1/groups/web')
                         .json['group']['members'])
        self.delete('/v1/groups/web', status=204)

    def test_remove_members_when_engine_down(self):
        group = self.make_group('web', members=['p1'])
        self.engine.fail_with = exception.EngineUnavailable()
        self.assertError(self.delete('/v1/groups/%s/members' % group['id']),
                         503, 'valet.engine.unavailable')
        self.assertEqual(['p1'], self.get('/v1/groups/web')
                         .json['group']['members'])

    def test_lost_race_is_retried(self):
        group = self.make_group('web')
        real = self.storage.update_group
        calls = []

        def racing(g):
            calls.append(g)
            if len(calls) == 1:
                # Another writer gets in first: the stored generation moves.
                real(self.storage.get_group(g.id))
            return real(g)
        self.storage.update_group = racing
        resp = self.put('/v1/groups/%s/members' % group['id'],
                        {'members': ['p1']}, status=201)
        self.assertEqual(['p1'], resp.json['members'])
        self.assertEqual(2, len(calls))

    def test_persistent_race_is_a_conflict(self):
        group = self.make_group('web')

        def always_stale(g):
            raise storage_base.Conflict('stale')
        self.storage.update_group = always_stale
        self.assertError(self.put('/v1/groups/' + group['id'],
                                  {'description': 'x'}), 409,
                         'valet.storage.conflict')

    def test_query_strings_rejected(self):
        self.assertError(self.get('/v1/groups?name=web'), 400,
                         'valet.request.invalid')
