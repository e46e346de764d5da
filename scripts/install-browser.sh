#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the console's browser test (playwright-core
# drives it; it never downloads a browser). Idempotent: does nothing when it is already there.
set -euo pipefail
BROWSER="${PAYGRAPH_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$BROWSER" ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
"$BROWSER" --version
