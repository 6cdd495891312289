#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer harnesses (tests/fuzz/fuzz-*.c) with clang, AddressSanitizer
# and UBSan into build-fuzz/ and runs each for SECONDS (default 60), one after another.
#   tools/fuzz.sh [SECONDS] [HARNESS...]      e.g. tools/fuzz.sh 600 scenario
# Seeds: tests/fuzz/NAME/ (plus scenarios/ and tests/bad-scenarios/ for the YAML
# harnesses); what the fuzzer learns goes to build-fuzz/corpus/NAME/, never into the tree.
# A crash leaves build-fuzz/crashes/NAME-crash-*: reproduce it with
#   build-fuzz/tests/fuzz/fuzz-NAME FILE
# then fix the bug, and copy FILE into tests/fuzz/NAME/ so the replay test fuzz-NAME
# keeps it fixed. M2M_FUZZ_SEED=N fixes libFuzzer's seed (CI does, so its verdict repeats
# on a rerun; left unset, every run explores afresh). Ends with one line "N passed, N
# failed" (one point per harness) and exits 1 if any harness failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
seconds=${1:-60}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(scenario set aka results cert csv)
case $seconds in '' | *[!0-9]*)
  echo "usage: tools/fuzz.sh [SECONDS] [HARNESS...]" >&2; exit 2 ;;
esac

# libFuzzer ships with clang's runtime libraries; only fuzzing needs them.
M2M_EXTRA_PACKAGES="clang-14 libclang-rt-14-dev"
export BUILD=${FUZZ_BUILD:-$top/build-fuzz}
source "$here/setup.sh"
export CC=${CC:-clang-14}
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" "$top" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Db_lto=false \
    -Dlibosmocore=disabled >/dev/null
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("tests/fuzz/fuzz-$h"); done
ninja -C "$BUILD" "${targets[@]}" >/dev/null || ninja -C "$BUILD" "${targets[@]}"

# handle_sigtrap: g_error() stops with SIGTRAP, which libFuzzer does not catch by itself;
# through ASan it is a crash like any other, with its input written to crashes/.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1:handle_sigtrap=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}
passed=0 failed=0
for h in "${harnesses[@]}"; do
  corpus="$BUILD/corpus/$h"
  mkdir -p "$corpus" "$BUILD/crashes"
  seeds=("$top/tests/fuzz/$h")
  case $h in scenario) seeds+=("$top/scenarios" "$top/tests/bad-scenarios" "$top/tests/good-scenarios") ;; esac
  dict=()
  case $h in scenario | set) dict=(-dict="$top/tests/fuzz/scenario.dict") ;; esac
  echo "fuzz-$h: ${seconds}s" >&2
  log="$BUILD/fuzz-$h.log"
  if "$BUILD/tests/fuzz/fuzz-$h" "$corpus" "${seeds[@]}" "${dict[@]}" \
      ${M2M_FUZZ_SEED:+-seed="$M2M_FUZZ_SEED"} \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$BUILD/crashes/$h-" -print_final_stats=1 >"$log" 2>&1; then
    passed=$((passed + 1))
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | tr '\n' ' ' >&2
    echo >&2
  else
    failed=$((failed + 1))
    echo "fuzz-$h FAILED (full log: $log):" >&2
    grep -E -A30 '^==[0-9]+==ERROR|runtime error|^\*\*|deadly signal|Test unit written' "$log" |
      head -60 >&2 || tail -40 "$log" >&2
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
