"""The security tests' fixtures: a production-like service (closed defaults, one
trusted proxy) and a real nginx in front of it running deploy/nginx/linli.conf."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, Optional, Tuple

import pytest

from tests.nginx import run_nginx, stop_nginx
from tests.handoff.conftest import accounts, admin, agent  # noqa: F401  (desk clients on the shared stack)
from tests.servers import ROOT, Stack, free_port, start_stack

DEPLOY = ROOT / "deploy" / "nginx"


@pytest.fixture(scope="module")
def prod_stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[Stack]:
    """The service as production runs it: Rasa's API off, Secure cookies, behind one proxy.

    Only the REST token is set (the tests need a way to talk to the bot); module-scoped so
    that it stops before other test modules start their own services.
    """
    service = start_stack(tmp_path_factory.mktemp("prod"), trained_model, {
        "LINLI_ENABLE_API": "false",
        "RASA_AUTH_TOKEN": "",
        "LINLI_COOKIE_SECURE": "true",
        "LINLI_PROXIES_COUNT": "1",
        "LINLI_SECRET_KEY": "",
        "LINLI_SECRET_KEY_FILE": str(tmp_path_factory.mktemp("prod-secret") / "secret_key"),
        "KNOWLEDGE_WARM_UP": "0",
    })
    yield service
    service.stop()


def nginx_binary() -> Optional[str]:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def _self_signed(directory: Path) -> Tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost (cryptography, from the venv)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "linli.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def render_site(upstream_port: int, http_port: int, https_port: int, cert: Path, key: Path, proxy_conf: Path) -> str:
    """deploy/nginx/linli.conf with the test's ports, certificate and include path (nothing else changed)."""
    site = (DEPLOY / "linli.conf").read_text()
    replacements = [
        (r"server 127\.0\.0\.1:5005;", f"server 127.0.0.1:{upstream_port};"),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        (r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};"),
        (r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};"),
        (r"/etc/nginx/linli_proxy\.conf", str(proxy_conf)),
    ]
    for pattern, value in replacements:
        site, count = re.subn(pattern, value, site)
        assert count, f"deploy/nginx/linli.conf no longer contains {pattern!r}"
    return site


@dataclass
class Nginx:
    """A running nginx in front of a stack."""

    http_port: int
    https_port: int
    cert: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def request(self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
                source: str = "127.0.0.1") -> Tuple[int, Dict[str, str], bytes]:
        """One HTTPS request through nginx from the client address ``source`` (any 127.x.y.z)."""
        context = ssl.create_default_context(cafile=str(self.cert))
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=context, timeout=60,
                                           source_address=(source, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def post_json(self, path: str, payload: object, source: str = "127.0.0.1",
                  headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], bytes]:
        return self.request("POST", path, json.dumps(payload).encode(),
                            {"Content-Type": "application/json", **(headers or {})}, source)


@pytest.fixture(scope="module")
def nginx(prod_stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """deploy/nginx/linli.conf in a real nginx (installed by scripts/install_nginx.sh)."""
    binary = nginx_binary()
    if binary is None:
        pytest.fail("nginx is not installed: run scripts/install_nginx.sh (make test does)")
    work = tmp_path_factory.mktemp("nginx")
    cert, key = _self_signed(work)
    proxy_conf = work / "linli_proxy.conf"
    proxy_conf.write_text((DEPLOY / "linli_proxy.conf").read_text())
    http_port, https_port = free_port(), free_port()
    upstream = int(prod_stack.rasa_url.rsplit(":", 1)[1])
    site = render_site(upstream, http_port, https_port, cert, key, proxy_conf)
    process = run_nginx(binary, work, site, [https_port])
    server = Nginx(http_port, https_port, cert, process)
    yield server
    stop_nginx(process)
