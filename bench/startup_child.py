"""One all-in-one start, timed, in a process of its own (bench.end_to_end).

Run as a script so that the tree it measures is the one on ``PYTHONPATH``
(an older commit's worktree, say) and not this one:

    PYTHONPATH=<tree> python bench/startup_child.py INVENTORY STATE_DIR \
        CACHE_DIR LEVELS

``CACHE_DIR`` empty means no parse cache. It prints one JSON object: the
seconds taken by the imports, the inventory read (``StaticInventory.load``,
all of them), the model build (``EngineEndpoint.rebuild``) and the whole
all-in-one build (``valet.cmd.api.build``: storage, engine, API), CPU
seconds of the whole process, and the load average before and after.
"""

import json
import os
import sys
import time


def main(argv):
    inventory, state, cache, levels = argv[1:5]
    load_before = os.getloadavg()
    started = time.perf_counter()
    from oslo_config import cfg
    from oslo_messaging import conffixture

    from valet.cmd import api as cmd_api
    from valet import conf as valet_conf
    from valet.engine import service
    from valet.inventory import static
    imported = time.perf_counter()

    spent = {'read_s': 0.0, 'build_s': 0.0}

    def timed(func, key):
        def wrapper(*args, **kwargs):
            begun = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - begun
        return wrapper

    static.StaticInventory.load = timed(static.StaticInventory.load,
                                        'read_s')
    service.EngineEndpoint.rebuild = timed(service.EngineEndpoint.rebuild,
                                           'build_s')
    conf = cfg.ConfigOpts()
    valet_conf.register_all(conf)
    conf.register_cli_opts(cmd_api.CLI_OPTS)
    conffixture.ConfFixture(conf).setUp()
    conf(['--all-in-one', '--inventory', inventory], project='valet',
         default_config_files=[])
    conf.set_override('state_dir', state)
    conf.set_override('levels', levels.split(','), group='inventory')
    conf.set_override('static_cache_dir', cache, group='inventory')
    begun = time.perf_counter()
    _app, stop = cmd_api.build(conf)
    done = time.perf_counter()
    cpu = time.process_time()
    stop()
    print(json.dumps({
        'import_s': round(imported - started, 3),
        'read_s': round(spent['read_s'], 3),
        'build_s': round(spent['build_s'], 3),
        'start_s': round(done - begun, 3),
        'process_s': round(done - started, 3),
        'cpu_s': round(cpu, 3),
        'load_before': load_before, 'load_after': os.getloadavg()}))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
