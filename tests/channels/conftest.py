"""One running Linli service for all channel tests, wired to local API doubles."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest

from tests.channels.fakes import FakeApis
from tests.servers import Stack, start_stack

WECHAT_TOKEN = "linli-test-token"
WECHAT_APP_ID = "wx1234567890abcdef"
WECHAT_APP_SECRET = "test-app-secret"
# 43 characters, as WeChat generates them.
WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TELEGRAM_TOKEN = "123456:TEST-telegram-token"
TELEGRAM_SECRET = "linli-webhook-secret_42"


@pytest.fixture(scope="session")
def fake_apis() -> Iterator[FakeApis]:
    """The WeChat/Telegram API doubles (and the action-server proxy)."""
    fakes = FakeApis().start()
    yield fakes
    fakes.stop()


@pytest.fixture(scope="session")
def channel_stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path, fake_apis: FakeApis) -> Iterator[Stack]:
    """The real service with WeChat (safe mode available) and Telegram configured."""
    service = start_stack(
        tmp_path_factory.mktemp("channels"),
        trained_model,
        {
            "WECHAT_TOKEN": WECHAT_TOKEN,
            "WECHAT_APP_ID": WECHAT_APP_ID,
            "WECHAT_APP_SECRET": WECHAT_APP_SECRET,
            "WECHAT_ENCODING_AES_KEY": WECHAT_AES_KEY,
            "WECHAT_API_BASE_URL": f"{fake_apis.url}/wechat",
            "WECHAT_REPLY_TIMEOUT": "4",
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_WEBHOOK_URL": "",
            "TELEGRAM_POLLING": "false",
            "TELEGRAM_API_BASE_URL": f"{fake_apis.url}/telegram",
            "LINLI_NOTIFY_INTERVAL": "1",
            "REDIS_URL": "",
            # Channel tests never ask the knowledge base: don't load its models at start-up.
            "KNOWLEDGE_WARM_UP": "0",
            "LINLI_CREDENTIALS": "credentials.yml",
            # Rasa calls actions through the proxy, which can slow one conversation down.
            "ACTION_ENDPOINT_URL": f"{fake_apis.url}/actions/webhook",
        },
    )
    fake_apis.action_target = f"{service.action_url}/webhook"
    yield service
    service.stop()


@pytest.fixture
def openid() -> str:
    """A new WeChat follower for each test."""
    return f"o-test-{uuid.uuid4().hex[:12]}"
