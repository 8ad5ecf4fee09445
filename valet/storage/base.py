"""The storage interface every driver implements.

A narrow repository API over the domain objects of ``valet.objects``; no
driver type leaks out. Writes that can race are conditional on the
``generation`` the caller read (optimistic concurrency): a stale write
raises ``Conflict`` instead of silently overwriting. Multi-row changes
(a plan with its placements) are atomic: all or nothing.

Lists are ordered and can be read a page at a time: ``limit`` caps how
many objects come back and ``marker`` is the id of the last object of the
previous page (keyset paging, stable while objects are added). An unknown
marker raises ``MarkerNotFound``.

Drivers are loaded by name from the ``valet.storage`` stevedore namespace.
"""

import abc


class StorageError(Exception):
    """Base class of storage errors."""


class NotFound(StorageError):
    """The object does not exist (or is not visible to the caller)."""


class Conflict(StorageError):
    """A unique name/id is taken, or a conditional write lost a race."""


class Unavailable(StorageError):
    """The backend cannot be reached right now."""


class MarkerNotFound(NotFound):
    """The ``marker`` of a paged list names no object of that list."""


class Storage(abc.ABC):
    """What the API and the engine need from persistence."""

    # ------------------------------------------------------------ lifecycle
    @abc.abstractmethod
    def upgrade(self):
        """Create or upgrade the schema; idempotent."""

    @abc.abstractmethod
    def version(self):
        """The schema version (a string), or None before ``upgrade``."""

    @abc.abstractmethod
    def health(self):
        """``{'ok': bool, 'detail': str}``; never raises."""

    # --------------------------------------------------------------- groups
    @abc.abstractmethod
    def create_group(self, group):
        """Store a new group; Conflict if the name is taken."""

    @abc.abstractmethod
    def get_group(self, id_or_name):
        """A group by id, else by name; NotFound."""

    @abc.abstractmethod
    def list_groups(self, limit=None, marker=None):
        """Groups ordered by name; at most ``limit`` of them, those after
        the group whose id is ``marker``."""

    @abc.abstractmethod
    def update_group(self, group):
        """Store changed description/members/parents.

        Conditional on ``group.generation`` being the stored one; returns
        the stored group with its new generation. Conflict when stale.
        """

    @abc.abstractmethod
    def delete_group(self, group_id):
        """Delete a group; NotFound."""

    # ---------------------------------------------------- plans, placements
    @abc.abstractmethod
    def create_plan(self, plan, placements):
        """Store a plan and its placements atomically.

        Conflict if the plan's ``stack_id`` (or an orchestration id) is
        already stored. Returns the stored plan and placements.
        """

    def insert_plan(self, plan, placements):
        """``create_plan`` for a caller that does not use its answer (the
        engine answers from its own objects): the same checks, the same
        write, nothing built to return. Drivers skip building it."""
        self.create_plan(plan, placements)

    @abc.abstractmethod
    def get_plan(self, id_or_stack_id, project_id=None):
        """A plan by id, else by stack id; NotFound (also when it belongs
        to another project and ``project_id`` is given)."""

    @abc.abstractmethod
    def list_plans(self, project_id=None, limit=None, marker=None):
        """Plans, all or one project's, ordered by (name, id); at most
        ``limit``, those after the plan whose id is ``marker``."""

    @abc.abstractmethod
    def save_plan(self, plan, placements, removed=()):
        """Replace a stored plan's placements atomically.

        ``placements`` are created or updated (each conditional on its
        generation when it exists), ``removed`` placement ids deleted, and
        the plan's generation checked and bumped. Conflict when stale.
        """

    @abc.abstractmethod
    def delete_plan(self, plan_id):
        """Delete a plan and its placements; NotFound."""

    @abc.abstractmethod
    def get_placement(self, id_or_orchestration_id, project_id=None):
        """A placement by id, else by orchestration id; NotFound."""

    @abc.abstractmethod
    def list_placements(self, filters=None, metadata=None, project_id=None,
                        plan_ids=None, limit=None, marker=None):
        """Placements matching every field in ``filters`` (id, name,
        orchestration_id, resource_id, location, reserved, plan_id) and
        every key/value in ``metadata``, exactly, ordered by (name, id).

        ``plan_ids`` (a collection) keeps placements of those plans only.
        ``limit``/``marker`` page as in ``list_plans``. A metadata filter
        must not read every placement: drivers answer it from an index
        (the SQL driver from its ``placement_metadata`` table).
        """

    @abc.abstractmethod
    def update_placement(self, placement):
        """Store one placement, conditional on its generation."""

    @abc.abstractmethod
    def delete_placement(self, placement_id):
        """Delete one placement; NotFound."""
