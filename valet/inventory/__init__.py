"""Where the data centre comes from: inventory drivers.

Drivers are loaded by name (``[inventory] driver``) from the stevedore
namespace ``valet.inventory``.
"""

from stevedore import driver

from valet.inventory.base import InventoryError

NAMESPACE = 'valet.inventory'


def get_inventory(conf):
    """The configured inventory driver, constructed with ``conf``."""
    name = conf.inventory.driver
    try:
        manager = driver.DriverManager(
            NAMESPACE, name, invoke_on_load=True, invoke_args=(conf,))
    except Exception as exc:
        # stevedore says little when an entry point is missing; say which.
        raise InventoryError(
            'cannot load inventory driver %r (namespace %s): %s' % (
                name, NAMESPACE, exc)) from exc
    return manager.driver
