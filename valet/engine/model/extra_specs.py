"""Flavor extra specs against host aggregate metadata and traits.

This follows Nova's ``AggregateInstanceExtraSpecsFilter`` (see the "Static
filters" section of ``doc/source/contributor/placement-semantics.rst``):

* keys scoped ``aggregate_instance_extra_specs:`` and unscoped keys (no
  ``:``) are looked up in the host's aggregate metadata; every other scope
  is ignored, except ``trait:NAME`` whose value ``required`` or
  ``forbidden`` is checked against the host's traits;
* the host's values for a key are the union, over its aggregates, of the
  comma-separated values of that key (whitespace stripped); a host without
  the key fails and one matching value is enough;
* a spec value may start with an operator followed by its operand(s).

Malformed operands never raise: they simply do not match, so one bad
flavor cannot break a whole decision.
"""

import operator

AGGREGATE_SCOPE = 'aggregate_instance_extra_specs'
TRAIT_SCOPE = 'trait'
REQUIRED = 'required'
FORBIDDEN = 'forbidden'


def _numeric(compare):
    def match(value, operand):
        try:
            return compare(float(value), float(operand))
        except (TypeError, ValueError):
            return False
    return match


# Operators taking a single operand: (host value, operand) -> bool.
_SINGLE = {
    '=': _numeric(operator.ge),
    '==': _numeric(operator.eq),
    '!=': _numeric(operator.ne),
    '>=': _numeric(operator.ge),
    '<=': _numeric(operator.le),
    's==': operator.eq,
    's!=': operator.ne,
    's<': operator.lt,
    's<=': operator.le,
    's>': operator.gt,
    's>=': operator.ge,
    '<in>': lambda value, operand: operand in value,
}
OR = '<or>'
ALL_IN = '<all-in>'
OPERATORS = frozenset(_SINGLE) | {OR, ALL_IN}


def _aggregate_key(key):
    """The metadata key an extra spec checks, or None when it is ignored."""
    if ':' not in key:
        return key
    scope, rest = key.split(':', 1)
    return rest if scope == AGGREGATE_SCOPE else None


def _trait(key, value):
    """(trait name, 'required'|'forbidden') or None when not a trait spec."""
    if ':' not in key:
        return None
    scope, name = key.split(':', 1)
    want = str(value).strip().lower()
    if scope != TRAIT_SCOPE or not name or want not in (REQUIRED, FORBIDDEN):
        return None
    return name, want


def host_values(aggregates, key):
    """The set of values a host has for one metadata key (None: absent)."""
    values = None
    for meta in (aggregates or {}).values():
        if not meta or key not in meta:
            continue
        raw = meta[key]
        if values is None:
            values = set()
        for part in ('' if raw is None else str(raw)).split(','):
            values.add(part.strip())
    return values


def match_values(values, spec):
    """Whether a host's value set satisfies one extra-spec value."""
    spec = '' if spec is None else str(spec)
    words = spec.split()
    op = words[0] if words else None
    if op not in OPERATORS:
        # No operator: plain string equality against one of the values.
        return spec in values
    operands = words[1:]
    if op == OR:
        # "<or> a <or> b": every word that is not the keyword is a choice.
        choices = {w for w in operands if w != OR}
        return bool(choices & values)
    if not operands:
        return False
    if op == ALL_IN:
        # Each listed value is one of the host's values, or (as in Nova,
        # which matches value by value) all are substrings of one value.
        if all(w in values for w in operands):
            return True
        return any(all(w in v for w in operands) for v in values)
    compare = _SINGLE[op]
    return any(compare(v, operands[0]) for v in values)


def check(extra_specs, aggregates, traits):
    """Every failing extra spec of a host, as reasons (sorted by key)."""
    reasons = []
    traits = traits or frozenset()
    for key in sorted(extra_specs or {}):
        spec = extra_specs[key]
        trait = _trait(key, spec)
        if trait is not None:
            name, want = trait
            if (want == REQUIRED) != (name in traits):
                reasons.append('trait %s %s' % (name, want))
            continue
        meta_key = _aggregate_key(key)
        if meta_key is None:
            continue
        values = host_values(aggregates, meta_key)
        if values is None:
            reasons.append('aggregate metadata %s=%s not matched '
                           '(no aggregate of the host sets %s)'
                           % (meta_key, spec, meta_key))
        elif not match_values(values, spec):
            reasons.append('aggregate metadata %s=%s not matched'
                           % (meta_key, spec))
    return reasons


def host_passes(extra_specs, aggregates, traits):
    """(ok, reason): whether a host satisfies a flavor's extra specs.

    ``aggregates`` is ``HostSpec.aggregates`` (``{name: {key: value}}``) and
    ``traits`` the host's trait names. ``reason`` names the first failing
    key (in key order, so that it is stable), or is None when ``ok``.
    """
    reasons = check(extra_specs, aggregates, traits)
    return (not reasons, reasons[0] if reasons else None)


def relevant(extra_specs):
    """Whether any extra spec would be checked at all (else skip hosts)."""
    for key, value in (extra_specs or {}).items():
        if _trait(key, value) is not None or _aggregate_key(key) is not None:
            return True
    return False
