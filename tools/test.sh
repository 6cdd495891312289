#!/usr/bin/env bash
# Install what is missing, build into build/, run the whole test suite (meson test) and
# end with one line "N passed, N failed" counting every TAP test point.
# Extra arguments go to `meson test` (e.g. a suite or test name).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The tests cross-check against an independent MILENAGE (osmo-auc-gen), merge runs made
# through GNU parallel, and build the libosmocore peer into `bench av`.
M2M_EXTRA_PACKAGES="libosmocore-utils libosmocore-dev parallel"
source "$here/setup.sh"
m2m_build
status=0
meson test -C "$BUILD" --print-errorlogs --num-processes "${M2M_TEST_JOBS:-2}" "$@" || status=$?
python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, re, sys
passed = failed = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    points = re.findall(r'^(not ok|ok)\b', t.get('stdout') or '', re.M)
    if points:
        passed += sum(p == 'ok' for p in points)
        failed += sum(p == 'not ok' for p in points)
    else:
        ok = t.get('result') in ('OK', 'EXPECTEDFAIL', 'SKIP')
        passed += ok
        failed += not ok
    if t.get('result') not in ('OK', 'EXPECTEDFAIL', 'SKIP') and not re.search(r'^not ok', t.get('stdout') or '', re.M):
        failed += 1  # a crash or timeout after its last test point still counts
print(f"{passed} passed, {failed} failed")
PY
exit $status
