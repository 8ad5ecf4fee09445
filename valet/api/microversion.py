"""Microversions: ``OpenStack-API-Version: workload-placement X.Y``.

A request without the header gets the minimum version, so clients written
for the original Valet v1 keep working. ``latest`` asks for the maximum.
Every response names the version that served it.
"""

import functools
import re

from valet.api import errors

SERVICE_TYPE = 'workload-placement'
HEADER = 'OpenStack-API-Version'
ENVIRON_KEY = 'valet.microversion'

# One entry per version, oldest first; never remove or reorder.
VERSIONS = [
    '1.0',  # The original Valet v1 contract, with its API bugs fixed.
    '1.1',  # limit/marker paging of groups, plans and placements lists.
    '1.2',  # reserve with Heat's hints plans an unplanned stack whole.
    '1.3',  # POST /v1/plans: project_id, planning for another project.
    '1.4',  # groups nested in groups: parents on /v1/groups.
    '1.5',  # at-most groups: type at-most with max_per_domain.
    '1.6',  # spread groups: type spread with max_skew.
    '1.7',  # soft-affinity and soft-diversity groups with a weight.
    '1.8',  # plan decisions, dry runs, GET /v1/capacity.
]

# Version numbers longer than this are valid syntax but name no version
# that can exist; they compare as larger than any real one without being
# turned into integers (Python refuses int() of 4,300+ digits).
_MAX_DIGITS = 9

_VERSION_RE = re.compile(r'^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z')


class Version(tuple):
    """A (major, minor) pair that prints as ``X.Y``."""

    def __new__(cls, major, minor):
        return super().__new__(cls, (major, minor))

    def __str__(self):
        return '%d.%d' % self

    @classmethod
    def parse(cls, text):
        match = _VERSION_RE.match(text)
        if not match:
            return None
        return cls(*(_number(part) for part in match.groups()))


def _number(digits):
    if len(digits) > _MAX_DIGITS:
        return 10 ** _MAX_DIGITS
    return int(digits)


def _shown(text, limit=20):
    # A version echoed in an error stays short.
    return text if len(text) <= limit else text[:limit] + '...'


MIN_VERSION = Version.parse(VERSIONS[0])
MAX_VERSION = Version.parse(VERSIONS[-1])


def _requested(header_value):
    """The value given for our service type, or None.

    The header may list several services, comma separated; only ours
    matters (others are for other services behind the same proxy).
    """
    for item in header_value.split(','):
        parts = item.strip().split(None, 1)
        if parts and parts[0].lower() == SERVICE_TYPE:
            return parts[1].strip() if len(parts) > 1 else ''
    return None


def from_headers(headers):
    """The version a request asks for; APIError 400/406 when unusable."""
    value = headers.get(HEADER)
    if value is None:
        return MIN_VERSION
    requested = _requested(value)
    if requested is None:
        return MIN_VERSION
    if requested.lower() == 'latest':
        return MAX_VERSION
    version = Version.parse(requested)
    if version is None:
        raise errors.APIError(
            400, errors.VERSION_INVALID,
            'Invalid %s header %r: use "%s X.Y" (for example "%s %s") or '
            '"%s latest".' % (HEADER, _shown(value, 80), SERVICE_TYPE,
                              SERVICE_TYPE,
                              MAX_VERSION, SERVICE_TYPE))
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise errors.APIError(
            406, errors.VERSION_UNSUPPORTED,
            'Version %s is not supported; this service supports %s to %s.'
            % (_shown(requested), MIN_VERSION, MAX_VERSION),
            extra={'min_version': str(MIN_VERSION),
                   'max_version': str(MAX_VERSION)})
    return version


@functools.lru_cache(maxsize=64)
def _parsed(version):
    # Callers ask with a few constant strings, on every request.
    return Version.parse(version)


def at_least(environ, version):
    """True when the request asked for ``version`` (a string) or later."""
    served = environ.get(ENVIRON_KEY) or MIN_VERSION
    return served >= _parsed(version)


def response_headers(version):
    """Headers that tell the client which version answered."""
    return {HEADER: '%s %s' % (SERVICE_TYPE, version),
            'Vary': HEADER}
