"""Valet's tests.

Hypothesis profiles: ``ci`` is derandomized and bounded so that CI runs
are repeatable; ``dev`` keeps Hypothesis' defaults. The profile is chosen
by the ``HYPOTHESIS_PROFILE`` environment variable (default ``dev``; tox
sets ``ci``).
"""

import os

import hypothesis

hypothesis.settings.register_profile(
    'ci', derandomize=True, max_examples=50, deadline=None,
    print_blob=True)
hypothesis.settings.register_profile('dev', deadline=None)
hypothesis.settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'dev'))
