"""The description of one compute host, as inventories produce it."""

import dataclasses


@dataclasses.dataclass
class HostSpec:
    """One host: where it sits, what it has, what it offers.

    ``domains`` maps every level above ``host`` to the name of the host's
    ancestor at that level. ``capacity`` is the raw total per resource
    class; the usable amount is
    ``(capacity - reserved) * allocation_ratio * (1 - standby_percent/100)``.
    """

    name: str
    capacity: dict
    domains: dict = dataclasses.field(default_factory=dict)
    allocation_ratios: dict = dataclasses.field(default_factory=dict)
    reserved: dict = dataclasses.field(default_factory=dict)
    standby_percent: dict = dataclasses.field(default_factory=dict)
    enabled: bool = True
    availability_zone: str | None = None
    aggregates: dict = dataclasses.field(default_factory=dict)
    traits: frozenset = frozenset()

    def usable(self, rc):
        """Usable capacity of one resource class (a float)."""
        total = self.capacity.get(rc, 0)
        reserved = self.reserved.get(rc, 0)
        ratio = self.allocation_ratios.get(rc, 1.0)
        standby = self.standby_percent.get(rc, 0.0)
        return max(0.0, (total - reserved) * ratio * (1.0 - standby / 100.0))

    def attribute_key(self):
        """What makes two hosts interchangeable for static filters."""
        aggs = tuple(sorted(
            (name, tuple(sorted((meta or {}).items())))
            for name, meta in self.aggregates.items()))
        return (self.availability_zone, aggs, tuple(sorted(self.traits)))
