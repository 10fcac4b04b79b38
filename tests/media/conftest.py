"""One running Linli service for the media tests: WeChat and Telegram wired to the local API
doubles (tests/channels/fakes.py), a small photo limit, its own media folder, desk accounts."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from sqlalchemy import create_engine, select

from bot.media.models import media_table
from bot.tickets import TicketStore
from tests.channels import conftest as channels
from tests.channels.conftest import (TELEGRAM_SECRET, TELEGRAM_TOKEN, WECHAT_AES_KEY, WECHAT_APP_ID, WECHAT_APP_SECRET,
                                     WECHAT_TOKEN)
from tests.channels.fakes import FakeApis
from tests.channels.wechat_client import WeChatServer
from tests.handoff.conftest import Desk, create_accounts, logged_in
from tests.servers import Stack, start_stack

fake_apis = channels.fake_apis  # the WeChat/Telegram doubles (a pytest fixture)

#: Small, so an oversized upload costs nothing to send.
MAX_IMAGE_MB = 0.5


@pytest.fixture(scope="session")
def media_stack(tmp_path_factory: pytest.TempPathFactory, trained_model: Path, fake_apis: FakeApis) -> Iterator[Stack]:
    service = start_stack(
        tmp_path_factory.mktemp("media"),
        trained_model,
        {
            "WECHAT_TOKEN": WECHAT_TOKEN, "WECHAT_APP_ID": WECHAT_APP_ID, "WECHAT_APP_SECRET": WECHAT_APP_SECRET,
            "WECHAT_ENCODING_AES_KEY": WECHAT_AES_KEY, "WECHAT_API_BASE_URL": f"{fake_apis.url}/wechat",
            "WECHAT_REPLY_TIMEOUT": "4",
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "TELEGRAM_WEBHOOK_URL": "", "TELEGRAM_POLLING": "false",
            "TELEGRAM_API_BASE_URL": f"{fake_apis.url}/telegram",
            "LINLI_MEDIA_MAX_IMAGE_MB": str(MAX_IMAGE_MB), "LINLI_MEDIA_DOWNLOAD_TIMEOUT": "3",
            "REDIS_URL": "", "KNOWLEDGE_WARM_UP": "0", "LINLI_CREDENTIALS": "credentials.yml",
        },
    )
    yield service
    service.stop()


@pytest.fixture(scope="session")
def media_accounts(media_stack: Stack) -> Dict[str, str]:
    return create_accounts(media_stack, {"admin": ("admin", "admin"), "agent": ("zhao", "agent")})


@pytest.fixture
def staff(media_stack: Stack, media_accounts: Dict[str, str]) -> Desk:
    return logged_in(media_stack, media_accounts["agent"], "agent")


@pytest.fixture(scope="session")
def wechat(media_stack: Stack) -> WeChatServer:
    return WeChatServer(media_stack.rasa_url, WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_AES_KEY)


def tickets(stack: Stack) -> TicketStore:
    return TicketStore(create_engine(stack.database_url, future=True))


def open_ticket(stack: Stack, channel: str, sender_id: str) -> str:
    """An open repair ticket of the resident (photos go onto it); its number."""
    return tickets(stack).create(ticket_type="repair", channel=channel, sender_id=sender_id,
                                 description="卫生间漏水", unit="3栋2单元502", category="plumbing").number


def media_of(stack: Stack, conversation: str) -> List[dict]:
    """The media records of a conversation, read from the service's database."""
    engine = create_engine(stack.database_url, future=True)
    with engine.connect() as conn:
        rows = conn.execute(select(media_table).where(media_table.c.sender_id == conversation)
                            .order_by(media_table.c.created_at))
        return [dict(r._mapping) for r in rows]


def media_files(stack: Stack) -> List[Path]:
    """Every file in the service's media folder."""
    root = Path(stack.env["LINLI_MEDIA_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
