"""deploy/systemd: the unit files parse (systemd-analyze verify when systemd is installed) and
say what docs/deploy.md relies on: instances by port, one environment file, restart on
failure, started only once ready, hardened, grouped under linli.target."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

from tests.servers import ROOT

UNITS = ROOT / "deploy" / "systemd"
TEMPLATES = {"linli-server@.service": "bot.server", "linli-actions@.service": "bot.action_server"}
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
             "ReadWritePaths": "/opt/linli/var", "CapabilityBoundingSet": "", "RestrictNamespaces": "yes",
             "User": "linli", "Group": "linli", "UMask": "0027"}


def parse(path: Path) -> Dict[str, Dict[str, List[str]]]:
    """``{section: {key: [values]}}`` of a unit file; fails on anything systemd would not read."""
    sections: Dict[str, Dict[str, List[str]]] = {}
    current = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        header = re.fullmatch(r"\[([A-Za-z]+)\]", line.strip())
        if header:
            current = sections.setdefault(header.group(1), {})
            continue
        match = re.fullmatch(r"([A-Za-z][A-Za-z0-9]*)=(.*)", line)
        assert current is not None and match, f"{path.name}:{number}: not a key=value line in a section: {line!r}"
        current.setdefault(match.group(1), []).append(match.group(2).strip())
    return sections


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_instances_by_port_from_one_environment_file(name: str) -> None:
    unit = parse(UNITS / name)
    service = unit["Service"]
    module = TEMPLATES[name]
    assert (ROOT / (module.replace(".", "/") + ".py")).exists()
    [start] = service["ExecStart"]
    assert start.startswith(f"/opt/linli/.venv/bin/python -m {module} ") and "--port %i" in start
    if module == "bot.server":
        endpoints = re.search(r"--endpoints (\S+)", start).group(1)
        assert (ROOT / endpoints).exists(), endpoints
    assert service["EnvironmentFile"] == ["/etc/linli/linli.env"]
    assert service["WorkingDirectory"] == ["/opt/linli"]
    assert service["Restart"] == ["on-failure"] and service["Type"] == ["simple"]
    [ready] = service["ExecStartPost"]
    assert ready.startswith("/usr/bin/curl ") and "--fail" in ready and ready.endswith("http://${LINLI_HOST}:%i/ready")
    for key, value in HARDENING.items():
        assert service.get(key) == [value], key
    assert "MemoryDenyWriteExecute" not in service  # TensorFlow/PyTorch JIT (see the comment)
    assert unit["Unit"]["PartOf"] == ["linli.target"] and unit["Install"]["WantedBy"] == ["linli.target"]
    assert "network-online.target" in unit["Unit"]["After"][0]


def test_the_target_groups_them() -> None:
    target = parse(UNITS / "linli.target")
    assert target["Install"]["WantedBy"] == ["multi-user.target"]
    assert set(p.name for p in UNITS.iterdir()) == {*TEMPLATES, "linli.target"}


def test_systemd_accepts_them(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (the structural checks above still ran)")
    env = tmp_path / "linli.env"
    env.write_text("LINLI_HOST=127.0.0.1\n")
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/etc/linli/linli.env", str(env)).replace("/opt/linli", str(ROOT))
        (tmp_path / unit.name).write_text(text)
    # verify checks the executables too: this checkout's venv stands in for /opt/linli/.venv.
    if not (ROOT / ".venv" / "bin" / "python").exists() or not Path("/usr/bin/curl").exists():
        pytest.skip("needs .venv/bin/python and /usr/bin/curl for verify's executable checks")
    result = subprocess.run([analyze, "verify", "--man=no", "./linli-server@5005.service",
                             "./linli-actions@5055.service", "./linli.target"],
                            cwd=tmp_path, capture_output=True, text=True)
    ours = [line for line in (result.stdout + result.stderr).splitlines()
            if "linli" in line and "Failed to connect to bus" not in line]
    assert result.returncode == 0 and not ours, result.stdout + result.stderr
