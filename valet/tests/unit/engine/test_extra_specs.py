"""Flavor extra specs against aggregate metadata and traits."""

import unittest

from valet.engine.model import extra_specs as es

SCOPE = 'aggregate_instance_extra_specs:'


def passes(specs, aggregates=None, traits=()):
    return es.host_passes(specs, aggregates or {}, frozenset(traits))


class TestScoping(unittest.TestCase):

    def test_unscoped_key_is_checked(self):
        self.assertEqual((True, None), passes({'ssd': 'true'}, {'a': {'ssd': 'true'}}))
        ok, reason = passes({'ssd': 'true'}, {'a': {'ssd': 'false'}})
        self.assertFalse(ok)
        self.assertEqual('aggregate metadata ssd=true not matched', reason)

    def test_scoped_key_is_checked(self):
        self.assertTrue(passes({SCOPE + 'ssd': 'true'}, {'a': {'ssd': 'true'}})[0])
        ok, reason = passes({SCOPE + 'ssd': 'true'}, {'a': {'ssd': 'no'}})
        self.assertFalse(ok)
        self.assertIn('ssd=true', reason)

    def test_other_scopes_are_ignored(self):
        specs = {'hw:cpu_policy': 'dedicated', 'resources:VGPU': '1',
                 'capabilities:foo': 'bar', 'trait:CUSTOM_X': 'preferred'}
        self.assertEqual((True, None), passes(specs))
        self.assertFalse(es.relevant(specs))

    def test_relevant(self):
        self.assertFalse(es.relevant({}))
        self.assertFalse(es.relevant(None))
        self.assertTrue(es.relevant({'ssd': 'true'}))
        self.assertTrue(es.relevant({SCOPE + 'ssd': 'true'}))
        self.assertTrue(es.relevant({'trait:CUSTOM_GPU': 'required'}))
        self.assertTrue(es.relevant({'trait:CUSTOM_GPU': 'forbidden'}))

    def test_missing_key_fails(self):
        ok, reason = passes({'ssd': 'true'}, {'a': {'other': 'true'}})
        self.assertFalse(ok)
        self.assertIn('ssd=true not matched', reason)
        self.assertFalse(passes({'ssd': '<in> t'})[0])
        # Even operators that would accept anything need the key.
        self.assertFalse(passes({'n': '!= 1'}, {'a': {}})[0])

    def test_union_over_aggregates_and_comma_values(self):
        aggs = {'a': {'gpu': 'k80, p100'}, 'b': {'gpu': 'v100'}, 'c': None}
        for want in ('k80', 'p100', 'v100'):
            self.assertTrue(passes({'gpu': want}, aggs)[0], want)
        self.assertFalse(passes({'gpu': 'a100'}, aggs)[0])
        self.assertFalse(passes({'gpu': 'k80, p100'}, aggs)[0])

    def test_non_string_metadata(self):
        self.assertTrue(passes({'n': '== 4'}, {'a': {'n': 4}})[0])

    def test_all_keys_must_pass_and_reason_is_stable(self):
        aggs = {'a': {'x': '1', 'y': '2'}}
        self.assertTrue(passes({'x': '1', 'y': '2'}, aggs)[0])
        ok, reason = passes({'y': '3', 'x': '0'}, aggs)
        self.assertFalse(ok)
        self.assertEqual('aggregate metadata x=0 not matched', reason)
        self.assertEqual(2, len(es.check({'y': '3', 'x': '0'}, aggs, set())))


class TestOperators(unittest.TestCase):

    def match(self, value, spec):
        return passes({'k': spec}, {'a': {'k': value}})[0]

    def test_no_operator_is_string_equality(self):
        self.assertTrue(self.match('1.0', '1.0'))
        self.assertFalse(self.match('1.0', '1'))
        self.assertTrue(self.match('x y', 'x y'))
        # An unknown leading word is no operator.
        self.assertTrue(self.match('=4', '=4'))

    def test_numeric_at_least(self):
        self.assertTrue(self.match('8', '= 4'))
        self.assertTrue(self.match('4', '= 4.0'))
        self.assertFalse(self.match('2', '= 4'))

    def test_numeric_equal_and_not_equal(self):
        self.assertTrue(self.match('4.0', '== 4'))
        self.assertFalse(self.match('5', '== 4'))
        self.assertTrue(self.match('5', '!= 4'))
        self.assertFalse(self.match('4', '!= 4.0'))

    def test_numeric_bounds(self):
        self.assertTrue(self.match('10', '>= 9'))
        self.assertFalse(self.match('8', '>= 9'))
        self.assertTrue(self.match('10', '<= 10'))
        self.assertFalse(self.match('11', '<= 10'))

    def test_non_numeric_never_matches_numerically(self):
        for spec in ('= 4', '== 4', '!= 4', '>= 4', '<= 4'):
            self.assertFalse(self.match('lots', spec), spec)
        self.assertFalse(self.match('4', '== four'))

    def test_string_operators(self):
        self.assertTrue(self.match('abc', 's== abc'))
        self.assertFalse(self.match('abd', 's== abc'))
        self.assertTrue(self.match('abd', 's!= abc'))
        self.assertFalse(self.match('abc', 's!= abc'))
        self.assertTrue(self.match('abb', 's< abc'))
        self.assertFalse(self.match('abc', 's< abc'))
        self.assertTrue(self.match('abc', 's<= abc'))
        self.assertFalse(self.match('abd', 's<= abc'))
        self.assertTrue(self.match('abd', 's> abc'))
        self.assertFalse(self.match('abc', 's> abc'))
        self.assertTrue(self.match('abc', 's>= abc'))
        self.assertFalse(self.match('abb', 's>= abc'))
        # String order, not numeric order.
        self.assertTrue(self.match('10', 's< 9'))

    def test_substring(self):
        self.assertTrue(self.match('westmere', '<in> west'))
        self.assertFalse(self.match('haswell', '<in> west'))

    def test_all_in(self):
        aggs = {'a': {'f': 'avx, sse4, aes'}}
        self.assertTrue(passes({'f': '<all-in> avx aes'}, aggs)[0])
        self.assertFalse(passes({'f': '<all-in> avx avx512'}, aggs)[0])
        # Nova's reading: all operands inside one value.
        self.assertTrue(self.match('avx2-sse4', '<all-in> avx sse'))
        self.assertFalse(self.match('avx2', '<all-in> avx sse'))

    def test_or(self):
        self.assertTrue(self.match('b', '<or> a <or> b'))
        self.assertTrue(self.match('a', '<or> a <or> b'))
        self.assertFalse(self.match('c', '<or> a <or> b'))
        self.assertTrue(self.match('a', '<or> a'))
        self.assertFalse(self.match('a', '<or>'))

    def test_operator_without_operand_does_not_match(self):
        for op in ('=', '==', 's==', '<in>', '<all-in>'):
            self.assertFalse(self.match('1', op), op)


class TestTraits(unittest.TestCase):

    def test_required(self):
        specs = {'trait:CUSTOM_GPU': 'required'}
        self.assertEqual((True, None), passes(specs, traits={'CUSTOM_GPU'}))
        self.assertEqual((False, 'trait CUSTOM_GPU required'), passes(specs))

    def test_forbidden(self):
        specs = {'trait:CUSTOM_SLOW': 'forbidden'}
        self.assertTrue(passes(specs, traits={'CUSTOM_GPU'})[0])
        self.assertEqual((False, 'trait CUSTOM_SLOW forbidden'),
                         passes(specs, traits={'CUSTOM_SLOW'}))

    def test_traits_and_metadata_together(self):
        specs = {'trait:HW_CPU_X86_AVX2': 'required', 'ssd': 'true'}
        aggs = {'a': {'ssd': 'true'}}
        self.assertTrue(passes(specs, aggs, {'HW_CPU_X86_AVX2'})[0])
        self.assertFalse(passes(specs, aggs)[0])
        self.assertFalse(passes(specs, {}, {'HW_CPU_X86_AVX2'})[0])

    def test_traits_need_no_aggregate(self):
        self.assertTrue(passes({'trait:T': 'forbidden'})[0])
