"""`flask social rotate-keys` (every stored platform token encrypted again with the first key) and
`flask social cleanup` (social-ready exports no post needs)."""
import click
from flask import Blueprint

from webapp.extensions import db
from webapp.social import cleanup as export_cleanup, crypto
from webapp.social.models import SocialConnection, SocialDestination

bp = Blueprint("social_cli", __name__, cli_group="social")


@bp.cli.command("rotate-keys")
def rotate_keys():
    """Re-encrypt every token with the first of TOKEN_ENCRYPTION_KEYS; then the old keys can go."""
    count = 0
    try:
        for connection in db.session.scalars(db.select(SocialConnection)):
            connection.access_token = crypto.rotate(connection.access_token)
            connection.refresh_token = crypto.rotate(connection.refresh_token)
            count += 1 + bool(connection.refresh_token)
        for destination in db.session.scalars(db.select(SocialDestination)):
            if destination.page_token:
                destination.page_token = crypto.rotate(destination.page_token)
                count += 1
    except crypto.TokenKeyError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Encrypted {count} tokens with the first key; keys after it are no longer needed.")


@bp.cli.command("cleanup")
def cleanup_exports():
    """Delete social-ready exports no post needs any more (also done every 15 minutes by the worker)."""
    result = export_cleanup.cleanup()
    click.echo(f"Deleted {result['exports_deleted']} exports and {result['export_orphans_deleted']} "
               "export files without a row.")
