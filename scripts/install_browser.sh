#!/usr/bin/env bash
# Installs headless Chromium for the web widget test (tests/channels/test_widget.py)
# when it is missing. Debian/Ubuntu packages: chromium chromium-driver. Idempotent.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  echo "==> Chromium already installed: $(command -v chromium || command -v chromium-browser)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "==> Installing chromium and chromium-driver (apt)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver
