"""The ``openstack.cli.extension`` module of Valet's OSC plugin."""

from osc_lib import utils

DEFAULT_API_VERSION = '1'
API_VERSION_OPTION = 'os_workload_placement_api_version'
API_NAME = 'workload_placement'
API_VERSIONS = {'1': 'valet.client.v1.Client'}


def make_client(instance):
    """A Valet client on the session and catalog choices of OSC."""
    from valet.client import v1

    options = instance.get_configuration()
    return v1.Client(
        instance.session,
        endpoint_override=options.get('valet_endpoint_override'),
        interface=instance.interface,
        region_name=instance.region_name,
        timeout=float(options.get('valet_timeout') or 60.0))


def build_option_parser(parser):
    parser.add_argument(
        '--os-workload-placement-api-version',
        metavar='<workload-placement-api-version>',
        default=utils.env('OS_WORKLOAD_PLACEMENT_API_VERSION',
                          default=DEFAULT_API_VERSION),
        help='Valet API version, default=%s (Env: '
             'OS_WORKLOAD_PLACEMENT_API_VERSION)' % DEFAULT_API_VERSION)
    parser.add_argument(
        '--os-valet-endpoint-override',
        metavar='<url>', dest='valet_endpoint_override',
        default=utils.env('OS_VALET_ENDPOINT_OVERRIDE'),
        help="Valet's URL instead of the catalog's workload-placement "
             'endpoint (Env: OS_VALET_ENDPOINT_OVERRIDE)')
    parser.add_argument(
        '--os-valet-timeout', metavar='<seconds>', dest='valet_timeout',
        default=utils.env('OS_VALET_TIMEOUT', default='60'),
        help='Time budget of one Valet request, in seconds '
             '(Env: OS_VALET_TIMEOUT, default 60)')
    return parser
