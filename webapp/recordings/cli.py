import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import click
from flask import Blueprint, current_app

from webapp import posters, timeline
from webapp.auth import service as users
from webapp.errors import ApiError
from webapp.media import MediaError, generate_test_media
from webapp.recordings import service
from webapp.recordings.models import RECORDING_MODELS, MeetRoom
from webapp.extensions import db
from webapp.timeutil import utcnow

bp = Blueprint("recordings_cli", __name__, cli_group="recordings")
demo_bp = Blueprint("demo", __name__, cli_group="demo")

DEMO_EMAIL = "admin@reclip.local"
DEMO_RECORDINGS = [  # (type, title, seconds, video, age)
    ("meet", "Weekly product sync", 95, True, timedelta(days=1)),
    ("meet", "Design review: café menu ☕", 40, True, timedelta(hours=3)),
    ("voice", "Call with +1 555 0100", 70, False, timedelta(hours=5)),
]


@bp.cli.command("add")
@click.option("--type", "source_type", type=click.Choice(["meet", "voice"]), required=True)
@click.option("--product", required=True)
@click.option("--owner", "owner_email", required=True, help="Email of the owning user.")
@click.option("--title", required=True)
@click.option("--file", "file", type=click.Path(dir_okay=False), help="A local file, copied into storage.")
@click.option("--key", help="An object already in the bucket.")
@click.option("--url", help="An external URL (streamed through the proxy).")
def add(source_type, product, owner_email, title, file, key, url):
    """Register a recording; prints its id alone on the last line."""
    try:
        recording = service.add_recording(source_type=source_type, product=product, owner_email=owner_email,
                                          title=title, file=file, key=key, url=url)
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    posters.request_poster(recording)
    timeline.request_timeline(recording)
    click.echo(f"Added {source_type} recording {recording.title!r} "
               f"({recording.duration_seconds or '?'} s, {recording.size_bytes or '?'} bytes)")
    click.echo(recording.id)


@bp.cli.command("assign")
@click.argument("recording_id", type=int)
@click.option("--type", "source_type", type=click.Choice(["meet", "voice"]), default="meet", show_default=True)
@click.option("--owner", "owner_email", required=True, help="Email of the new owner ('' for nobody).")
def assign(recording_id, source_type, owner_email):
    """Give a recording (an Egress of a room Reclip had not seen, say) to a person."""
    recording = db.session.get(RECORDING_MODELS[source_type], recording_id)
    if recording is None:
        raise click.ClickException(f"No {source_type} recording {recording_id}.")
    try:
        owner = service.assign_owner(recording, owner_email.strip())
    except ApiError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{source_type} recording {recording_id} now belongs to {owner.email if owner else 'nobody'}")


@bp.cli.command("backfill")
def backfill():
    """Probe recordings that do not know yet whether they have a picture (and its size)."""
    counts = service.backfill_media()
    click.echo(f"Probed {counts['probed']} recordings; {counts['unreadable']} could not be read.")


def _credentials_file():
    return Path(current_app.instance_path) / "demo-credentials.txt"


@demo_bp.cli.command("seed")
def seed():
    """Create the demo super admin and demo recordings (once), and print the credentials."""
    creds = _credentials_file()
    user = users.find_user_by_email(DEMO_EMAIL)
    if user is None or not creds.exists():
        password = secrets.token_urlsafe(12)
        if user is None:
            user = users.create_user(DEMO_EMAIL, password, super_admin=True)
        else:
            users.set_password(user, password)
        creds.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(creds, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{DEMO_EMAIL}\n{password}\n")
    if db.session.query(MeetRoom.id).filter(MeetRoom.owner_id == user.id).first() is None:
        _seed_recordings(user)
    email, password = creds.read_text().split()[:2]
    click.echo(f"Demo super admin: {email} / {password}")


def _seed_recordings(user):
    with tempfile.TemporaryDirectory() as tmp:
        for index, (source_type, title, seconds, video, age) in enumerate(DEMO_RECORDINGS):
            path = Path(tmp) / f"demo-{index}.{'mp4' if video else 'm4a'}"
            click.echo(f"Generating demo recording {title!r} ({seconds} s) with ffmpeg...")
            try:
                generate_test_media(path, seconds, video=video, frequency=330 + 110 * index)
            except MediaError as exc:
                raise click.ClickException(str(exc)) from None
            recording = service.add_recording(source_type=source_type, product="m10", owner_email=user.email,
                                              title=title, file=str(path), created_at=utcnow() - age)
            posters.request_poster(recording)
            timeline.request_timeline(recording)
