"""A real Glance image service for the functional compute cloud.

Glance lives in a virtualenv of its own (``tools/install-glance.sh``;
``$VALET_GLANCE_VENV``, default ``.tox/glance``). The fixture serves it
under uwsgi on a free loopback port with a file store, a SQLite catalogue
(Glance is read by nova-api once per boot; one writer is plenty) and the
shipped paste pipeline without authentication (the ``glance-api`` flavor:
the compute cloud's Nova runs without Keystone too). Its policy file lets
anyone publicize an image, so ``create_image`` can make a public one;
Glance's default policy keeps that to admins of Keystone-backed clouds.
"""

import os
import shutil
import subprocess
import tempfile
import time

import fixtures
import requests

from valet.tests.functional import processes
from valet.tests.functional import services

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                     '..'))

_CONF = """[DEFAULT]
log_file = {tmp}/glance.log
enabled_backends = fs:file
workers = 1
[database]
connection = sqlite:///{tmp}/glance.sqlite
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = {tmp}/images
[os_glance_staging_store]
filesystem_store_datadir = {tmp}/staging
[os_glance_tasks_store]
filesystem_store_datadir = {tmp}/tasks
[paste_deploy]
config_file = {tmp}/glance-api-paste.ini
[oslo_policy]
policy_file = {tmp}/policy.yaml
enforce_new_defaults = False
enforce_scope = False
"""


def glance_venv():
    return os.environ.get('VALET_GLANCE_VENV',
                          os.path.join(_REPO, '.tox', 'glance'))


def require_glance():
    """Skip (fail in CI) unless Glance and uwsgi are installed."""
    venv = glance_venv()
    for tool in ('glance-manage', 'uwsgi'):
        if not os.path.exists(os.path.join(venv, 'bin', tool)):
            services.unavailable(
                'Glance is not installed in %s; run tools/install-glance.sh '
                '%s (or set VALET_GLANCE_VENV)' % (venv, venv))


class GlanceFixture(fixtures.Fixture):
    """Start Glance; ``url`` is its endpoint, ``image_id`` a public image.

    ``base_dir``: put the files there (a fresh temporary directory
    otherwise, removed at cleanup).
    """

    def __init__(self, base_dir=None, preexec_fn=None):
        super().__init__()
        self.base_dir = base_dir
        self.preexec_fn = preexec_fn

    def _setUp(self):
        require_glance()
        venv = glance_venv()
        if self.base_dir:
            self.tmp = self.base_dir
            os.makedirs(self.tmp, exist_ok=True)
        else:
            self.tmp = tempfile.mkdtemp(prefix='valet-glance-')
            self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        for sub in ('images', 'staging', 'tasks'):
            os.makedirs(os.path.join(self.tmp, sub), exist_ok=True)
        with open(os.path.join(self.tmp, 'glance-api.conf'), 'w') as f:
            f.write(_CONF.format(tmp=self.tmp))
        shutil.copy(os.path.join(venv, 'etc', 'glance',
                                 'glance-api-paste.ini'), self.tmp)
        with open(os.path.join(self.tmp, 'policy.yaml'), 'w') as f:
            f.write('"publicize_image": "@"\n')
        result = subprocess.run(
            [os.path.join(venv, 'bin', 'glance-manage'), '--config-file',
             os.path.join(self.tmp, 'glance-api.conf'), 'db_sync'],
            capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError('glance-manage db_sync failed: %s'
                               % result.stderr[-2000:])
        self.port = processes.free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.log_path = os.path.join(self.tmp, 'glance-uwsgi.log')
        log = open(self.log_path, 'w')
        self.addCleanup(log.close)
        self.process = subprocess.Popen(
            [os.path.join(venv, 'bin', 'uwsgi'),
             '--http11-socket', '127.0.0.1:%d' % self.port,
             '--module', 'glance.wsgi.api:application',
             '--master', '--processes', '1', '--threads', '4',
             '--die-on-term', '--need-app', '--skip-atexit-teardown'],
            env=dict(os.environ, OS_GLANCE_CONFIG_DIR=self.tmp),
            stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=self.preexec_fn)
        self.addCleanup(processes.stop, self.process)
        self._wait_ready()
        self.image_id = self.create_image('valet-tiny')

    def _wait_ready(self, seconds=90):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('Glance exited; see %s' % self.log_path)
            try:
                if requests.get(self.url + '/v2/images',
                                timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError('Glance did not answer within %ss; see %s' % (
            seconds, self.log_path))

    def create_image(self, name, size=1024):
        """A public raw image of ``size`` zero bytes; returns its id."""
        resp = requests.post(self.url + '/v2/images', timeout=30, json={
            'name': name, 'disk_format': 'raw', 'container_format': 'bare',
            'visibility': 'public'})
        resp.raise_for_status()
        image_id = resp.json()['id']
        resp = requests.put(
            '%s/v2/images/%s/file' % (self.url, image_id), data=b'\0' * size,
            headers={'Content-Type': 'application/octet-stream'}, timeout=60)
        resp.raise_for_status()
        return image_id
