"""Configuration: what create_app refuses, URL normalisation, the generated secret key."""
import os
import stat
from pathlib import Path

import pytest

from webapp import create_app
from webapp.config import DEFAULT_PASSWORD_HASH, database_url, load_config

ENV_VARS = ("SECRET_KEY", "DATABASE_URL", "STORAGE_BACKEND", "S3_BUCKET", "SIGNED_URL_TTL", "PUBLIC_BASE_URL",
            "ALLOWED_PRODUCTS", "CLIP_MAX_SECONDS", "REDIS_URL", "SUPABASE_URL", "SUPABASE_SERVICE_KEY",
            "SUPABASE_BUCKET")
SUPABASE = {"STORAGE_BACKEND": "supabase", "SUPABASE_URL": "https://abc.supabase.co",
            "SUPABASE_SERVICE_KEY": "service-key", "SUPABASE_BUCKET": "recordings"}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Settings come from the test alone, never from the shell that runs pytest."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def make_app(tmp_path, **settings):
    """An app on a throwaway SQLite file; never touches the project's instance/."""
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'config.db'}",
              "STORAGE_LOCAL_ROOT": str(tmp_path / "storage"), "SECRET_KEY": "test-secret-key"}
    config.update(settings)
    return create_app(config, instance_path=str(tmp_path / "instance"))


# --- refused settings ---------------------------------------------------------

@pytest.mark.parametrize("ttl", [0, 59, 901, 3600, -1])
def test_signed_url_ttl_outside_60_to_900_is_refused(tmp_path, ttl):
    with pytest.raises(RuntimeError, match=rf"SIGNED_URL_TTL must be 60\.\.900 seconds, got {ttl}"):
        make_app(tmp_path, SIGNED_URL_TTL=ttl)


@pytest.mark.parametrize("ttl", [60, 600, 900])
def test_signed_url_ttl_at_the_bounds_is_accepted(tmp_path, ttl):
    assert make_app(tmp_path, SIGNED_URL_TTL=ttl).config["SIGNED_URL_TTL"] == ttl


def test_signed_url_ttl_from_the_environment_is_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNED_URL_TTL", "30")
    with pytest.raises(RuntimeError, match="SIGNED_URL_TTL must be 60..900 seconds, got 30"):
        create_app({"TESTING": True, "SECRET_KEY": "x"}, instance_path=str(tmp_path / "instance"))


def test_non_integer_setting_in_the_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNED_URL_TTL", "ten minutes")
    with pytest.raises(RuntimeError, match="SIGNED_URL_TTL must be an integer, got 'ten minutes'"):
        create_app({"TESTING": True, "SECRET_KEY": "x"}, instance_path=str(tmp_path / "instance"))


@pytest.mark.parametrize("backend", ["gcs", "", "LOCAL", "Supabase"])
def test_unknown_storage_backend_is_refused(tmp_path, backend):
    with pytest.raises(RuntimeError, match="STORAGE_BACKEND must be local, s3 or supabase"):
        make_app(tmp_path, STORAGE_BACKEND=backend)


@pytest.mark.parametrize("name", ["SUPABASE_URL", "SUPABASE_SERVICE_KEY", "SUPABASE_BUCKET"])
def test_supabase_backend_without_its_settings_is_refused(tmp_path, name):
    with pytest.raises(RuntimeError, match=f"STORAGE_BACKEND=supabase needs {name}$"):
        make_app(tmp_path, **{**SUPABASE, name: ""})


def test_supabase_backend_with_a_url_that_is_no_url_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="SUPABASE_URL must be the project's http"):
        make_app(tmp_path, **{**SUPABASE, "SUPABASE_URL": "abc.supabase.co"})


def test_supabase_backend_is_built_from_its_settings(tmp_path):
    storage = make_app(tmp_path, **SUPABASE).extensions["storage"]
    assert (storage.name, storage.url, storage.bucket) == ("supabase", "https://abc.supabase.co", "recordings")


def test_s3_backend_without_a_bucket_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="STORAGE_BACKEND=s3 needs S3_BUCKET"):
        make_app(tmp_path, STORAGE_BACKEND="s3", S3_BUCKET="")


def test_clip_max_seconds_below_one_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="CLIP_MAX_SECONDS must be at least 1"):
        make_app(tmp_path, CLIP_MAX_SECONDS=0)


# --- database URL ---------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("postgres://u:p@db.example:5432/reclip", "postgresql+psycopg://u:p@db.example:5432/reclip"),
    ("postgresql://u:p@db.example:5432/reclip?sslmode=require",
     "postgresql+psycopg://u:p@db.example:5432/reclip?sslmode=require"),
    ("postgresql+psycopg://u@db.example/reclip", "postgresql+psycopg://u@db.example/reclip"),
    ("sqlite:////var/lib/reclip.db", "sqlite:////var/lib/reclip.db"),
])
def test_database_url_uses_the_psycopg3_driver_for_postgres(raw, expected):
    assert database_url(raw, Path("/srv/instance")) == expected


@pytest.mark.parametrize("raw", [None, ""])
def test_database_url_defaults_to_sqlite_in_the_instance_dir(raw):
    assert database_url(raw, Path("/srv/instance")) == "sqlite:////srv/instance/reclip.db"


def test_database_url_from_the_environment_is_normalised(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://reclip:pw@db.supabase.example:6543/postgres")
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://reclip:pw@db.supabase.example:6543/postgres"


# --- values read from the environment -----------------------------------------------

def test_defaults_without_environment(tmp_path):
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'reclip.db'}"
    assert config["STORAGE_BACKEND"] == "local"
    assert config["STORAGE_LOCAL_ROOT"] == str(tmp_path / "storage")
    assert config["SIGNED_URL_TTL"] == 600
    assert config["ALLOWED_PRODUCTS"] == ["tipjar", "m10"]
    assert config["PROXY_ALLOWED_HOSTS"] == []
    assert config["CLIP_MAX_SECONDS"] == 600
    assert config["BROWSER_TRIM_MAX_BYTES"] == 1_500_000_000
    assert config["PASSWORD_HASH_METHOD"] == DEFAULT_PASSWORD_HASH == "scrypt:131072:8:1"
    assert config["SESSION_COOKIE_SECURE"] is False
    assert "SECRET_KEY" not in config


def test_lists_and_base_url_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLOWED_PRODUCTS", " TipJar , M10 ,, ")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://reclip.example/")
    config = load_config(tmp_path)
    assert config["ALLOWED_PRODUCTS"] == ["tipjar", "m10"]
    assert config["PUBLIC_BASE_URL"] == "https://reclip.example"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True


# --- the secret key -------------------------------------------------------------------

def test_secret_key_is_generated_once_into_the_instance_dir_and_reused(tmp_path):
    settings = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'k.db'}"}
    instance = tmp_path / "instance"
    first = create_app(dict(settings), instance_path=str(instance))
    key_file = instance / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 48

    second = create_app(dict(settings), instance_path=str(instance))
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]

    other = create_app(dict(settings), instance_path=str(tmp_path / "other-instance"))
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_secret_key_from_the_environment_wins_and_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    instance = tmp_path / "instance"
    app = create_app({"TESTING": True}, instance_path=str(instance))
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (instance / "secret_key").exists()


def test_secret_key_in_test_config_is_kept(tmp_path):
    app = make_app(tmp_path, SECRET_KEY="given")
    assert app.config["SECRET_KEY"] == "given"
    assert not os.path.exists(tmp_path / "instance" / "secret_key")
