"""``python -m bench``: see ``bench/README.rst``."""

import sys

from bench import runner

sys.exit(runner.main())
