"""Nova's candidate hosts under the names Valet's inventory gives them.

Nova's scheduler hands the filter ``HostState`` objects, each naming a
nova-compute service host (``host``) and one of its hypervisor nodes
(``nodename``). Valet's ``openstack`` inventory names a host after its
service host when that service has a single node (every libvirt or fake
driver compute), and after the node (the resource provider name) when a
service has several (Ironic). The same rule is applied here, so a name
sent to Valet, and one it answers with, always maps back to exactly one
candidate; an answer naming no candidate selects nothing.
"""

import collections

# Drivers whose service hosts serve many nodes even when only one of them
# is a candidate right now.
MULTI_NODE_HYPERVISORS = frozenset(('ironic',))


def _service_named(host_state, nodes_of_service):
    if nodes_of_service[host_state.host] != 1:
        return False
    kind = str(getattr(host_state, 'hypervisor_type', None) or '').lower()
    return kind not in MULTI_NODE_HYPERVISORS


class HostNames:
    """Valet names of the candidates, and the candidates of Valet names."""

    def __init__(self, host_states):
        self.hosts = list(host_states)
        nodes = collections.Counter(h.host for h in self.hosts)
        names = [h.host if _service_named(h, nodes) else h.nodename
                 for h in self.hosts]
        taken = collections.Counter(names)
        # A node named like another candidate's service host: both go by
        # their node names, as the inventory does for clashing names.
        names = [n if taken[n] == 1 else h.nodename
                 for n, h in zip(names, self.hosts)]
        self.by_name = {}
        self.name_of = {}
        for name, state in zip(names, self.hosts):
            if name in self.by_name:
                continue        # still ambiguous: never guess
            self.by_name[name] = state
            self.name_of[id(state)] = name

    @property
    def locations(self):
        """The candidates' Valet names, in Nova's order."""
        return [self.name_of[id(h)] for h in self.hosts
                if id(h) in self.name_of]

    def name(self, host_state):
        return self.name_of.get(id(host_state))

    def select(self, names):
        """The candidates named, in Nova's order."""
        wanted = set(names)
        return [h for h in self.hosts if self.name_of.get(id(h)) in wanted]
