#!/usr/bin/env bash
# Builds wheelhouse/: a wheel for every package Linli installs, so that a site without
# internet access installs with `pip install --no-index --find-links wheelhouse` (docs/deploy.md):
#   * every line of requirements.lock (downloaded; the few published only as source are built),
#   * pip itself at the version scripts/setup_venv.sh installs,
#   * llama-cpp-python, compiled once per machine by scripts/setup_venv.sh (its wheel cache,
#     same key: the CMAKE_ARGS flags), built here the same way if that cache is empty.
# Also copies the two requirement files and writes SHA256SUMS (`sha256sum -c SHA256SUMS`).
# Run it on a machine with internet access and the site's OS family, CPU architecture and
# Python (3.10, what .venv was made with): wheels of compiled packages are platform-specific.
# Idempotent: wheels already in the folder are reused. Several GB (torch with its CUDA
# libraries is most of it). WHEELHOUSE=dir picks another folder.
set -euo pipefail
VENV="${VENV:-.venv}"
OUT="${WHEELHOUSE:-wheelhouse}"
PIP_VERSION="24.0"   # as scripts/setup_venv.sh
py="$VENV/bin/python"
if [ ! -x "$py" ]; then
  echo "No $VENV: run \`make venv\` first (the wheels must match its Python)" >&2
  exit 1
fi
mkdir -p "$OUT"
pip=("$py" -m pip --disable-pip-version-check)

echo "==> Wheels for requirements.lock and pip==$PIP_VERSION into $OUT/"
# --find-links "$OUT": a wheel already there is used instead of downloading it again.
"${pip[@]}" wheel --no-deps --find-links "$OUT" --wheel-dir "$OUT" -r requirements.lock "pip==$PIP_VERSION"

if [ -s requirements-llama.txt ]; then
  # The same flags and cache as scripts/setup_venv.sh (keep the two in step).
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}"
  wheels="${LINLI_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/linli/wheels}/$(printf '%s' "$CMAKE_ARGS" | sha256sum | cut -c1-12)"
  if ! ls "$wheels"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "==> Building llama-cpp-python (10-25 minutes on 2 cores; once per machine)"
    mkdir -p "$wheels"
    "${pip[@]}" wheel --no-deps --no-cache-dir -w "$wheels" -r requirements-llama.txt
  fi
  echo "==> llama-cpp-python from $wheels (CMAKE_ARGS=$CMAKE_ARGS)"
  cp -f "$wheels"/llama_cpp_python-*.whl "$OUT"/
fi

cp -f requirements.lock requirements-llama.txt "$OUT"/
# Every pinned package must have its wheel: a missing one would only show on the site.
"$py" - "$OUT" <<'EOF'
import sys
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

out = Path(sys.argv[1])
have = set()
for wheel in out.glob("*.whl"):
    name, version = wheel.name.split("-")[:2]
    have.add((canonicalize_name(name), Version(version)))
missing = []
for path in ("requirements.lock", "requirements-llama.txt"):
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            if (canonicalize_name(name), Version(version.strip())) not in have:
                missing.append(line)
if missing:
    sys.exit("wheelhouse: no wheel for " + ", ".join(missing))
print(f"==> {len(have)} wheels; every pinned package has one")
EOF
(cd "$OUT" && sha256sum -- *.whl requirements.lock requirements-llama.txt > SHA256SUMS)
du -sh "$OUT" | awk '{print "==> " $2 ": " $1}'
cat <<EOF
==> Copy $OUT/ and the Linli checkout to the site, then there:
    sha256sum -c SHA256SUMS            (inside $OUT/)
    python3.10 -m venv .venv
    .venv/bin/pip install --no-index --find-links $OUT pip==$PIP_VERSION
    .venv/bin/pip install --no-index --find-links $OUT --no-deps -r requirements.lock -r requirements-llama.txt
EOF
