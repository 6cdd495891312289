#!/usr/bin/env bash
# Install what is missing, build into build/, run the whole test suite (meson test) and
# end with one line "N passed, N failed" counting every TAP test point.
# Extra arguments go to `meson test` (e.g. a suite or test name).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The tests cross-check against an independent MILENAGE (osmo-auc-gen), merge runs made
# through GNU parallel, build the libosmocore peer into `bench av`, and check the HTML
# report in a real browser (headless Chromium), and submit sweeps to a one-node Slurm and to
# GNU parallel over a loopback sshd (tests/test-scaleout.sh).
M2M_EXTRA_PACKAGES="libosmocore-utils libosmocore-dev parallel chromium slurmctld slurmd
  slurm-client openssh-server openssh-client"
source "$here/setup.sh"
m2m_build
status=0
meson test -C "$BUILD" --print-errorlogs --num-processes "${M2M_TEST_JOBS:-2}" "$@" || status=$?
# The count lives in count-tests.py, shared with .ci/run; M2M_NO_SUMMARY=1 leaves the final
# line to a caller that adds several runs up (BUILD=... picks the build directory).
[ "${M2M_NO_SUMMARY:-0}" = 1 ] || python3 "$here/count-tests.py" "$BUILD/meson-logs/testlog.json"
exit $status
