"""Deployment tests with storage on Music instead of SQL.

Music cannot be installed here; the deployment stores in the Music
stand-in (``valet.tests.music_stand_in``): real server processes on
loopback sharing one SQLite file, spoken to over Music's REST API by the
``music`` storage driver of every API worker and engine.
"""

import testtools

from valet.tests.music_stand_in import fixture as stand_in
from valet.storage.music import schema


class MusicBackend:
    """Mix in before a ``DeploymentTestCase`` to deploy on Music."""

    SERVER = None           # no SQL server
    MUSIC_HOSTS = 1
    # A lock left by a killed engine is forced free after this long.
    MUSIC_OPTIONS = {'lock_lease': 3, 'lock_wait': 30}

    def deploy(self, **kwargs):
        self.music = self.useFixture(stand_in.MusicStandIn(
            hosts=self.MUSIC_HOSTS))
        self.addOnException(lambda exc_info: self.addDetail(
            'music', testtools.content.text_content(self.music.logs())))
        extra = kwargs.setdefault('extra_config', {})
        extra['storage'] = {'driver': 'music'}
        extra['music'] = self.music.conf_options(**self.MUSIC_OPTIONS)
        kwargs['connection'] = None
        return super().deploy(**kwargs)

    def stall_storage_write(self):
        """Hold every write of a plan row (the commit of a plan) in the
        stand-in until released; the claims and index rows before it go
        through, so a kill now lands in the middle of the write."""
        return StalledPlanWrite(self.music)


class StalledPlanWrite:

    def __init__(self, music):
        self.music = music
        music.fault(0, delay=120, status=503,
                    match='POST ' + music.rows_path(schema.PLANS))

    def wait_for_blocked_writer(self, seconds=30):
        return self.music.wait_for_held_request(0, seconds)

    def release(self):
        # The held request is answered 503: the dead writer's commit
        # never happens.
        self.music.clear_fault(0)
