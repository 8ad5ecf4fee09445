"""Resource classes and small helpers on demand/capacity vectors."""

from valet.objects import flavor as flavor_rule

VCPU = 'VCPU'
MEMORY_MB = 'MEMORY_MB'
DISK_GB = 'DISK_GB'
STANDARD = (VCPU, MEMORY_MB, DISK_GB)

# Flavor fields and their resource classes.
FLAVOR_FIELDS = {'vcpus': VCPU, 'ram': MEMORY_MB, 'disk': DISK_GB}


def flavor_demand(flavor):
    """Demand of a flavor dict ``{vcpus, ram, disk, ephemeral, swap,
    extra_specs}`` (an inventory's flavor), by the one rule of
    ``valet.objects.flavor`` (``hw:cpu_policy=dedicated`` asks for PCPU).
    """
    return flavor_rule.demand(
        vcpus=flavor.get('vcpus', 0), memory_mb=flavor.get('ram', 0),
        root_gb=flavor.get('disk', 0), ephemeral_gb=flavor.get('ephemeral', 0),
        swap_mb=flavor.get('swap', 0),
        extra_specs=flavor.get('extra_specs') or {})
