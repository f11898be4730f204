"""The plain SQL for Supabase builds the same schema as the models (and so the migration)."""
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from webapp.extensions import db
from webapp import models  # noqa: F401  (registers every table)
from tests.conftest import TEST_DATABASE_URL, scratch_database

SQL_FILES = sorted((Path(__file__).parent.parent / "supabase" / "migrations").glob("*.sql"))


def test_supabase_migrations_exist():
    assert SQL_FILES, "supabase/migrations/ holds no .sql file"


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set")
def test_supabase_sql_matches_models():
    with scratch_database("reclip_supabase") as url:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            for path in SQL_FILES:
                conn.execute(path.read_text())
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        engine.dispose()
    assert diff == []
