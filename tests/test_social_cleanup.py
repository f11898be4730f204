"""Social-ready exports are a cache: deleted once their clip is gone or a day after their last use,
never while a post is on its way; export files without a row go too."""
from datetime import timedelta

import pytest

from webapp.extensions import db
from webapp.social.cleanup import cleanup
from webapp.social.models import Publication, PublicationStatus, SocialExport
from webapp.storage import get_storage
from webapp.timeutil import utcnow
from tests.factories import make_ready_clip, make_recording, make_user, put_object


@pytest.fixture
def clip(app, media_dir):
    user = make_user()
    return make_ready_clip(make_recording(owner=user, file=media_dir / "sample.mp4"), media_dir / "sample.mp4",
                           user=user)


def make_export(target_id, age=timedelta(0), shape="vertical", status="ready"):
    key = f"exports/clip-{target_id}-{shape}-blur.mp4"
    put_object(key)
    export = SocialExport(target_type="clip", target_id=target_id, shape=shape, fill="blur", status=status,
                          storage_key=key, created_at=utcnow() - age)
    db.session.add(export)
    db.session.commit()
    return export


def post_with(export, status, age=timedelta(0)):
    publication = Publication(id=f"{export.id:032x}", user_id=None, destination_id=None, target_type="clip",
                              target_id=export.target_id, platform="instagram", destination_name="@acme",
                              shape=export.shape, fill=export.fill, status=status,
                              export_id=export.id, updated_at=utcnow() - age, created_at=utcnow() - age)
    db.session.add(publication)
    db.session.commit()
    return publication


def exists(key):
    return get_storage().head(key) is not None


def test_a_fresh_export_of_a_live_clip_is_kept(app, clip):
    export = make_export(clip.id)
    assert cleanup()["exports_deleted"] == 0
    assert exists(export.storage_key) and db.session.get(SocialExport, export.id)


def test_an_export_of_a_deleted_clip_goes_at_once(app, clip):
    export = make_export(clip.id)
    key = export.storage_key
    db.session.delete(clip)
    db.session.commit()
    assert cleanup()["exports_deleted"] == 1
    assert not exists(key) and db.session.scalar(db.select(SocialExport)) is None


def test_an_export_goes_a_day_after_its_last_use(app, clip):
    old = make_export(clip.id, age=timedelta(days=3))
    post_with(old, PublicationStatus.PUBLISHED, age=timedelta(hours=2))  # used two hours ago: kept
    stale = make_export(clip.id, age=timedelta(days=3), shape="square")
    post_with(stale, PublicationStatus.FAILED, age=timedelta(days=2))
    assert cleanup()["exports_deleted"] == 1
    assert exists(old.storage_key) and not exists(stale.storage_key)
    assert db.session.scalar(db.select(Publication).where(Publication.shape == "square")).export_id is None


def test_an_export_a_post_is_using_is_never_deleted(app, clip):
    export = make_export(clip.id, age=timedelta(days=3))
    post_with(export, PublicationStatus.UPLOADING, age=timedelta(days=2))
    db.session.delete(clip)
    db.session.commit()
    assert cleanup()["exports_deleted"] == 0
    assert exists(export.storage_key)


def test_export_files_without_a_row_go_when_a_day_old(app):
    put_object("exports/clip-old-vertical-blur.mp4", age_seconds=2 * 86400)
    put_object("exports/clip-new-vertical-blur.mp4")
    assert cleanup()["export_orphans_deleted"] == 1
    assert not exists("exports/clip-old-vertical-blur.mp4") and exists("exports/clip-new-vertical-blur.mp4")


def test_the_periodic_clean_up_job_runs_it(app, clip):
    key = make_export(clip.id).storage_key
    db.session.delete(clip)
    db.session.commit()
    result = app.extensions["jobs"]["cleanup_clips"].call_local()
    assert result["exports_deleted"] == 1 and not exists(key)


def test_the_command_says_what_it_deleted(app, runner):
    put_object("exports/meet-1-vertical-blur.mp4", age_seconds=2 * 86400)
    result = runner.invoke(args=["social", "cleanup"])
    assert result.exit_code == 0, result.output
    assert "1 export files without a row" in result.output
