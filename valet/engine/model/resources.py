"""Resource classes and small helpers on demand/capacity vectors."""

VCPU = 'VCPU'
MEMORY_MB = 'MEMORY_MB'
DISK_GB = 'DISK_GB'
STANDARD = (VCPU, MEMORY_MB, DISK_GB)

# Flavor fields and their resource classes.
FLAVOR_FIELDS = {'vcpus': VCPU, 'ram': MEMORY_MB, 'disk': DISK_GB}


def flavor_demand(flavor):
    """Demand vector of a flavor dict ``{vcpus, ram, disk, ...}``.

    ``ephemeral`` adds to DISK_GB and ``swap`` (MB) is rounded up to GB,
    as Nova's flavors mean it. ``resources:<CLASS>`` extra specs add
    further resource classes.
    """
    demand = {}
    for field, rc in FLAVOR_FIELDS.items():
        demand[rc] = int(flavor.get(field, 0) or 0)
    demand[DISK_GB] += int(flavor.get('ephemeral', 0) or 0)
    swap_mb = int(flavor.get('swap', 0) or 0)
    demand[DISK_GB] += -(-swap_mb // 1024)
    for key, value in (flavor.get('extra_specs') or {}).items():
        if key.startswith('resources:'):
            demand[key[len('resources:'):]] = int(value)
    return demand
