"""Fixtures of the desk-essentials tests: the staff accounts and desk clients of tests/handoff,
bound to the shared stack."""

from tests.handoff.conftest import accounts, admin, agent, agent2  # noqa: F401  (pytest fixtures)
