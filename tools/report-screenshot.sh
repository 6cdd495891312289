#!/usr/bin/env bash
# Renders an m2msim HTML report to a PNG with headless Chromium, as a reader's browser
# shows it, to look at (or attach to a review) without opening a desktop browser:
#   tools/report-screenshot.sh report.html [out.png] [WIDTHxHEIGHT]
# Default out: the report's name with .png; default size 1366x3000 (a laptop screen's
# width, tall enough for the answer and the first tables). Needs Debian's chromium
# (apt-get install chromium).
set -euo pipefail
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "usage: $0 report.html [out.png] [WIDTHxHEIGHT]" >&2
  exit 2
fi
html=$1
out=${2:-${html%.html}.png}
size=${3:-1366x3000}
[ -f "$html" ] || { echo "$0: $html: no such file" >&2; exit 2; }
[[ $size =~ ^([0-9]+)x([0-9]+)$ ]] || { echo "$0: size must be WIDTHxHEIGHT, got $size" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "$0: chromium not found; install it with: apt-get install chromium" >&2; exit 2; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --no-sandbox: Chromium's sandbox refuses to start as root (containers, CI).
"$browser" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --window-size="${BASH_REMATCH[1]},${BASH_REMATCH[2]}" \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$html")" 2>/dev/null
[ -s "$out" ] || { echo "$0: chromium wrote no screenshot" >&2; exit 1; }
echo "$out"
