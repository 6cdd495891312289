#!/usr/bin/env bash
# Sourced by run.sh and test.sh: install what is missing (apt-get when root, otherwise
# print the exact apt-get line and exit 2), then configure and build into $BUILD
# (default build/). M2M_WERROR=1 turns warnings into errors; M2M_MESON_ARGS adds options.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$top/build}

# Packages: build tools and libraries, then what tests and plots use at run time.
m2m_packages=(meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev libsqlite3-dev
  libyaml-dev libssl-dev gnuplot-nox sqlite3 ${M2M_EXTRA_PACKAGES:-})

m2m_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "m2msim needs packages that are not installed; as root run:" >&2
    echo "  apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; }
}

m2m_build() {
  local args=(${M2M_MESON_ARGS:-})
  [ "${M2M_WERROR:-0}" = 1 ] && args+=(-Dwerror=true)
  if [ ! -f "$BUILD/build.ninja" ]; then
    meson setup "$BUILD" "$top" "${args[@]}" >/dev/null
  elif [ ${#args[@]} -gt 0 ]; then
    meson configure "$BUILD" "${args[@]}" >/dev/null
  fi
  ninja -C "$BUILD" >/dev/null || ninja -C "$BUILD"
}

m2m_install "${m2m_packages[@]}"
