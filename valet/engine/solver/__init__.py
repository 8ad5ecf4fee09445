"""The placement solver: search, constraints, objective, explanations.

Pure computation over a :class:`valet.engine.model.datacenter.DataCenter`
and a :class:`valet.engine.model.request.PlacementRequest`; no I/O.
"""
