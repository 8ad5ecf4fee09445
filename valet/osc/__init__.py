"""Valet's plugin for the ``openstack`` command line (OSC).

``openstack valet group|plan|placement ...``, ``openstack valet status``
and ``openstack valet resources``, on :mod:`valet.client`. Needs osc-lib
and python-openstackclient (``pip install 'valet[cli]'``).
"""
