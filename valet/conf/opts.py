"""Find every option module of ``valet.conf`` (oslo-config-generator)."""

import importlib
import pkgutil

_SKIP = {'opts'}


def option_modules():
    import valet.conf as package
    modules = []
    for info in sorted(pkgutil.iter_modules(package.__path__),
                       key=lambda i: i.name):
        if info.name in _SKIP:
            continue
        module = importlib.import_module('valet.conf.' + info.name)
        if hasattr(module, 'list_opts'):
            modules.append(module)
    return modules


def list_opts():
    """[(group, [opts])] for every Valet option group."""
    out = []
    for module in option_modules():
        out.extend(module.list_opts())
    return out
