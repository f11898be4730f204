"""The plain SQL for Supabase builds the same schema as the models (and so the migration)."""
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from webapp.extensions import db
from webapp import models  # noqa: F401  (registers every table)

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
SQL_FILES = sorted((Path(__file__).parent.parent / "supabase" / "migrations").glob("*.sql"))


def test_supabase_migrations_exist():
    assert SQL_FILES, "supabase/migrations/ holds no .sql file"


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set")
def test_supabase_sql_matches_models():
    server = urlsplit(TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"))
    name = f"reclip_supabase_{os.getpid()}"
    admin_url = urlunsplit(server)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = urlunsplit(server._replace(path=f"/{name}"))
        with psycopg.connect(url, autocommit=True) as conn:
            for path in SQL_FILES:
                conn.execute(path.read_text())
        engine = create_engine(urlunsplit(server._replace(scheme="postgresql+psycopg", path=f"/{name}")))
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        engine.dispose()
        assert diff == []
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
