"""Staff accounts from the command line.

    python -m bot.staff create-admin --username admin
    python -m bot.staff create-user --username wang --role agent --display-name 王师傅
    python -m bot.staff set-password --username wang
    python -m bot.staff disable --username wang
    python -m bot.staff list

The password is read from ``LINLI_ADMIN_PASSWORD`` (create-admin) or
``LINLI_STAFF_PASSWORD`` (other commands) when set, else from a prompt.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import List, Optional

from bot.settings import Staff
from bot.staff.passwords import MIN_LENGTH
from bot.staff.store import StaffStore, UserExists


def _password(name: str) -> str:
    """``Staff.<name>`` (admin_password or staff_password) from the environment, else a prompt."""
    value = Staff.read(name)
    if value:
        return value
    env_name = Staff.variables()[name].name
    if not sys.stdin.isatty():
        raise SystemExit(f"No password: set {env_name} or run this command in a terminal to be prompted.")
    first = getpass.getpass(f"Password (at least {MIN_LENGTH} characters): ")
    if first != getpass.getpass("Repeat the password: "):
        raise SystemExit("The passwords differ; nothing was changed.")
    return first


def main(argv: Optional[List[str]] = None) -> int:
    """Run one staff-account command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot.staff", description="Manage staff desk accounts.")
    sub = parser.add_subparsers(dest="command", required=True)
    admin = sub.add_parser("create-admin", help="create an admin (the first account)")
    user = sub.add_parser("create-user", help="create an agent or admin")
    user.add_argument("--role", choices=["agent", "editor", "admin"], default="agent")
    for p in (admin, user):
        p.add_argument("--username", required=True)
        p.add_argument("--display-name")
    for name in ("set-password", "disable", "enable"):
        sub.add_parser(name).add_argument("--username", required=True)
    sub.add_parser("list", help="list accounts")
    args = parser.parse_args(argv)

    from bot.schema import ensure_current

    # Like the servers: an empty database is created at the current schema (so creating the first
    # admin before the first start is fine), an out-of-date one is refused (run `make migrate`).
    ensure_current()
    store = StaffStore.from_env()
    try:
        if args.command in ("create-admin", "create-user"):
            role = "admin" if args.command == "create-admin" else args.role
            which = "admin_password" if args.command == "create-admin" else "staff_password"
            user_row = store.create_user(args.username, _password(which), role, args.display_name)
            print(f"Created {role} {user_row.username!r}. Log in at /console.")
        elif args.command == "set-password":
            store.set_password(args.username, _password("staff_password"))
            print(f"Password of {args.username!r} changed; their sessions were ended.")
        elif args.command in ("disable", "enable"):
            store.set_active(args.username, args.command == "enable")
            print(f"{args.username!r} {args.command}d.")
        else:
            for row in store.list_users():
                print(f"{row.username}\t{row.role}\t{'active' if row.active else 'disabled'}\t{row.display_name}")
    except UserExists as exc:
        print(f"{exc}; use `set-password` to change its password.", file=sys.stderr)
        return 1
    except (ValueError, LookupError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
