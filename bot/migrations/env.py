"""Alembic environment for Linli's own tables (configured in code by bot/schema.py).

Migrations run on the connection bot.schema hands over (inside a transaction that holds
the migration lock); without one (a plain ``alembic`` command), on ``sqlalchemy.url`` or
``DATABASE_URL`` with the same lock. Offline (``--sql``) mode writes the SQL for an empty
database.
"""

from contextlib import nullcontext

from alembic import context

from bot import schema


def run() -> None:
    """Run the migrations Alembic selected."""
    config = context.config
    options = schema.context_options()
    url = config.get_main_option("sqlalchemy.url") or None
    if context.is_offline_mode():
        context.configure(url=schema.describe_url(url), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    with (schema.locked_connection(url) if connection is None else nullcontext(connection)) as conn:
        context.configure(connection=conn, **options)
        with context.begin_transaction():  # a no-op inside the caller's transaction
            context.run_migrations()


run()
