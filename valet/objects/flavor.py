"""What a flavor asks of a host: the one flavor -> demand rule.

Planning (a flavor from the inventory), following (a flavor in a Nova
notification) and reconciling (servers an inventory lists) all use
``demand``, so a server is planned, followed and rebuilt as the same
thing. The rule is Nova's translation of a flavor into Placement
resources:

* ``VCPU`` = vcpus, ``MEMORY_MB`` = RAM in MB, ``DISK_GB`` = root disk +
  ephemeral disk + swap MB rounded up to GB (no root disk for a server
  booted from a volume);
* ``hw:cpu_policy=dedicated`` asks for ``PCPU`` instead of ``VCPU`` (one
  more with ``hw:emulator_threads_policy=isolate``);
* ``resources:<CLASS>=N`` sets a class (0 removes it), and a granular
  ``resources<SUFFIX>:<CLASS>=N`` adds to it.

``hw:cpu_policy=mixed`` is left as VCPU (its split needs the CPU mask).
"""

import math
import re

VCPU = 'VCPU'
PCPU = 'PCPU'
MEMORY_MB = 'MEMORY_MB'
DISK_GB = 'DISK_GB'

RESOURCES_KEY = re.compile(r'^resources([A-Za-z0-9_-]*):(.*)$')
RESOURCE_CLASS = re.compile(r'^[A-Z0-9_]+$')


class FlavorError(ValueError):
    """An extra spec that is not a resource request Valet can read."""


def _amount(key, value):
    try:
        amount = int(value)
    except (TypeError, ValueError):
        amount = -1
    if amount < 0:
        raise FlavorError('flavor extra spec %s=%r is not a count'
                          % (key, value))
    return amount


def demand(vcpus, memory_mb, root_gb=0, ephemeral_gb=0, swap_mb=0,
           extra_specs=None, boot_from_volume=False):
    """``{resource class: amount}`` the flavor asks for; zero classes are
    left out unless a ``resources:`` extra spec names them."""
    disk = int(ephemeral_gb or 0) + math.ceil(int(swap_mb or 0) / 1024)
    if not boot_from_volume:
        disk += int(root_gb or 0)
    vcpus = int(vcpus or 0)
    out = {VCPU: vcpus, MEMORY_MB: int(memory_mb or 0), DISK_GB: disk}
    specs = extra_specs or {}
    overrides, granular = {}, {}
    for key, value in specs.items():
        match = RESOURCES_KEY.match(str(key))
        if not match:
            continue
        suffix, rc = match.groups()
        if not RESOURCE_CLASS.match(rc):
            raise FlavorError('flavor extra spec %s names no resource '
                              'class' % key)
        if suffix:
            granular[rc] = granular.get(rc, 0) + _amount(key, value)
        else:
            overrides[rc] = _amount(key, value)
    if (specs.get('hw:cpu_policy') == 'dedicated'
            and VCPU not in overrides and PCPU not in overrides):
        isolate = specs.get('hw:emulator_threads_policy') == 'isolate'
        out[VCPU] = 0
        out[PCPU] = vcpus + (1 if isolate else 0)
    out.update(overrides)
    for rc, amount in granular.items():
        out[rc] = out.get(rc, 0) + amount
    # A zero amount asks nothing of a host; keep the three standard
    # classes so that demands compare the same whichever path built them.
    return {rc: amount for rc, amount in out.items()
            if amount or rc in (VCPU, MEMORY_MB, DISK_GB)}
