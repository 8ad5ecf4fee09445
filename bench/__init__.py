"""Placement-engine benchmark: valet against greedy, original and exact.

Run it with ``python -m bench`` (see ``bench/README.rst``).
"""
