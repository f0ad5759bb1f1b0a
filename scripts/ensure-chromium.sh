#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed at /usr/bin/chromium for the browser tests (`pnpm test:browser`).
# The tests drive it with playwright-core; no browser is ever downloaded by Playwright.
# Usage: scripts/ensure-chromium.sh   (needs root or sudo when Chromium is missing)
set -euo pipefail

chromium_path=${QAQ_CHROMIUM_PATH:-/usr/bin/chromium}
if [ -x "$chromium_path" ]; then
  echo "chromium present: $("$chromium_path" --version 2>/dev/null | tail -n 1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: $chromium_path is missing and apt-get is not available; install Chromium and set QAQ_CHROMIUM_PATH" >&2
  exit 1
fi

run_as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then run_as_root=(sudo); else
    echo "error: installing Chromium needs root (apt-get install -y chromium)" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
"${run_as_root[@]}" apt-get update
"${run_as_root[@]}" apt-get install -y --no-install-recommends chromium fonts-liberation
echo "chromium installed: $("$chromium_path" --version 2>/dev/null | tail -n 1)"
