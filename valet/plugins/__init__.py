"""Plugins that let OpenStack services follow Valet's decisions.

Each plugin talks to Valet through its REST API only (:mod:`valet.client`),
so it can be installed into the service's environment with the client alone.
"""
