#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 supports 3.8-3.10 only).
# Looks at $PYTHON, python3.10 on PATH, then pyenv's versions.
set -u
is_310() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

for candidate in "${PYTHON:-}" "$(command -v python3.10 2>/dev/null)"; do
  if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
done
pyenv_root="${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}"
for candidate in $(ls -d "$pyenv_root"/versions/3.10*/bin/python 2>/dev/null | sort -V -r); do
  if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
done
cat >&2 <<'MSG'
error: Python 3.10 was not found (Rasa 3.6 runs on Python 3.8-3.10 only).
Install one, then run make again, for example:
  - pyenv:   pyenv install 3.10.13
  - Debian/Ubuntu: apt-get install python3.10 python3.10-venv  (deadsnakes PPA on Ubuntu)
  - or point PYTHON at an existing interpreter: make PYTHON=/path/to/python3.10 run
MSG
exit 1
