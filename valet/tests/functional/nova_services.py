"""Nova's services for the functional compute cloud: config and processes.

``NovaServices`` writes the nova.conf files and runs nova-api (uwsgi),
nova-conductor, nova-scheduler and the nova-compute services of
``compute_cloud.ComputeCloud``. Every process runs from the OpenStack
venv (``tools/install-openstack.sh``) with ``workers = 1`` and logs to a
file of its own in the cloud's directory.

Configuration comes in layers, as an operator's would:

* ``nova.conf``: what every service shares (bus, notifications, Placement,
  Glance, the Neutron stand-in, the fake virt driver);
* ``nova-db.conf``: the API and cell databases, read by nova-api,
  nova-conductor and nova-scheduler only (a compute has no DB access);
* ``scheduler.conf``: the filters and the ``[valet]`` group of the filter,
  rewritten by ``configure_scheduler`` (which restarts the scheduler);
* ``<host>.conf``: a compute's ``host``, state and lock directories.
"""

import json
import os
import shutil
import subprocess
import time

from valet.tests.functional import processes

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.abspath(os.path.join(_HERE, '..', '..', '..'))

FILTER_CLASS = 'valet.plugins.nova.valet_filter.ValetFilter'
NOVA_FILTERS = ('ComputeFilter', 'ComputeCapabilitiesFilter',
                'ImagePropertiesFilter')

_NOVA_CONF = """[DEFAULT]
state_path = {tmp}/state
transport_url = {transport_url}
compute_driver = fake.MediumFakeDriver
rpc_response_timeout = 60
# One scheduler process decides; nobody discovers hosts behind the tests.
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = -1
# Tests and benchmarks boot more servers per project than the defaults.
[quota]
instances = -1
cores = -1
ram = -1
[notifications]
notification_format = versioned
[oslo_messaging_notifications]
driver = messagingv2
transport_url = {transport_url}
[oslo_concurrency]
lock_path = {tmp}/locks
[placement]
auth_type = admin_token
endpoint = {placement}
token = admin
[glance]
endpoint_override = {glance}
[neutron]
auth_type = admin_token
endpoint = {neutron}
token = admin
endpoint_override = {neutron}
[wsgi]
api_paste_config = {tmp}/api-paste.ini
[vnc]
enabled = False
"""

_DB_CONF = """[api_database]
connection = {api}
[database]
connection = {cell1}
"""

_COMPUTE_CONF = """[DEFAULT]
host = {host}
log_file = {tmp}/logs/nova-compute-{host}.log
state_path = {tmp}/state/{host}
instances_path = {tmp}/state/{host}/instances
[oslo_concurrency]
lock_path = {tmp}/locks/{host}
"""


def render(sections):
    lines = []
    for section, options in sections.items():
        lines.append('[%s]' % section)
        lines += ['%s = %s' % item for item in options.items()]
    return '\n'.join(lines) + '\n'


def filter_available():
    """True when the tree ships the Valet filter (and its client)."""
    plugin = os.path.join(_REPO, 'valet', 'plugins', 'nova',
                          'valet_filter.py')
    return (os.path.exists(plugin)
            and os.path.isdir(os.path.join(_REPO, 'valet', 'client')))


class NovaError(RuntimeError):
    pass


class NovaServices:
    """Nova's processes, started and stopped through ``procs``.

    ``procs`` is a ``compute_cloud.ProcessGroup``; ``venv`` the OpenStack
    venv; ``tmp`` the cloud's directory.
    """

    def __init__(self, procs, venv, tmp):
        self.procs = procs
        self.venv = venv
        self.tmp = tmp
        self.computes = []
        self.scheduler_options = None

    def bin(self, name):
        return os.path.join(self.venv, 'bin', name)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    # -- configuration ----------------------------------------------------

    def write_config(self, transport_url, placement, glance, neutron,
                     api_db, cell0_db, cell1_db, keystone_authtoken=None):
        """``keystone_authtoken``: options of that section; with them
        nova-api validates real Keystone tokens (a user's, or Heat's on a
        user's behalf) besides the noauth ones."""
        for sub in ('state', 'locks', 'plugins'):
            os.makedirs(self.path(sub), exist_ok=True)
        self.transport_url = transport_url
        self.cell0_db = cell0_db
        self.cell1_db = cell1_db
        with open(self.path('nova.conf'), 'w') as f:
            f.write(_NOVA_CONF.format(
                tmp=self.tmp, transport_url=transport_url,
                placement=placement, glance=glance, neutron=neutron))
            if keystone_authtoken:
                f.write(render({'keystone_authtoken': keystone_authtoken}))
        with open(self.path('nova-db.conf'), 'w') as f:
            f.write(_DB_CONF.format(api=api_db, cell1=cell1_db))
        self._write_paste_ini(bool(keystone_authtoken))
        self._write_plugin_path()

    def _write_paste_ini(self, keystone_tokens=False):
        # nova's shipped pipeline with the noauth filter of nova_setup.py
        # (token "user[:project]") in place of keystonemiddleware.
        with open(os.path.join(self.venv, 'etc', 'nova',
                               'api-paste.ini')) as f:
            paste = f.read()
        paste = paste.replace(' authtoken keystonecontext',
                              ' noauth keystonecontext')
        paste += ('\n[filter:noauth]\npaste.filter_factory = '
                  'valet_nova_setup:noauth_filter_factory\n')
        if keystone_tokens:
            paste += 'keystone_tokens = true\n'
        with open(self.path('api-paste.ini'), 'w') as f:
            f.write(paste)
        shutil.copy(os.path.join(_HERE, 'nova_setup.py'),
                    self.path('plugins', 'valet_nova_setup.py'))

    def _write_plugin_path(self):
        """What installing Valet's client into Nova's venv would give.

        Only ``valet.client``, the group vocabulary it reads
        (``valet.objects``, standard library only) and ``valet.plugins``
        are linked in: the filter must need nothing else of Valet (the
        design's rule for plugins), and the scheduler proves it by
        importing it from here.
        """
        root = self.path('plugins', 'valet')
        os.makedirs(os.path.join(root, 'plugins'), exist_ok=True)
        for name in ('__init__.py', os.path.join('plugins', '__init__.py')):
            source = os.path.join(_REPO, 'valet', name)
            target = os.path.join(root, name)
            if os.path.exists(source):
                shutil.copy(source, target)
            else:
                open(target, 'w').close()
        for name in ('client', 'objects', os.path.join('plugins', 'nova')):
            link = os.path.join(root, name)
            if not os.path.lexists(link):
                os.symlink(os.path.join(_REPO, 'valet', name), link)

    def configs(self, *extra, db=True):
        files = [self.path('nova.conf')]
        if db:
            files.append(self.path('nova-db.conf'))
        files += list(extra)
        args = []
        for name in files:
            args += ['--config-file', name]
        return args

    def env(self, **extra):
        return dict(os.environ, OS_NOVA_DISABLE_EVENTLET_PATCHING='1',
                    PYTHONPATH=self.path('plugins'), **extra)

    # -- bootstrap ----------------------------------------------------------

    def bootstrap(self):
        """api_db sync, map_cell0, create_cell, db sync: nova-manage's
        steps, in one helper process (nova's imports cost seconds)."""
        self._helper('bootstrap', cell0=self.cell0_db, cell1=self.cell1_db,
                     transport_url=self.transport_url)

    def discover_hosts(self):
        return self._helper('discover_hosts')

    def _helper(self, cmd, **kwargs):
        conf = self.path('nova-helper.conf')
        with open(conf, 'w') as f:
            with open(self.path('nova.conf')) as base:
                f.write(base.read())
            with open(self.path('nova-db.conf')) as dbs:
                f.write(dbs.read())
            f.write('[DEFAULT]\nlog_file = %s\n'
                    % self.path('logs', 'nova-helper.log'))
        request = json.dumps(dict(kwargs, cmd=cmd)) + '\n'
        result = subprocess.run(
            [self.bin('python'), os.path.join(_HERE, 'nova_setup.py'), conf],
            input=request, capture_output=True, text=True,
            env=self.env(), timeout=600)
        lines = [json.loads(line) for line in result.stdout.splitlines()
                 if line.startswith('{')]
        replies = [line for line in lines if 'ready' not in line]
        if result.returncode or not replies or 'error' in replies[0]:
            raise NovaError('nova_setup %s failed: %s\n%s' % (
                cmd, replies, result.stderr[-3000:]))
        return replies[0]['result']

    # -- services -----------------------------------------------------------

    def start_api(self, port):
        self.api_port = port
        self.procs.spawn(
            'nova-api',
            [self.bin('uwsgi'), '--http11-socket', '127.0.0.1:%d' % port,
             '--module', 'nova.wsgi.osapi_compute:application',
             '--master', '--processes', '1', '--threads', '4',
             '--die-on-term', '--need-app', '--skip-atexit-teardown',
             # A kept-alive connection holds one of the 4 threads while
             # its client keeps polling (Heat polls each server it
             # builds): a fifth client would wait until they stop. One
             # request per connection.
             '--add-header', 'Connection: close'],
            env=self.env(OS_NOVA_CONFIG_DIR=self.tmp,
                         OS_NOVA_CONFIG_FILES=(
                             'api-paste.ini;nova.conf;nova-db.conf')))

    def start_conductor(self):
        log = self.path('logs', 'nova-conductor.log')
        self.procs.spawn('nova-conductor', [self.bin('nova-conductor')]
                         + self.configs() + ['--log-file', log],
                         env=self.env())

    def start_compute(self, host):
        conf = self.path('%s.conf' % host)
        with open(conf, 'w') as f:
            f.write(_COMPUTE_CONF.format(tmp=self.tmp, host=host))
        os.makedirs(self.path('locks', host), exist_ok=True)
        self.procs.spawn(
            'nova-compute-%s' % host,
            [self.bin('nova-compute')] + self.configs(conf, db=False),
            env=self.env(), kill=True)
        if host not in self.computes:
            self.computes.append(host)

    def configure_scheduler(self, valet_filter, valet_options=None):
        """(Re)start nova-scheduler with or without the Valet filter.

        ``valet_options``: the ``[valet]`` group (auth, endpoint_override,
        timeout, failure_mode). Returns once the scheduler consumes its
        RPC queue again.
        """
        filters = list(NOVA_FILTERS)
        sections = {'filter_scheduler': {
            'available_filters': 'nova.scheduler.filters.all_filters'}}
        text = render(sections)
        if valet_filter:
            if not filter_available():
                raise NovaError('the Valet filter is not in this tree '
                                '(valet/plugins/nova/valet_filter.py)')
            # oslo.config multi-valued option: one line per value.
            text += 'available_filters = %s\n' % FILTER_CLASS
            filters.append('ValetFilter')
        text += 'enabled_filters = %s\n' % ','.join(filters)
        if valet_options:
            text += render({'valet': valet_options})
        with open(self.path('scheduler.conf'), 'w') as f:
            f.write(text)
        self.scheduler_options = (valet_filter, dict(valet_options or {}))
        self.procs.stop('nova-scheduler')
        log = self.path('logs', 'nova-scheduler.log')
        self.procs.spawn(
            'nova-scheduler',
            [self.bin('nova-scheduler')]
            + self.configs(self.path('scheduler.conf')) + ['--log-file', log],
            env=self.env())

    def wait_log(self, name, text, seconds=120, since=0):
        """Wait until log ``name`` (under logs/) holds ``text`` after
        offset ``since``; raise with its tail if the process died."""
        path = self.path('logs', name)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with open(path, errors='replace') as f:
                    f.seek(since)
                    if text in f.read():
                        return
            except OSError:
                pass
            time.sleep(0.25)
        raise NovaError('%r not in %s within %ss:\n%s' % (
            text, name, seconds, processes_tail(path)))


def processes_tail(path, lines=30):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError as exc:
        return '(no log: %s)' % exc


# Re-exported for callers that pick ports for these services.
free_port = processes.free_port
