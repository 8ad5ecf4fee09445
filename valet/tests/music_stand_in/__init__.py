"""A stand-in for Music, the REST service over Cassandra and ZooKeeper.

Music and Cassandra cannot be installed where Valet's tests run (no
registry this project uses ships them), so the tests of the ``music``
storage driver run against this stand-in instead. It is **not** Music: it
implements the part of Music's v1 REST API (``/MUSIC/rest``) that Valet's
driver uses, with the documented paths, bodies, answers and status codes,
and Music's consistency and lock rules:

* ``eventual`` reads and writes need no lock;
* ``critical`` reads and writes are refused unless the caller's lock
  reference is at the head of the key's lock queue (lock name
  ``keyspace.table.key``);
* ``atomic`` writes take the key's lock inside the server, write and
  release; conditional updates and deletes check their conditions first;
* lock references are created, acquired (with a lease), released and
  deleted; a holder whose lease ran out is forced free by the next
  acquirer, as Music does.

State lives in one SQLite file that every server process opens, so
several processes on loopback act as several Music hosts of one cluster,
shared by any number of Valet processes. There is a single copy of each
row: what replication adds (stale eventual reads) is not simulated.
Faults are injected on demand (5xx answers, slow answers, a lock forced
free); see ``server.py``. ``fixture.MusicStandIn`` starts a cluster for a
test.
"""
