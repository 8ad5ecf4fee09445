"""Configuration options, one module per option group.

Each module ``valet/conf/<group>.py`` defines its options and offers
``register_opts(conf)`` and ``list_opts()``; ``opts.py`` finds them all.
"""

from oslo_config import cfg

from valet.conf import opts


def register_all(conf=None):
    """Register every option group on ``conf`` (default: the global CONF)."""
    conf = cfg.CONF if conf is None else conf
    for module in opts.option_modules():
        module.register_opts(conf)
    return conf
