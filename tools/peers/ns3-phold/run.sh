#!/bin/bash
# PHOLD-style hold benchmark on ns-3's event schedulers (Debian libns3-dev), the peer that
# `m2msim bench engine` is compared with. K events pending; each executed event schedules
# one new event after an Exp(1) delay; stops after N events. Prints one line per scheduler.
# Usage: run.sh [N] [K] [SCHEDULER...]   (defaults: 10000000 10000, Map + PriorityQueue)
# The team's peer benchmark, kept in the project so every ratio the README cites can be
# rerun from the repository alone; the peer binary is built in $TMPDIR, never committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-10000000} k=${2:-10000}
shift $(( $# > 2 ? 2 : $# ))
scheds=("$@")
[ ${#scheds[@]} -gt 0 ] || scheds=(ns3::MapScheduler ns3::PriorityQueueScheduler)
if [ ! -e /usr/include/ns3.37/ns3/core-module.h ] && [ ! -e /usr/include/ns3/core-module.h ]; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq libns3-dev >/dev/null; else
    echo "needs: apt-get install libns3-dev" >&2; exit 2; fi
fi
out=${TMPDIR:-/tmp}/ns3-phold
[ -x "$out" ] && [ "$out" -nt "$here/phold.cc" ] || \
  g++ -O2 -std=c++17 $(pkg-config --cflags libns3.37-core 2>/dev/null || echo -I/usr/include) \
      "$here/phold.cc" -o "$out" $(pkg-config --libs libns3.37-core 2>/dev/null || echo -lns3-core)
for s in "${scheds[@]}"; do "$out" --sched="$s" --n="$n" --k="$k" --rng=fast; done
