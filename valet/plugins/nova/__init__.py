"""Nova scheduler filter that hands host choice to Valet.

Enable it in nova.conf::

    [filter_scheduler]
    available_filters = nova.scheduler.filters.all_filters
    available_filters = valet.plugins.nova.valet_filter.ValetFilter
    enabled_filters = ComputeFilter,...,ValetFilter    # last: Valet has the final say

The class is ``valet.plugins.nova.valet_filter.ValetFilter``; it decides once
per request in ``filter_all`` and lets through only the host Valet chose.

Options, registered by the plugin in the ``[valet]`` group of nova.conf
(``valet.plugins.nova.conf``):

* keystoneauth auth options (``ks_loading.register_auth_conf_options``):
  ``auth_type``, ``auth_url``, ``username``, ``password``, ``project_name``,
  ``user_domain_name``, ``project_domain_name``, ... -- Nova's service user
  with the ``service`` role (``admin`` to map Nova server groups to Valet
  groups). Valet must serve microversion 1.3.
* keystoneauth session options (``ks_loading.register_session_conf_options``):
  ``cafile``, ``certfile``, ``keyfile``, ``insecure``, ``timeout``,
  ``collect_timing``, ``split_loggers``.  ``timeout`` defaults to 60 seconds
  here and is the whole budget of one scheduling request, retries and the
  session's Keystone requests included: a Valet (or Keystone) outage costs
  a boot at most this long.
* ``endpoint_override`` (default unset): Valet's URL, e.g.
  ``http://127.0.0.1:8090``; without it the endpoint comes from the service
  catalog (service type ``workload-placement``).
* ``region_name``, ``valid_interfaces`` (default ``internal,public``):
  catalog lookup.
* ``failure_mode`` = ``reject`` | ``yield`` (default ``reject``): what to do
  when Valet cannot answer -- no host (NoValidHost) or every candidate.
* ``retries`` (default 2) and ``retry_delay`` (default 0.5 s, doubling):
  further attempts after a connection error or a 502/503/504, only while the
  ``timeout`` budget lasts.
"""
