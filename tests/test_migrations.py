"""`flask db upgrade` builds the whole schema from nothing, and the models match the migrations."""
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask.cli import cli as flask_cli
from flask_migrate import Config
from sqlalchemy import create_engine, inspect

from webapp import create_app
from webapp.config import PROJECT_ROOT
from webapp.extensions import db

from tests.conftest import TEST_DATABASE_URL

TABLES = {"users", "meet_rooms", "voice_calls", "recording_clips", "share_links"}


@pytest.fixture(params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql",
                 marks=pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set")),
])
def empty_database_url(request, tmp_path):
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = urlsplit(TEST_DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"))
    admin_url = urlunsplit(server)
    name = f"reclip_migrations_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(server._replace(scheme="postgresql+psycopg", path=f"/{name}"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_app(empty_database_url, tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "STORAGE_LOCAL_ROOT": str(tmp_path / "storage")}, instance_path=str(tmp_path / "instance"))
    yield app
    with app.app_context():
        db.engine.dispose()


def flask_command(app, *args):
    """Run a `flask ...` command the way the shell does (the FlaskGroup, with its plugins)."""
    result = app.test_cli_runner().invoke(flask_cli, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def table_names(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_db_upgrade_builds_the_schema_from_nothing(fresh_app, empty_database_url):
    assert table_names(empty_database_url) == set()

    flask_command(fresh_app, "db", "upgrade")

    assert TABLES | {"alembic_version"} <= table_names(empty_database_url)
    with fresh_app.app_context(), db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == (head_revision(),)


def test_models_and_migrations_do_not_differ(fresh_app):
    flask_command(fresh_app, "db", "upgrade")
    with fresh_app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_twice_is_harmless_and_downgrade_removes_everything(fresh_app, empty_database_url):
    flask_command(fresh_app, "db", "upgrade")
    flask_command(fresh_app, "db", "upgrade")
    assert TABLES <= table_names(empty_database_url)

    flask_command(fresh_app, "db", "downgrade", "base")
    assert table_names(empty_database_url) <= {"alembic_version"}

    flask_command(fresh_app, "db", "upgrade")
    assert TABLES <= table_names(empty_database_url)


def head_revision():
    config = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have more than one head: {heads}"
    return heads[0]
