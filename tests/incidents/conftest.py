"""One running Linli service for the incident tests (REST and a fake Telegram), with a fast
incident loop, and desk accounts of each role."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Dict, Iterator

import pytest

from tests.actions.conftest import domain  # noqa: F401  (the tracker tests' domain fixture)
from tests.channels.fakes import FakeApis
from tests.handoff.conftest import ADMIN_PASSWORD, AGENT_PASSWORD, Desk, create_account
from tests.servers import Stack, start_stack

TELEGRAM_TOKEN = "123456:TEST-incident-token"
TELEGRAM_SECRET = "linli-incident-secret_7"
EDITOR_PASSWORD = "editor-pass-123"


@pytest.fixture(scope="session")
def incident_fakes() -> Iterator[FakeApis]:
    fakes = FakeApis().start()
    yield fakes
    fakes.stop()


@pytest.fixture(scope="session")
def incident_stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path,
                   incident_fakes: FakeApis) -> Iterator[Stack]:
    service = start_stack(tmp_path_factory.mktemp("incidents"), trained_model, {
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET, "TELEGRAM_WEBHOOK_URL": "",
        "TELEGRAM_POLLING": "false", "TELEGRAM_API_BASE_URL": f"{incident_fakes.url}/telegram",
        "REDIS_URL": "", "KNOWLEDGE_WARM_UP": "0", "LINLI_INCIDENT_CHECK_INTERVAL": "0.5",
        "LINLI_OUTBOX_INTERVAL": "0.2", "LINLI_SATISFACTION": "false",
    })
    yield service
    service.stop()


@pytest.fixture(scope="session")
def staff(incident_stack: Stack) -> Dict[str, str]:
    """``{role: username}`` on the incident stack (admin, editor, agent)."""
    suffix = uuid.uuid4().hex[:6]
    names = {"admin": f"admin{suffix}", "editor": f"editor{suffix}", "agent": f"agent{suffix}"}
    create_account(incident_stack, names["admin"], ADMIN_PASSWORD, "admin")
    create_account(incident_stack, names["editor"], EDITOR_PASSWORD, "editor")
    create_account(incident_stack, names["agent"], AGENT_PASSWORD, "agent")
    return names


PASSWORDS = {"admin": ADMIN_PASSWORD, "editor": EDITOR_PASSWORD, "agent": AGENT_PASSWORD}


def desk(stack: Stack, staff: Dict[str, str], role: str) -> Desk:
    client = Desk(stack.rasa_url)
    assert client.login(staff[role], PASSWORDS[role]).status_code == 200
    return client
