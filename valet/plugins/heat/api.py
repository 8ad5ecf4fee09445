"""The calls Heat's plugins make to Valet, through ``valet.client``.

Built on the session Heat gives a resource or a lifecycle plugin (the
user's, or the stack's trust), aimed at the catalog's
``workload-placement`` endpoint.
"""

from valet import client as valet_client
from valet.client import exceptions

# Every failure carries ``status`` (None when Valet did not answer) and
# Valet's ``detail``.
ValetError = exceptions.ValetClientError

# Planning a large stack takes the engine a while.
TIMEOUT = 120.0


class ValetAPI:

    def __init__(self, session, interface=None, region_name=None,
                 endpoint_override=None, timeout=TIMEOUT):
        self.client = valet_client.Client(
            session, interface=interface, region_name=region_name,
            endpoint_override=endpoint_override, timeout=timeout)

    # ------------------------------------------------------------ groups
    def create_group(self, name, type_, level, description=None,
                     parents=None, **parameters):
        # Nesting needs microversion 1.4: asked for only when there is any.
        # ``parameters`` are the kind's (None leaves one out); the client
        # asks for the kind's microversion.
        return self.client.create_group(name, type_, level, description,
                                        parents=parents or None,
                                        **parameters)

    def get_group(self, ref, parents=False, parameters=False):
        return self.client.show_group(ref, parents=parents,
                                      parameters=parameters)

    def update_group(self, group_id, description=None, parents=None):
        """``description`` None keeps it; ``parents`` None keeps them,
        ``[]`` takes the group out of every parent."""
        return self.client.update_group(group_id, description,
                                        parents=parents)

    def add_members(self, group_id, members):
        return self.client.add_members(group_id, members)

    def remove_member(self, group_id, member):
        self.client.remove_member(group_id, member)

    def delete_group(self, group_id):
        self.client.delete_group(group_id)

    # ------------------------------------------------------------- plans
    def create_plan(self, name, stack_id, resources):
        return self.client.create_plan(name, stack_id, resources)

    def update_plan(self, stack_id, resources, name=None):
        return self.client.update_plan(stack_id, resources, plan_name=name)

    def delete_plan(self, stack_id):
        self.client.delete_plan(stack_id)
