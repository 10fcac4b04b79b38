"""Nothing is lost on a restart: a half-finished report continues afterwards."""

from pathlib import Path
import re

from sqlalchemy import create_engine

from bot.tickets import TicketStore
from tests.servers import start_stack


def test_conversation_survives_a_restart_of_both_servers(tmp_path: Path, trained_model: Path) -> None:
    sender = "restart-resident"
    first = start_stack(tmp_path, trained_model)
    try:
        assert "紧急" in first.say(sender, "8栋3单元702的马桶漏水，电话13700001234")
    finally:
        first.stop()

    # Same databases, new processes (and new ports).
    second = start_stack(tmp_path, trained_model)
    try:
        summary = second.say(sender, "紧急")
        assert "8栋3单元702" in summary and "13700001234" in summary
        number = re.search(r"BX-\d{8}-\d{4}", second.say(sender, "确认")).group(0)
        events = [e["event"] for e in second.tracker(sender)["events"]]
        assert events.count("user") == 3  # the transcript from before the restart is still there
    finally:
        second.stop()
    ticket = TicketStore(create_engine(second.database_url, future=True)).get(number)
    assert ticket.unit == "8栋3单元702" and ticket.urgency == "urgent"
