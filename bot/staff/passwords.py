"""Password hashing with the standard library's scrypt (memory-hard, salted).

Parameters follow current guidance (OWASP password storage cheat sheet:
N=2^17, r=8, p=1, i.e. 128 MiB per hash). Stored format:
``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``, so the cost can be raised later:
:func:`needs_rehash` tells the login to store a fresh hash of a password that
was hashed with weaker parameters. Passwords are 8 to ``MAX_LENGTH`` characters;
longer input is refused before any hashing (no CPU/memory exhaustion).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**17, 8, 1
#: hashlib's default memory limit (32 MiB) is below what N=2^17, r=8 needs (128 MiB).
_MAXMEM = 256 * 1024 * 1024
MIN_LENGTH = 8
MAX_LENGTH = 256


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int = 32) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=_MAXMEM)


def check_length(password: str) -> None:
    """ValueError unless ``password`` has MIN_LENGTH..MAX_LENGTH characters."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"passwords need at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValueError(f"passwords may have at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` for storage."""
    check_length(password)
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _N, _R, _P)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; constant-time comparison."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or int(n) > 2**20 or int(r) > 32 or int(p) > 16:
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with weaker parameters than today's."""
    try:
        scheme, n, r, p, _salt, _digest = stored.split("$")
        return scheme != "scrypt" or (int(n), int(r), int(p)) < (_N, _R, _P)
    except ValueError:
        return True


#: Verified against when the username does not exist, so response time does not reveal valid usernames.
DUMMY_HASH = f"scrypt${_N}${_R}${_P}$AAAAAAAAAAAAAAAAAAAAAA==$" + _b64(bytes(32))
