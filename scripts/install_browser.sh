#!/usr/bin/env bash
# Installs headless Chromium for the browser tests (widget, desk) and the fonts it needs to
# render Chinese (without them screenshots show boxes) when they are missing.
# Debian/Ubuntu packages: chromium chromium-driver fonts-noto-cjk. Idempotent.
set -euo pipefail
missing=()
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  missing+=(chromium chromium-driver)
fi
if ! dpkg -s fonts-noto-cjk >/dev/null 2>&1 && ! (command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh | grep -q .); then
  missing+=(fonts-noto-cjk)
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "==> Chromium and CJK fonts already installed: $(command -v chromium || command -v chromium-browser)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "==> Installing ${missing[*]} (apt)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
