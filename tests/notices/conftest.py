"""The notices tests' fixtures: tracker fixtures' domain, and one real stack with WeChat and
Telegram wired to the local fake APIs (tests/channels/fakes.py), with an admin and an agent."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator

import pytest

from tests.actions.conftest import domain  # noqa: F401  (pytest fixture)
from tests.channels.conftest import (TELEGRAM_SECRET, TELEGRAM_TOKEN, WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_APP_SECRET,
                                     WECHAT_TOKEN)
from tests.channels.fakes import FakeApis
from tests.handoff.conftest import Desk, create_accounts, logged_in
from tests.servers import Stack, start_stack


@pytest.fixture(scope="session")
def notice_fakes() -> Iterator[FakeApis]:
    """WeChat and Telegram API doubles of the notices stack."""
    fakes = FakeApis().start()
    yield fakes
    fakes.stop()


@pytest.fixture(scope="session")
def notices_stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path,
                  notice_fakes: FakeApis) -> Iterator[Stack]:
    """The real service with WeChat and Telegram configured against the fakes."""
    service = start_stack(tmp_path_factory.mktemp("notices"), trained_model, {
        "WECHAT_TOKEN": WECHAT_TOKEN, "WECHAT_APP_ID": WECHAT_APP_ID, "WECHAT_APP_SECRET": WECHAT_APP_SECRET,
        "WECHAT_ENCODING_AES_KEY": WECHAT_AES_KEY, "WECHAT_API_BASE_URL": f"{notice_fakes.url}/wechat",
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET, "TELEGRAM_WEBHOOK_URL": "",
        "TELEGRAM_POLLING": "false", "TELEGRAM_API_BASE_URL": f"{notice_fakes.url}/telegram",
        "REDIS_URL": "", "KNOWLEDGE_WARM_UP": "0", "LINLI_CREDENTIALS": "credentials.yml",
    })
    yield service
    service.stop()


@pytest.fixture(scope="session")
def notice_accounts(notices_stack: Stack) -> Dict[str, str]:
    """An admin and an agent on the notices stack: ``{role: username}``."""
    return create_accounts(notices_stack, {"admin": ("nadmin", "admin"), "agent": ("nagent", "agent")})


@pytest.fixture
def notice_admin(notices_stack: Stack, notice_accounts: Dict[str, str]) -> Desk:
    return logged_in(notices_stack, notice_accounts["admin"], "admin")


@pytest.fixture
def notice_agent(notices_stack: Stack, notice_accounts: Dict[str, str]) -> Desk:
    return logged_in(notices_stack, notice_accounts["agent"], "agent")
