#!/usr/bin/env python3
"""Fills in STATUS and STDERR of tests/bad-input/cases.tsv from an m2msim binary:
   tools/bad-input.py build/tools/m2msim [CASE...]
runs every case (or the named ones) the way tests/test-bad-input.c does (in a fresh copy
of tests/bad-input/files/) and rewrites the file, keeping comments, order and ARGS. Read
the diff afterwards: every message must be right and useful. Warns about a case that
prints on stdout or changes its working directory (the test fails on both)."""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tsv = os.path.join(top, 'tests', 'bad-input', 'cases.tsv')
files = os.path.join(top, 'tests', 'bad-input', 'files')


def escape(b):
    out = []
    for ch in b.decode('utf-8', 'surrogateescape'):
        c = ord(ch)
        if ch == '\\':
            out.append('\\\\')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\t':
            out.append('\\t')
        elif 0xdc80 <= c <= 0xdcff:  # an octet that is not UTF-8
            out.append('\\%03o' % (c - 0xdc00))
        elif c < 0x20 or c == 0x7f:
            out.append('\\%03o' % c)
        else:
            out.append(ch)
    return ''.join(out)


def listing(d):
    r = {}
    for root, dirs, names in os.walk(d):
        for n in dirs + names:
            p = os.path.join(root, n)
            r[os.path.relpath(p, d)] = open(p, 'rb').read() if os.path.isfile(p) else None
    return r


def main(binary, only):
    binary = os.path.abspath(binary)
    out = []
    for line in open(tsv, encoding='utf-8'):
        fields = line.rstrip('\n').split('\t')
        if line.startswith('#') or len(fields) < 3 or (only and fields[0] not in only):
            out.append(line)
            continue
        name, args = fields[0], fields[2]
        tmp = tempfile.mkdtemp(prefix='m2m-bad-input-')
        work = os.path.join(tmp, 'w')
        shutil.copytree(files, work)
        before = listing(work)
        r = subprocess.run([binary] + shlex.split(args), cwd=work, capture_output=True,
                           timeout=120, env=dict(os.environ, LC_ALL='C', M2M_MEMORY_LIMIT='1G'))
        if r.stdout:
            print(f'{name}: prints on stdout: {r.stdout[:200]!r}', file=sys.stderr)
        if listing(work) != before:
            print(f'{name}: changes its working directory', file=sys.stderr)
        shutil.rmtree(tmp)
        out.append(f'{name}\t{r.returncode}\t{args}\t{escape(r.stderr)}\n')
    open(tsv, 'w', encoding='utf-8').write(''.join(out))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], set(sys.argv[2:]))
