"""The groups a decision is made against, checked.

A request's groups join the stored ones: each must have a known kind,
level and valid parameters, agree with a stored group of its name, and
nest only as the group vocabulary allows (affinity groups inside others,
never a higher level inside a lower one, no cycles).
"""

from valet.engine.model import errors
from valet.engine.model import groups as g
from valet.objects import group_kinds


def definitions(dc, request):
    """The stored groups with the request's own, each checked."""
    defs = dict(dc.groups)
    for group in request.groups:
        if group.kind not in g.KINDS:
            raise errors.InvalidRequest(
                'group %s has unknown type %r; use one of %s' % (
                    group.name, group.kind, ', '.join(g.KINDS)),
                code='valet.request.unknown_kind', group=group.name)
        dc.topology.index(group.level)
        problem = _parameters_error(group.kind, group.parameters)
        if problem:
            raise errors.InvalidRequest(
                'group %s: %s' % (group.name, problem),
                code='valet.request.bad_group', group=group.name)
        known = defs.get(group.name)
        if known is not None and _shape(known) != _shape(group):
            raise errors.InvalidRequest(
                'group %s is a %s group at level %s, not %s at %s' % (
                    group.name, _kind(known), known.level, _kind(group),
                    group.level),
                code='valet.request.group_conflict', group=group.name)
        if known is None or group.parents:
            defs[group.name] = group
    return defs


_PARAMETER_ERRORS = {}
_PLAIN = (int, float, str)


def _parameters_error(kind, parameters):
    """group_kinds.parameters_error, once per kind and parameters (the
    same few groups come with request after request). Keyed by the
    values' types too: 1, 1.0 and True are equal keys but not equally
    valid; values of other types are checked every time."""
    if not all(type(v) in _PLAIN for _, v in parameters):
        return group_kinds.parameters_error(kind, dict(parameters))
    key = (kind, tuple((k, type(v), v) for k, v in parameters))
    try:
        return _PARAMETER_ERRORS[key]
    except KeyError:
        pass
    found = group_kinds.parameters_error(kind, dict(parameters))
    if len(_PARAMETER_ERRORS) >= 256:
        _PARAMETER_ERRORS.clear()       # bounded: many distinct groups
    _PARAMETER_ERRORS[key] = found
    return found


def _shape(group):
    # The parameters carry the kind's defaults (a soft group's weight 1),
    # so a group stated without a default it has compares equal.
    return (group.kind, group.level, group.parameters)


def _kind(group):
    """A group's kind and parameters, as messages name them."""
    if not group.parameters:
        return group.kind
    return '%s (%s)' % (group.kind, ', '.join(
        '%s %s' % pair for pair in group.parameters))


def check_nesting(defs, topology):
    """Refuse nesting that is unknown, illegal or cyclic in ``defs``."""
    for group in defs.values():
        for parent_name in group.parents:
            parent = defs.get(parent_name)
            if parent is None:
                raise errors.InvalidRequest(
                    'group %s is nested in unknown group %s' % (
                        group.name, parent_name),
                    code='valet.request.unknown_group',
                    group=parent_name)
            if (parent.kind != g.AFFINITY and
                    group.kind != g.AFFINITY):
                raise errors.InvalidRequest(
                    '%s group %s cannot be nested in %s group %s: '
                    'diversity and exclusivity groups may only contain '
                    'servers and affinity groups' % (
                        group.kind, group.name, parent.kind,
                        parent.name),
                    code='valet.request.illegal_nesting',
                    group=group.name, parent=parent.name)
            if (topology.index(group.level) >
                    topology.index(parent.level)):
                raise errors.InvalidRequest(
                    'group %s (level %s) cannot be nested in group %s '
                    '(level %s): a nested group\'s level may not be '
                    'higher than its parent\'s' % (
                        group.name, group.level, parent.name,
                        parent.level),
                    code='valet.request.illegal_nesting',
                    group=group.name, parent=parent.name)
    # Cycles: depth-first walk with colours.
    state = {}
    for name in sorted(defs):
        _visit(defs, state, name, [])


def _visit(defs, state, name, path):
    """``check_nesting``'s walk from ``name`` up its parents (a function
    of its own: a nested one that calls itself is a reference cycle,
    left to the cyclic collector at every decision with nesting)."""
    mark = state.get(name)
    if mark == 1:
        cycle = path[path.index(name):] + [name]
        raise errors.InvalidRequest(
            'groups are nested in a cycle: %s' % ' -> '.join(cycle),
            code='valet.request.group_cycle', groups=cycle)
    if mark == 2:
        return
    state[name] = 1
    for parent in defs[name].parents:
        _visit(defs, state, parent, path + [name])
    state[name] = 2
