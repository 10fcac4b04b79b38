"""Staff accounts of the desk: users with roles, hashed passwords, expiring sessions."""

from bot.staff.models import ROLES, StaffSession, StaffUser
from bot.staff.passwords import hash_password, verify_password
from bot.staff.store import AuthError, StaffStore, UserExists

__all__ = [
    "ROLES",
    "StaffUser",
    "StaffSession",
    "StaffStore",
    "AuthError",
    "UserExists",
    "hash_password",
    "verify_password",
]
