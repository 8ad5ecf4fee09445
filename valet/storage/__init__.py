"""Persistence: the driver loader and what every driver shares.

``get_storage(conf)`` loads the driver named by ``[storage] driver`` from
the ``valet.storage`` stevedore namespace. The matching rules of
``list_placements`` live here so that every driver filters exactly alike.
"""

import copy
import hashlib
from importlib import metadata as importlib_metadata
import math

from stevedore import driver as stevedore_driver
from stevedore import exception as stevedore_exc

from valet.storage import base

NAMESPACE = 'valet.storage'

# The fields list_placements may filter on (see base.Storage).
PLACEMENT_FILTERS = frozenset(('id', 'name', 'orchestration_id', 'resource_id',
                               'location', 'reserved', 'plan_id'))


class DriverNotFound(base.StorageError):
    """No storage driver of that name is installed."""


def available_drivers():
    """Names of the installed storage drivers, sorted."""
    eps = importlib_metadata.entry_points(group=NAMESPACE)
    return sorted({ep.name for ep in eps})


def _reraise(manager, entrypoint, exc):
    # stevedore would log and swallow the driver's own error (an import
    # error, or Unavailable from its constructor); the caller needs it.
    raise exc


def get_storage(conf, name=None):
    """The storage driver named ``name`` (default ``[storage] driver``)."""
    name = name or conf.storage.driver
    try:
        manager = stevedore_driver.DriverManager(
            namespace=NAMESPACE, name=name, invoke_on_load=True,
            invoke_args=(conf,), on_load_failure_callback=_reraise)
    except stevedore_exc.NoMatches:
        raise DriverNotFound(
            'Unknown storage driver %r; available drivers: %s. Set '
            '[storage] driver to one of them.'
            % (name, ', '.join(available_drivers()) or 'none installed'))
    return manager.driver


def check_filters(filters):
    """Reject filter keys list_placements does not know (a caller bug)."""
    unknown = set(filters or ()) - PLACEMENT_FILTERS
    if unknown:
        raise ValueError('Cannot filter placements by %s; known fields: %s'
                         % (', '.join(sorted(unknown)),
                            ', '.join(sorted(PLACEMENT_FILTERS))))


def same_value(a, b):
    """Exact equality of JSON-like values.

    Plain ``==`` says ``True == 1``; a filter on ``reserved=True`` or a
    metadata value ``true`` must not match ``1``.
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return (a.keys() == b.keys()
                and all(same_value(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return (len(a) == len(b)
                and all(same_value(x, y) for x, y in zip(a, b)))
    if isinstance(a, (dict, list, tuple)) or isinstance(b, (dict, list, tuple)):
        return False
    return a == b


def placement_matches(placement, filters=None, metadata=None):
    """True when ``placement`` has every field and metadata item given."""
    for key, value in (filters or {}).items():
        if not same_value(getattr(placement, key), value):
            return False
    for key, value in (metadata or {}).items():
        if key not in placement.metadata:
            return False
        if not same_value(placement.metadata[key], value):
            return False
    return True


def metadata_digest(value):
    """A fixed-size key for one metadata value, for drivers' indexes.

    Two values get the same digest exactly when ``same_value`` says they
    are equal (``1`` and ``1.0`` alike, ``True`` and ``1`` not). Lists and
    objects, which flat metadata never holds, have no digest (None).
    """
    if value is None:
        text = 'z:'
    elif isinstance(value, bool):
        text = 'b:%s' % ('true' if value else 'false')
    elif isinstance(value, int):
        text = 'n:%d' % value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            text = 'n:%d' % int(value)
        else:
            text = 'n:%r' % value
    elif isinstance(value, str):
        text = 's:' + value
    else:
        return None
    return hashlib.sha256(
        text.encode('utf-8', 'surrogatepass')).hexdigest()


def page(items, key, limit=None, marker=None, marker_item=None):
    """One page of ``items`` (already sorted by ``key``).

    ``marker_item`` is the object whose id is ``marker`` (the caller
    looked it up, in the caller's scope); the page starts after it.
    """
    if marker is not None:
        if marker_item is None:
            raise base.MarkerNotFound('No object %r to page after' % marker)
        after = key(marker_item)
        items = [i for i in items if key(i) > after]
    if limit is not None:
        items = items[:max(limit, 0)]
    return items


# What the drivers that keep whole objects (memory, music) share.

def by_name(obj):
    return obj.name


def by_name_id(obj):
    return (obj.name, obj.id)


def visible(obj, project_id):
    """Whether ``obj`` is in the scope of ``project_id`` (None: all)."""
    return project_id is None or obj.project_id == project_id


def check_generation(stored, given, kind):
    """Conflict when ``given`` was read before ``stored`` last changed."""
    if stored.generation != given.generation:
        raise base.Conflict(
            '%s %s changed since it was read (generation %s, now %s); '
            'read it again and retry' % (kind, stored.id, given.generation,
                                         stored.generation))


def owned_copy(placement, plan):
    """A private copy of ``placement``, checked to belong to ``plan``."""
    if placement.plan_id != plan.id:
        raise ValueError('Placement %s belongs to plan %s, not %s'
                         % (placement.id, placement.plan_id, plan.id))
    p = copy.deepcopy(placement)
    if p.project_id is None:
        p.project_id = plan.project_id
    return p
