"""Alembic environment of the service's tables: runs on the connection that
:meth:`archive.Database.upgrade` hands over, with its own version table, so the
archive's migrations and these never meet."""

from alembic import context

from saraban.service._store import VERSION_TABLE, Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
