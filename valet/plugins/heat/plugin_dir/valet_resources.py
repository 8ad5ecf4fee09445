from valet.plugins.heat.resources import resource_mapping  # noqa: F401
