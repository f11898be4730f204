"""Social-ready exports are a cache beside the clip: kept while a post may still need them, deleted once
their clip or recording is gone, or a day after they were last used (the next post in that shape makes
the file again). Run by the periodic clean-up job."""
from datetime import timedelta

from sqlalchemy import func, select

from webapp.clips.models import RecordingClip
from webapp.clips.states import ClipStatus
from webapp.extensions import db
from webapp.recordings.models import RECORDING_MODELS
from webapp.social.models import Publication, PublicationStatus, SocialExport
from webapp.storage import get_storage
from webapp.timeutil import utcnow

EXPORT_KEEP = timedelta(days=1)
EXPORT_PREFIX = "exports/"


def target_exists(target_type, target_id):
    if target_type == "clip":
        clip = db.session.get(RecordingClip, target_id)
        return clip is not None and clip.status == ClipStatus.READY
    model = RECORDING_MODELS.get(target_type)
    return model is not None and target_id.isdigit() and db.session.get(model, int(target_id)) is not None


def cleanup():
    """Delete the exports no post needs (object and row), and export objects without a row."""
    storage = get_storage()
    now = utcnow()
    in_use = select(Publication.export_id).where(Publication.export_id.is_not(None),
                                                 Publication.status.in_(PublicationStatus.ACTIVE))
    last_used = (select(Publication.export_id, func.max(Publication.updated_at).label("at"))
                 .where(Publication.export_id.is_not(None)).group_by(Publication.export_id).subquery())
    candidates = db.session.execute(
        select(SocialExport, last_used.c.at).outerjoin(last_used, last_used.c.export_id == SocialExport.id)
        .where(SocialExport.id.not_in(in_use))).all()
    deleted = 0
    for export, used_at in candidates:
        fresh = now - max(export.created_at, used_at or export.created_at) < EXPORT_KEEP
        if fresh and target_exists(export.target_type, export.target_id):
            continue
        storage.delete(export.storage_key)
        db.session.execute(Publication.__table__.update().where(Publication.export_id == export.id)
                           .values(export_id=None))
        db.session.delete(export)
        deleted += 1
    db.session.commit()

    known = set(db.session.scalars(select(SocialExport.storage_key)))
    orphans = [info.key for info in storage.list(EXPORT_PREFIX)
               if info.key not in known and (info.last_modified is None or now - info.last_modified > EXPORT_KEEP)]
    for key in orphans:
        storage.delete(key)
    return {"exports_deleted": deleted, "export_orphans_deleted": len(orphans)}
