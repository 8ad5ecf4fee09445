"""Emit Nova versioned notifications with Nova's own code.

Run with the python of a virtualenv that has the real ``nova`` package
(``tools/install-openstack.sh``); it does not import Valet. It builds
``nova.objects`` (an ``Instance`` with its ``Flavor``, a ``Service``) and
emits through Nova's own notification helpers
(``nova.compute.utils.notify_about_instance_*``,
``nova.objects.Service._send_notification``) after ``nova.config.parse_args``
and ``nova.rpc.init``, with the ``messagingv2`` driver and
``notification_format = versioned``: what goes on the wire is what a
nova-compute sends.

Usage::

    python nova_notify.py --url rabbit://... [--exchange nova]
        [--topic versioned_notifications] [--dump] [EVENTS | @FILE | -]

EVENTS is a JSON list (read from stdin when absent or ``-``). Each item::

    {"event_type": "instance.create.end",       # or "service.update", ...
     "uuid": "...", "host": "cmp1", "node": "cmp1.example",
     "state": "active", "task_state": null, "name": "web-1",
     "project": "p1", "user": "u1", "metadata": {"k": "v"},
     "flavor": {"name": "m1.small", "vcpus": 1, "memory_mb": 2048,
                "root_gb": 20, "ephemeral_gb": 0, "swap": 0,
                "extra_specs": {}},
     "new_flavor": {...},                       # resize_prep only
     "boot_volume": "<volume uuid>",            # booted from a volume
     "source": "nova-compute", "publisher": "cmp1",
     "repeat": 1}

    {"event_type": "service.update", "host": "cmp1",
     "binary": "nova-compute", "disabled": true, "forced_down": false,
     "disabled_reason": "maintenance", "availability_zone": "nova"}

A ``.error`` phase is emitted with a fault, at ERROR priority, as Nova
does. Prints ``{"emitted": N, "seconds": S}``; with ``--dump`` nothing is
sent and the messages are printed instead, as a JSON list of
``{message_id, publisher_id, event_type, priority, payload, timestamp}``.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import uuid as uuidlib
import warnings

# Nova pulls in eventlet and oslo.service, which warn on import.
warnings.simplefilter('ignore')

import nova.conf  # noqa: E402
from nova.compute import utils as compute_utils  # noqa: E402
from nova import config as nova_config  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova.network import model as network_model  # noqa: E402
from nova import objects  # noqa: E402
from nova import rpc  # noqa: E402
from oslo_utils import timeutils  # noqa: E402

CONF = nova.conf.CONF
PHASES = ('start', 'end', 'error', 'progress')


def _configure(url, exchange, topic, dump):
    """Nova's own configuration and RPC/notifier setup."""
    lines = [
        '[DEFAULT]',
        'transport_url = %s' % ('fake:/' if dump else url),
        'control_exchange = %s' % exchange,
        '[oslo_messaging_notifications]',
        'driver = %s' % ('test' if dump else 'messagingv2'),
        '[notifications]',
        'notification_format = versioned',
        'versioned_notifications_topics = %s' % topic,
        'bdms_in_notifications = false',
    ]
    with tempfile.NamedTemporaryFile('w', suffix='.conf',
                                     delete=False) as handle:
        handle.write('\n'.join(lines) + '\n')
    try:
        nova_config.parse_args(['nova_notify', '--config-file', handle.name],
                               configure_db=False, init_rpc=True)
    finally:
        os.unlink(handle.name)
    objects.register_all()


def _flavor(spec):
    spec = spec or {}
    return objects.Flavor(
        id=int(spec.get('id', 1)),
        flavorid=str(spec.get('flavorid', spec.get('name', 'm1.small'))),
        name=spec.get('name', 'm1.small'),
        vcpus=spec.get('vcpus', 1), memory_mb=spec.get('memory_mb', 512),
        root_gb=spec.get('root_gb', 1),
        ephemeral_gb=spec.get('ephemeral_gb', 0),
        swap=spec.get('swap', 0), rxtx_factor=1.0, vcpu_weight=None,
        disabled=False, is_public=True,
        extra_specs=dict(spec.get('extra_specs') or {}), description=None)


def _instance(ctxt, spec):
    uuid = spec.get('uuid') or str(uuidlib.uuid4())
    now = timeutils.utcnow()
    return objects.Instance(
        context=ctxt, id=int(uuidlib.UUID(uuid)) % (2 ** 31), uuid=uuid,
        user_id=spec.get('user', 'user'),
        project_id=spec.get('project', 'project'),
        display_name=spec.get('name', 'server'), display_description='',
        hostname=spec.get('name', 'server'), host=spec.get('host'),
        node=spec.get('node'), launch_index=0,
        vm_state=spec.get('state', 'active'),
        task_state=spec.get('task_state'),
        power_state=spec.get('power_state', 1),
        flavor=_flavor(spec.get('flavor')),
        metadata=dict(spec.get('metadata') or {}), system_metadata={},
        info_cache=objects.InstanceInfoCache(
            network_info=network_model.NetworkInfo([])),
        keypairs=objects.KeyPairList(objects=[]),
        tags=objects.TagList(objects=[]), trusted_certs=None,
        locked=False, locked_by=None, auto_disk_config=False,
        availability_zone=spec.get('availability_zone', 'nova'),
        image_ref=spec.get('image', str(uuidlib.uuid4())),
        kernel_id='', ramdisk_id='', key_name=None, os_type=None,
        architecture=None, progress=0, reservation_id='r-valet',
        created_at=now, launched_at=now, updated_at=now,
        terminated_at=None, deleted_at=None)


def _bdms(ctxt, spec):
    if not spec.get('boot_volume'):
        return None
    bdm = objects.BlockDeviceMapping(
        context=ctxt, volume_id=spec['boot_volume'], boot_index=0,
        device_name='/dev/vda', delete_on_termination=False, tag=None,
        source_type='volume', destination_type='volume')
    return objects.BlockDeviceMappingList(objects=[bdm])


def _split(event_type):
    parts = event_type.split('.')
    phase = parts.pop() if parts[-1] in PHASES else None
    if len(parts) != 2:
        raise SystemExit('cannot emit %r' % event_type)
    return parts[0], parts[1], phase


def _failure():
    # Nova reports where an exception was raised: it needs a traceback.
    try:
        raise RuntimeError('failed on purpose')
    except RuntimeError as exc:
        return exc


def _emit_instance(ctxt, spec, action, phase):
    instance = _instance(ctxt, spec)
    host = spec.get('publisher') or spec.get('host') or 'compute'
    source = spec.get('source', 'nova-compute')
    error = _failure() if phase == 'error' else None
    bdms = _bdms(ctxt, spec)
    if action == 'create':
        compute_utils.notify_about_instance_create(
            ctxt, instance, host, phase=phase, exception=error, bdms=bdms)
    elif action == 'rebuild':
        compute_utils.notify_about_instance_rebuild(
            ctxt, instance, host, phase=phase, source=source,
            exception=error, bdms=bdms)
    elif action == 'resize_prep':
        compute_utils.notify_about_resize_prep_instance(
            ctxt, instance, host, phase,
            _flavor(spec.get('new_flavor') or spec.get('flavor')))
    else:
        compute_utils.notify_about_instance_action(
            ctxt, instance, host, action=action, phase=phase, source=source,
            exception=error, bdms=bdms)


def _emit_service(ctxt, spec, action):
    service = objects.Service(
        context=ctxt, id=1, uuid=spec.get('uuid') or str(uuidlib.uuid4()),
        host=spec.get('host'), binary=spec.get('binary', 'nova-compute'),
        topic=spec.get('topic', 'compute'), report_count=1,
        disabled=bool(spec.get('disabled', False)),
        disabled_reason=spec.get('disabled_reason'),
        availability_zone=spec.get('availability_zone', 'nova'),
        last_seen_up=timeutils.utcnow(),
        forced_down=bool(spec.get('forced_down', False)))
    # What Service.create(), save() and destroy() call after their
    # database write.
    service._send_notification(action)


def emit(specs):
    ctxt = nova_context.RequestContext(user_id='valet-test',
                                       project_id='valet-test')
    count = 0
    for spec in specs:
        obj, action, phase = _split(spec['event_type'])
        for _ in range(int(spec.get('repeat', 1))):
            if obj == 'instance':
                _emit_instance(ctxt, spec, action, phase)
            elif obj == 'service':
                _emit_service(ctxt, spec, action)
            else:
                raise SystemExit('cannot emit %r' % spec['event_type'])
            count += 1
    return count


def _read_events(arg):
    if arg in (None, '-'):
        return json.load(sys.stdin)
    if arg.startswith('@'):
        with open(arg[1:]) as handle:
            return json.load(handle)
    return json.loads(arg)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('events', nargs='?')
    parser.add_argument('--url', help='transport URL (RabbitMQ)')
    parser.add_argument('--exchange', default='nova')
    parser.add_argument('--topic', default='versioned_notifications')
    parser.add_argument('--dump', action='store_true',
                        help='print the messages instead of sending them')
    args = parser.parse_args(argv)
    if not args.dump and not args.url:
        parser.error('--url is required unless --dump is given')
    specs = _read_events(args.events)
    _configure(args.url, args.exchange, args.topic, args.dump)
    started = time.monotonic()
    try:
        count = emit(specs)
        if args.dump:
            from oslo_messaging.notify import _impl_test
            json.dump([message for _ctxt, message, _prio, _retry
                       in _impl_test.NOTIFICATIONS],
                      sys.stdout, indent=1, sort_keys=True, default=str)
            sys.stdout.write('\n')
            return 0
    finally:
        # Closes the connection once every message is written.
        rpc.cleanup()
    json.dump({'emitted': count,
               'seconds': round(time.monotonic() - started, 3)}, sys.stdout)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
