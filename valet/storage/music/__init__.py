"""The Music storage driver (``[storage] driver = music``).

``transport`` speaks Music's REST API with failover across hosts,
``locks`` holds Music locks around critical reads and writes, ``schema``
is the table layout and ``driver`` the ``base.Storage`` implementation.
"""
