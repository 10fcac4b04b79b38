#!/usr/bin/env bash
# Creates .venv from the lock file, or refreshes it when the lock changed.
# Every install is the same: `pip install --no-deps -r requirements.lock`
# installs exactly the pinned set, with no dependency resolution.
set -euo pipefail
VENV="${VENV:-.venv}"
stamp="$VENV/.linli-lock"
want="$(cat requirements.lock requirements-llama.txt 2>/dev/null | sha256sum | cut -c1-16)"

if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
  python="$(scripts/find_python.sh)"
  echo "==> Creating $VENV with $python"
  "$python" -m venv "$VENV"
fi
echo "==> Installing the locked dependencies into $VENV (first time: several minutes)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on \
  --no-deps -r requirements.lock
if [ -s requirements-llama.txt ]; then
  # llama-cpp-python builds from source; its build tools stay out of the venv
  # (they need a newer `packaging` than Rasa allows).
  echo "==> Building llama-cpp-python (first time: several minutes; pip caches the wheel)"
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" "$VENV/bin/python" -m pip install \
    --disable-pip-version-check --no-deps -r requirements-llama.txt
fi
echo "$want" > "$stamp"
echo "==> $VENV is ready"
