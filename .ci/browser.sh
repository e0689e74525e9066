#!/usr/bin/env bash
# Browser test: Debian's Chromium driven by pytest-playwright against a real `jupyter lab`.
# Installs Chromium when missing (Playwright's own browser download is not reachable here).
# Runs in its own pytest process: its event loop and pytest-jupyter's clash at teardown.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi

PYTHON="${PYTHON:-python}"
exec "$PYTHON" -m pytest tests/browser -m browser -p no:cacheprovider "$@"
