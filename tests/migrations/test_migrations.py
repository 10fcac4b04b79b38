"""Alembic migrations of Linli's database, on real SQLite and PostgreSQL databases."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import List

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine

from bot import schema
from bot.settings import ConfigurationError
from tests.migrations.legacy import (LATER_COLUMNS, LATER_INDEXES, SESSION_TOKEN, create_pre_migrations_schema,
                                     create_rasa_events_table, insert_sample_data)


def differences(engine: Engine) -> List:
    """What the models have and the database lacks, or the other way round (empty: in step)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=schema.context_options())
        return compare_metadata(context, schema.all_metadata())


def tables(engine: Engine) -> set:
    return set(sa.inspect(engine).get_table_names())


def assert_data_survived(engine: Engine, older: bool = False) -> None:
    """Today's code reads (and writes) every row the old database had."""
    from bot.channels.state import PendingPhotos, SqlKeyValueStore
    from bot.handoff.store import HandoffStore
    from bot.privacy import AuditLog
    from bot.staff.store import StaffStore
    from bot.tickets import TicketStore

    tickets = TicketStore(engine)
    ticket = tickets.get("BX-20260301-0001")
    assert (ticket.sender_id, ticket.unit, ticket.phone) == ("o-legacy", "3栋2单元502", "13812345678")
    assert ticket.building == (None if older else "3")
    assert [e.action for e in ticket.events] == ["created"] and [a.ref for a in ticket.attachments] == ["media-123"]
    # Today's code writes to it too, columns an older release lacked included.
    second = tickets.create(ticket_type="repair", channel="wechat", sender_id="o-new", description="灯坏了",
                            building="5", visit_time="明天上午")
    assert tickets.get(second.number).visit_time == "明天上午"
    handoff = HandoffStore(engine).get(1)
    assert handoff.sender_id == "wechat:o-legacy" and handoff.priority == ("normal" if older else "urgent")
    staff = StaffStore(engine)
    assert staff.get_user("admin").display_name == "管理员"
    assert staff.identity(SESSION_TOKEN).username == "admin"  # logged-in staff stay logged in
    assert SqlKeyValueStore(engine).get("wechat:token") == "cached-token"
    assert PendingPhotos(engine).peek("wechat", "o-photo") == ["media-456"]
    assert [e["subject"] for e in AuditLog(engine).list()] == ["BX-20260301-0001"]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT outcome FROM notification_log WHERE event_id = 0")).scalar() == "baseline"
        assert conn.execute(sa.text("SELECT name FROM linli_migrations")).scalar() == "identity-namespacing-1"
        assert conn.execute(sa.text("SELECT last_seq FROM ticket_counters WHERE day = '20260301'")).scalar() == 1


def test_a_database_from_before_migrations_is_adopted_with_its_data(database: Engine) -> None:
    create_pre_migrations_schema(database)
    insert_sample_data(database)
    before = schema.state(database)
    assert before.current is None and not before.empty and "alembic_version" not in tables(database)
    with pytest.raises(ConfigurationError) as refused:
        schema.check_current(database)
    assert "pre-migrations" in refused.value.message and "run `make migrate`" in refused.value.message

    assert schema.upgrade(database) == schema.head_revision()
    schema.check_current(database)
    assert differences(database) == []
    assert_data_survived(database)


def test_an_older_database_gains_the_columns_and_indexes_it_lacked(database: Engine) -> None:
    create_pre_migrations_schema(database, older=True)
    insert_sample_data(database, older=True)
    assert "priority" not in {c["name"] for c in sa.inspect(database).get_columns("handoffs")}

    schema.upgrade(database)
    inspector = sa.inspect(database)
    for table, columns in LATER_COLUMNS.items():
        assert set(columns) <= {c["name"] for c in inspector.get_columns(table)}
        assert set(LATER_INDEXES[table]) <= {i["name"] for i in inspector.get_indexes(table)}
    assert differences(database) == []
    assert_data_survived(database, older=True)  # old handoffs read back as "normal" priority


def test_an_empty_database_is_created_at_head_and_matches_the_models(database: Engine) -> None:
    # The tracker store may share the database: Rasa's table is not Linli's to create or compare.
    create_rasa_events_table(database)
    assert schema.state(database).empty
    assert schema.ensure_current(database) == schema.head_revision()
    assert schema.current_revision(database) == schema.head_revision()
    assert schema.owned_tables() <= tables(database)
    # A table or column in the models without a revision creating it shows up here (and fails).
    assert differences(database) == []
    with database.connect() as conn:
        assert conn.execute(sa.text("SELECT sender_id FROM events")).scalar() == "wechat:o-legacy"


def test_a_second_upgrade_changes_nothing(database: Engine) -> None:
    create_pre_migrations_schema(database)
    insert_sample_data(database)
    schema.upgrade(database)
    schema.upgrade(database)
    assert schema.ensure_current(database) == schema.head_revision()
    with database.connect() as conn:
        assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {schema.VERSION_TABLE}")).scalar() == 1
        assert conn.execute(sa.text("SELECT COUNT(*) FROM tickets")).scalar() == 1
    assert_data_survived(database)


@pytest.fixture
def future_migrations(tmp_path: Path) -> Path:
    """A copy of the migrations with one more revision after head, as the next release will have."""
    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "9999_next_release.py").write_text(
        f'revision = "9999_next_release"\ndown_revision = "{schema.head_revision()}"\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n    from alembic import op\n    import sqlalchemy as sa\n"
        '    op.create_table("next_release", sa.Column("id", sa.Integer, primary_key=True))\n\n\n'
        "def downgrade():\n    pass\n")
    return copy


def test_an_out_of_date_database_is_refused_until_migrated(database: Engine, future_migrations: Path) -> None:
    head = schema.head_revision()
    schema.upgrade(database)
    with pytest.raises(ConfigurationError) as refused:
        schema.ensure_current(database, script_location=future_migrations)  # servers don't upgrade it
    assert refused.value.message == (
        f"Linli refuses to start: the database schema is at {head}, the code needs 9999_next_release: "
        f"run `make migrate` (python -m bot.schema upgrade) (database {schema.describe_url(database)})")
    assert schema.current_revision(database) == head and "next_release" not in tables(database)

    assert schema.upgrade(database, script_location=future_migrations) == "9999_next_release"
    schema.check_current(database, script_location=future_migrations)
    # Today's code on the newer database: refused, without advice to migrate it "back".
    with pytest.raises(ConfigurationError) as newer:
        schema.check_current(database)
    assert "9999_next_release, which this code does not know" in newer.value.message
    assert "make migrate" not in newer.value.message


def test_revisions_form_one_numbered_chain() -> None:
    """Helpers add revisions side by side: ids are ``NNNN_name`` = file name, one after another."""
    script = schema._script()
    revisions = list(reversed(list(script.walk_revisions())))  # oldest first; raises on several heads
    assert revisions[0].revision == "0001_baseline" and revisions[0].down_revision is None
    for number, (previous, current) in enumerate(zip(revisions, revisions[1:]), start=2):
        assert re.fullmatch(rf"{number:04d}_[a-z0-9_]+", current.revision), current.revision
        assert current.down_revision == previous.revision, f"{current.revision} must follow {previous.revision}"
    for revision in revisions:
        assert Path(revision.path).stem == revision.revision
        assert len(revision.revision) <= 32, f"{revision.revision}: alembic_version holds 32 characters"
    assert script.get_heads() == [revisions[-1].revision]
    files = sorted(p.stem for p in (schema.MIGRATIONS / "versions").glob("*.py"))
    assert files == [r.revision for r in revisions]


def test_new_revision_writes_the_next_numbered_file(tmp_path: Path) -> None:
    copy = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    head = schema.head_revision()
    assert len(schema.next_revision_id("Add the unanswered questions and index versions")) == 32
    path = schema.new_revision("Add outbox!", autogenerate=True, script_location=copy)
    expected = f"{int(head[:4]) + 1:04d}_add_outbox"
    assert path == copy / "versions" / f"{expected}.py"
    text = path.read_text()
    assert f"revision: str = '{expected}'" in text and f"down_revision: Union[str, Sequence[str], None] = '{head}'" in text
    assert "op.create_table" not in text  # the models and head agree: nothing to generate
    assert schema.head_revision(copy) == expected
