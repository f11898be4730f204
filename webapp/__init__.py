"""Reclip: play, download, clip and share meeting recordings."""
from pathlib import Path

from flask import Flask

from webapp import auth, database, jobs, security, storage
from webapp.social import oauth as social_oauth
from webapp.config import PROJECT_ROOT, instance_path as default_instance_path, load_config, load_secret_key, validate_config
from webapp.errors import SafeJSONProvider, register_errorhandlers
from webapp.extensions import csrf, db, limiter, migrate


def create_app(test_config=None, instance_path=None):
    """The application: configuration, extensions, blueprints, error handlers, commands."""
    app = Flask(__name__, instance_path=instance_path or default_instance_path(),
                template_folder=str(PROJECT_ROOT / "templates"), static_folder=str(PROJECT_ROOT / "static"))
    app.json = SafeJSONProvider(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    config = load_config(app.instance_path)
    config.update(test_config or {})
    if "SECRET_KEY" not in (test_config or {}):
        config["SECRET_KEY"] = load_secret_key(app.instance_path)
    app.config.from_mapping(config)
    validate_config(app.config)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    security.init_app(app)
    return app


def register_extensions(app):
    from webapp import models  # noqa: F401  (every table, for Alembic and create_all)

    db.init_app(app)
    database.init_app(app)  # 503 and a healing pool when the database goes away
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    auth.init_app(app)
    storage.init_app(app)
    jobs.init_app(app)
    social_oauth.init_app(app)
    from webapp import tasks  # the composition of every feature's jobs
    tasks.init_app(app)


def register_blueprints(app):
    from webapp.auth.cli import bp as users_cli
    from webapp.auth.views import bp as auth_views
    from webapp.clips.cli import bp as clips_cli
    from webapp.clips.views import bp as clips_views
    from webapp.library.views import bp as library_views
    from webapp.health.views import bp as health_views
    from webapp.openapi import bp as openapi_doc
    from webapp.wasm import bp as wasm_files
    from webapp.recordings.cli import bp as recordings_cli, demo_bp
    from webapp.recordings.views import bp as recordings_views
    from webapp.shares.views import bp as shares_views
    from webapp.social.cli import bp as social_cli
    from webapp.social.views import bp as social_views
    from webapp.storage.views import bp as storage_views

    blueprints = (auth_views, users_cli, library_views, recordings_views, recordings_cli, demo_bp, clips_views, clips_cli,
                  wasm_files, shares_views, social_views, social_cli, storage_views, health_views, openapi_doc)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
