"""Tests of the Nova scheduler filter, run with Nova installed.

They run in the environment of ``tools/install-openstack.sh`` (Nova's own
packages, with Valet's source on the path) through
``tools/run-nova-plugin-tests.sh``, against a real all-in-one valet-api
started from Valet's own environment.
"""
