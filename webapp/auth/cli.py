import click
from flask import Blueprint

from webapp.auth import service
from webapp.errors import ApiError

bp = Blueprint("users", __name__, cli_group="users")


@bp.cli.command("create")
@click.argument("email")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--super-admin", is_flag=True, help="Sees every meet and voice recording.")
def create(email, password, super_admin):
    """Create a user."""
    try:
        user = service.create_user(email, password, super_admin=super_admin)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    role = "super admin" if user.is_super_admin else "member"
    click.echo(f"Created {role} {user.email} (id {user.id})")
