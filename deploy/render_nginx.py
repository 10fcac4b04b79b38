#!/usr/bin/env python3
"""Render deploy/nginx/linli-cluster.conf.template for N replicas (docs/deploy.md).

    python deploy/render_nginx.py --server-name linli.example.com \\
        --replica 10.0.0.11:5005 --replica 10.0.0.12:5005 \\
        --action 10.0.0.11:5055 --action 10.0.0.12:5055 > /etc/nginx/conf.d/linli.conf
    nginx -t && systemctl reload nginx

Standard library only (runs with the system Python on the proxy host). Every placeholder
must be filled: an unknown or missing one is an error, never an empty directive.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "linli-cluster.conf.template"
PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")
#: host:port, [v6]:port, or unix:/path (what nginx's `server` directive takes).
ADDRESS = re.compile(r"^(unix:/\S+|\[[0-9A-Fa-f:.]+\]:\d{1,5}|[A-Za-z0-9.-]+:\d{1,5})$")
LISTEN = re.compile(r"^(\d{1,5}|[A-Za-z0-9.-]+:\d{1,5}|\[[0-9A-Fa-f:.]+\]:\d{1,5})$")
#: Passive health: after 2 failures in 10 s a replica is skipped for 10 s.
SERVER_OPTIONS = "max_fails=2 fail_timeout=10s"


class RenderError(ValueError):
    """A value the template cannot take (the message says which and why)."""


def servers(addresses: Sequence[str]) -> str:
    """``server`` lines of an upstream block."""
    if not addresses:
        raise RenderError("at least one upstream address is needed")
    lines = []
    for address in addresses:
        if not ADDRESS.match(address):
            raise RenderError(f"{address!r} is not host:port (or unix:/path)")
        lines.append(f"    server {address} {SERVER_OPTIONS};")
    return "\n".join(lines)


def render(values: Mapping[str, str], template: Optional[str] = None) -> str:
    """The template with every ``{{NAME}}`` replaced by ``values[NAME]``."""
    text = TEMPLATE.read_text() if template is None else template
    wanted = set(PLACEHOLDER.findall(text))
    missing = sorted(wanted - set(values))
    if missing:
        raise RenderError(f"no value for {', '.join(missing)}")
    unknown = sorted(set(values) - wanted)
    if unknown:
        raise RenderError(f"the template has no {', '.join(unknown)}")
    for name, value in values.items():
        if name not in ("UPSTREAM_SERVERS", "ACTION_UPSTREAM_SERVERS") and re.search(r"[;{}\s]", value):
            raise RenderError(f"{name}={value!r}: no spaces, ';' or braces")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def cluster_values(server_name: str, replicas: Sequence[str], actions: Sequence[str], listen: str = "443",
                   listen_http: str = "80", action_listen: str = "127.0.0.1:5050",
                   certificate: Optional[str] = None, key: Optional[str] = None,
                   proxy_include: str = "/etc/nginx/linli_proxy.conf", max_body: str = "1m") -> Dict[str, str]:
    """The template's values; certificate paths default to /etc/ssl/{certs,private}/<server name>."""
    for name, value in (("--listen", listen), ("--listen-http", listen_http), ("--action-listen", action_listen)):
        if not LISTEN.match(value):
            raise RenderError(f"{name} {value!r} is not a port or address:port")
    return {
        "SERVER_NAME": server_name,
        "LISTEN": listen,
        "LISTEN_HTTP": listen_http,
        "SSL_CERTIFICATE": certificate or f"/etc/ssl/certs/{server_name}.pem",
        "SSL_CERTIFICATE_KEY": key or f"/etc/ssl/private/{server_name}.key",
        "UPSTREAM_SERVERS": servers(replicas),
        "ACTION_LISTEN": action_listen,
        "ACTION_UPSTREAM_SERVERS": servers(actions),
        "PROXY_INCLUDE": proxy_include,
        "MAX_BODY": max_body,
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Render the nginx configuration of a Linli cluster.")
    parser.add_argument("--server-name", required=True, help="public host name, e.g. linli.example.com")
    parser.add_argument("--replica", action="append", default=[], required=True,
                        help="a Linli server replica, host:port (repeat for each)")
    parser.add_argument("--action", action="append", default=[], required=True,
                        help="an action server, host:port (repeat for each)")
    parser.add_argument("--listen", default="443", help="HTTPS listen (port or address:port)")
    parser.add_argument("--listen-http", default="80", help="HTTP listen (redirects; WeChat webhook)")
    parser.add_argument("--action-listen", default="127.0.0.1:5050",
                        help="internal listen for the action servers (ACTION_ENDPOINT_URL)")
    parser.add_argument("--cert", default=None, help="certificate (default /etc/ssl/certs/<name>.pem)")
    parser.add_argument("--key", default=None, help="private key (default /etc/ssl/private/<name>.key)")
    parser.add_argument("--proxy-include", default="/etc/nginx/linli_proxy.conf",
                        help="where deploy/nginx/linli_proxy.conf is installed")
    parser.add_argument("--max-body", default="1m", help="client_max_body_size (= LINLI_MAX_BODY_BYTES)")
    parser.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        text = render(cluster_values(args.server_name, args.replica, args.action, args.listen, args.listen_http,
                                     args.action_listen, args.cert, args.key, args.proxy_include, args.max_body))
    except RenderError as exc:
        print(f"render_nginx: {exc}", file=sys.stderr)
        return 2
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
