"""[engine]: the placement engine service and how the API reaches it."""

from oslo_config import cfg


def _group():
    return cfg.OptGroup('engine', title='Placement engine options')


GROUP = _group()

OPTS = [
    cfg.FloatOpt('rpc_timeout', default=30.0, min=0.1,
                 help='Seconds the API waits for the engine to answer a '
                      'call before it answers 503.'),
    cfg.StrOpt('objective', default='consolidate',
               choices=[('consolidate', 'fewest new hosts, least '
                         'fragmentation'),
                        ('spread', 'most room left on every host used')],
               help='What the engine optimises among valid placements.'),
    cfg.FloatOpt('time_budget', default=10.0, min=0.01,
                 help='Seconds one decision may spend improving its first '
                      'placement at most: a safety net for very slow '
                      'machines, after which the best placement found so '
                      'far is the answer. Finding a placement, or proving '
                      'there is none, is bounded by the node budgets below '
                      'only, so the verdict never depends on how busy the '
                      'machine is.'),
    cfg.IntOpt('max_nodes', default=200000, min=100,
               help='Search nodes one decision may explore at most.'),
    cfg.IntOpt('max_work', default=3000000, min=1000,
               help='Search effort (nodes times hosts) to find a first '
                    'placement.'),
    cfg.IntOpt('improve_work', default=100000, min=0,
               help='Search effort (nodes times hosts) spent improving the '
                    'first placement; 0 disables improvement.'),
    cfg.StrOpt('host', default='valet-engine',
               help='Name of this engine on the RPC bus.'),
    cfg.StrOpt('topic', default='valet-engine',
               help='RPC topic the engine serves and the API calls. With '
                    'RabbitMQ the queue is named after it, so Valet '
                    'deployments sharing a broker need different topics.'),
]


def register_opts(conf):
    # A fresh group per ConfigOpts: a shared OptGroup would share its
    # option table, leaking overrides between configurations.
    conf.register_group(_group())
    conf.register_opts(OPTS, group='engine')


def list_opts():
    return [(GROUP, OPTS)]


def solver_options(conf):
    """The solver's options from [engine]."""
    from valet.engine.solver import decision
    return decision.SolverOptions(
        objective=conf.engine.objective,
        time_budget=conf.engine.time_budget,
        max_nodes=conf.engine.max_nodes,
        max_work=conf.engine.max_work,
        improve_work=conf.engine.improve_work)
