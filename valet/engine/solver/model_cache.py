"""What a decision compiles from the model alone, kept per model generation.

Every decision walks the stored groups (placed members of every
exclusivity group, the groups each placed server is in through nesting);
with hundreds of stored groups that walk, not the search, is most of a
one-server decision. The answers depend on the model only, so they are
kept until the model changes (``DataCenter.generation``); a request that
nests groups, or a recheck that ignores some, changes them and compiles
without the cache. Only time changes: the answers are the same.
"""

import weakref

_MODELS = weakref.WeakKeyDictionary()


def parts(dc):
    """{part: dict} valid for the model's current generation (a problem
    keeps it: the model does not change while a decision is made)."""
    entry = _MODELS.get(dc)
    if entry is None or entry[0] != dc.generation:
        entry = (dc.generation, {})
        _MODELS[dc] = entry
    return entry[1]


def store(dc, part):
    """A dict for ``part`` valid for the model's current generation."""
    return parts(dc).setdefault(part, {})
