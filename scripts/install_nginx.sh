#!/usr/bin/env bash
# Installs nginx for the reverse-proxy test (tests/security/test_nginx.py, which runs
# deploy/nginx/linli.conf in a real nginx) when it is missing. Debian/Ubuntu: nginx-light
# or nginx. Idempotent; the test starts its own nginx on free ports (no service is enabled).
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  echo "==> nginx already installed: $(command -v nginx || echo /usr/sbin/nginx)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "==> Installing nginx (apt)"
$SUDO apt-get update -qq
# policy-rc.d keeps the package from starting a system nginx on port 80.
DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends nginx
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now nginx >/dev/null 2>&1 || true; fi
$SUDO service nginx stop >/dev/null 2>&1 || true
