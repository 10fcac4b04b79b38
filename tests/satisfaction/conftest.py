"""The desk accounts and clients of tests/handoff, for the satisfaction tests on the shared stack."""

from tests.handoff.conftest import accounts, admin, agent  # noqa: F401  (pytest fixtures)
