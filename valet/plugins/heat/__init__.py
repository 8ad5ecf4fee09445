"""Valet's plugins for Heat: the OS::Valet::Group and
OS::Valet::GroupAssignment resource types, the ``valet`` client plugin,
the ``valet.group_name`` constraint and the stack lifecycle plugin.

They talk to Valet through its REST API only, so they install into Heat's
environment with Valet's client and keystoneauth1 alone.
"""
