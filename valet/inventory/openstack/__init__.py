"""The ``openstack`` inventory driver: Placement and Nova APIs.

``driver.OpenStackInventory`` is the stevedore entry point
(``valet.inventory`` / ``openstack``); ``placement``, ``nova`` and
``topology`` hold the reading and mapping it is made of, ``client`` the
keystoneauth plumbing.
"""
