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
  # llama-cpp-python builds from source (with build isolation: its build tools need a
  # newer `packaging` than Rasa allows). Portable AVX2 flags: the native build's
  # AVX-512/AMX paths crashed on some VMs. The wheel is kept in a cache keyed by the
  # flags, so the long compile happens once per machine.
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}"
  wheels="${LINLI_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/linli/wheels}/$(printf '%s' "$CMAKE_ARGS" | sha256sum | cut -c1-12)"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "==> Building llama-cpp-python once for this machine (10-25 minutes on 2 cores)"
    mkdir -p "$wheels"
    "$VENV/bin/python" -m pip wheel --disable-pip-version-check --no-deps --no-cache-dir \
      -w "$wheels" -r requirements-llama.txt
  fi
  "$VENV/bin/python" -m pip install --disable-pip-version-check --no-deps --force-reinstall \
    --no-index --find-links "$wheels" -r requirements-llama.txt
fi
echo "$want" > "$stamp"
echo "==> $VENV is ready"
