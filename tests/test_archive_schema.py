"""The typed models (archive/_models.py) and the migrations (archive/migrations) describe
the same schema, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from saraban.archive import open_archive
from saraban.archive._models import Base


def test_models_match_migrations(tmp_path, database_url):
    archive = open_archive(tmp_path / "home", database_url)
    try:
        with archive.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": False}
            )
            differences = compare_metadata(context, Base.metadata)
    finally:
        archive.close()
    assert differences == []
