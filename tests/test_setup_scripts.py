"""Setup scripts: finding Python 3.10 or saying clearly how to get it."""

import os
import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT

SCRIPT = ROOT / "scripts" / "find_python.sh"


def _run(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_finds_the_interpreter_named_by_PYTHON(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYENV_ROOT": str(tmp_path), "PYTHON": sys.executable, "HOME": str(tmp_path)}
    result = _run(env)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve() == Path(sys.executable).resolve()


def test_without_python_310_it_explains_how_to_get_one(tmp_path: Path) -> None:
    # An empty pyenv root and a PATH with no python3.10.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "ls", "sort", "cat"):
        path = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        os.symlink(path, bin_dir / tool)
    env = {"PATH": str(bin_dir), "PYENV_ROOT": str(tmp_path / "pyenv"), "HOME": str(tmp_path)}
    result = _run(env)
    assert result.returncode == 1
    assert "Python 3.10 was not found" in result.stderr and "pyenv install 3.10" in result.stderr
