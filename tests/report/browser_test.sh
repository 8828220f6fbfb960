#!/usr/bin/env bash
# Opens a synthetic report in headless Chromium (see browser_check.mjs) and first proves that the
# check catches a broken page. Usage: browser_test.sh FIXTURE_EXE WORK_DIR
# Exit 77 (CTest: skipped) when chromium or node is not installed.
set -euo pipefail
fixture=$1
work=$2
here=$(cd "${BASH_SOURCE[0]%/*}" && pwd)

chromium=${BNLAB_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
node=$(command -v node || command -v nodejs || true)
if [[ -z $chromium ]]; then echo "skipped: chromium is not installed"; exit 77; fi
if [[ -z $node ]]; then echo "skipped: node is not installed"; exit 77; fi

rm -rf "$work"
mkdir -p "$work"
cat > "$work/broken.html" <<'HTML'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head>
<body><p>A page the check must reject.</p><img src="data:image/png;base64,AAAA" alt="corrupt">
<script>console.error("deliberate error");</script></body></html>
HTML
"$node" "$here/browser_check.mjs" --expect-broken "$chromium" "$work/broken.html" "$work/broken.png"

"$fixture" "$work/run" > /dev/null
"$node" "$here/browser_check.mjs" "$chromium" "$work/run/report.html" "$work/screenshot.png"
