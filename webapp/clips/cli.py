import click
from flask import Blueprint

from webapp.clips import jobs

bp = Blueprint("clips_cli", __name__, cli_group="clips")


@bp.cli.command("cleanup")
def cleanup():
    """Expire never-completed uploads and delete clip objects that have no clip."""
    result = jobs.cleanup()
    click.echo(f"Expired {result['expired']} never-completed uploads; "
               f"deleted {result['orphans_deleted']} orphan clip objects.")
