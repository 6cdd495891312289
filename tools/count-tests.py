#!/usr/bin/env python3
"""Prints one line "N passed, N failed" for test runs: every TAP test point in the given
meson test logs (BUILD/meson-logs/testlog.json), a test without TAP points counted once,
plus a test that crashed or timed out after its last point as one more failure; and
--extra PASSED FAILED pairs for checks run outside meson (valgrind, fuzzing).
Used by tools/test.sh and .ci/run, so both count the same way."""
import json
import re
import sys


def count_log(path):
    passed = failed = 0
    for line in open(path):
        t = json.loads(line)
        out = t.get('stdout') or ''
        points = re.findall(r'^(not ok|ok)\b', out, re.M)
        ok = t.get('result') in ('OK', 'EXPECTEDFAIL', 'SKIP')
        if points:
            passed += sum(p == 'ok' for p in points)
            failed += sum(p == 'not ok' for p in points)
        else:
            passed += ok
            failed += not ok
        if not ok and points and not re.search(r'^not ok', out, re.M):
            failed += 1  # a crash or timeout after its last test point still counts
    return passed, failed


def main(argv):
    passed = failed = 0
    i = 0
    while i < len(argv):
        if argv[i] == '--extra':
            passed += int(argv[i + 1])
            failed += int(argv[i + 2])
            i += 3
            continue
        p, f = count_log(argv[i])
        passed += p
        failed += f
        i += 1
    print(f"{passed} passed, {failed} failed")


if __name__ == '__main__':
    main(sys.argv[1:])
