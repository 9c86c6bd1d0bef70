"""Alembic environment: runs on the connection that :meth:`archive._db.Database.upgrade` hands over.

There is no ``alembic.ini`` and no logging set-up: migrations run inside the program, in the
transaction (and under the lock) that the caller opened.
"""

from alembic import context

from saraban.archive._models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
