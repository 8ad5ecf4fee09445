"""Plain domain classes shared by the API, the engine and storage."""

from valet.objects.group import Group  # noqa: F401
from valet.objects.plan import Placement  # noqa: F401
from valet.objects.plan import Plan  # noqa: F401
