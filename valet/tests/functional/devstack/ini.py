"""Edit INI files in place, as devstack's iniset/iniadd/iniget do.

``python ini.py set FILE SECTION KEY VALUE``: set KEY (its first line in
SECTION; other lines of the same key are dropped), creating the file and
the section if needed. ``add``: one more ``KEY = VALUE`` line (multi-valued
options such as nova's available_filters). ``get``: print the first value.
Comments and the order of everything else are kept.
"""

import os
import re
import sys

_SECTION = re.compile(r'^\s*\[(?P<name>[^\]]+)\]\s*$')
_KEY = re.compile(r'^\s*(?P<key>[^#;=\s][^=]*?)\s*=\s?(?P<value>.*)$')


def _read(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().splitlines()


def _span(lines, section):
    """(start, end) of the section's body; None when it is absent."""
    start = None
    for i, line in enumerate(lines):
        match = _SECTION.match(line)
        if match and start is not None:
            return start, i
        if match and match.group('name') == section:
            start = i + 1
    return (start, len(lines)) if start is not None else None


def _keys(lines, span, key):
    return [i for i in range(*span)
            if (m := _KEY.match(lines[i])) and m.group('key') == key]


def edit(op, path, section, key, value=None):
    lines = _read(path)
    span = _span(lines, section)
    if op == 'get':
        if span:
            for i in _keys(lines, span, key):
                return _KEY.match(lines[i]).group('value')
        return ''
    if span is None:
        if lines and lines[-1].strip():
            lines.append('')
        lines.append('[%s]' % section)
        span = (len(lines), len(lines))
    found = _keys(lines, span, key)
    entry = '%s = %s' % (key, value)
    if op == 'set' and found:
        lines[found[0]] = entry
        for i in reversed(found[1:]):
            del lines[i]
    else:
        # After the section's last non-blank line.
        at = span[1]
        while at > span[0] and not lines[at - 1].strip():
            at -= 1
        lines.insert(at, entry)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return None


def main(argv):
    op, path, section, key = argv[:4]
    if op not in ('set', 'add', 'get'):
        raise SystemExit('ini.py: unknown operation %s' % op)
    result = edit(op, path, section, key, ' '.join(argv[4:]) or '')
    if result is not None:
        print(result)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
