"""Unit tests of Valet's Heat plugins, run in Heat's own virtualenv
(tools/install-heat.sh; ``tox -e heat``) with Heat's shipped test
helpers. Kept outside ``valet/tests/unit`` because Valet's environment
has no Heat."""

# Heat's test base selects oslo.service's threading backend on import; it
# has to come before anything of Heat's engine picks the default.
from heat.tests import common  # noqa: F401,E402
