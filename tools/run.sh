#!/usr/bin/env bash
# Install what is missing, build into build/, and run the quickstart scenario.
# Extra arguments go to `m2msim run` (e.g. --seed 7 -o results/mine.db).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/setup.sh"
m2m_build
exec "$BUILD/tools/m2msim" run "$top/scenarios/quickstart.yaml" "$@"
