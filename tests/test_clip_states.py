"""The clip statuses are written down once (webapp/clips/states.py); the database, the migration,
the OpenAPI description and the page's JS module all hold exactly that list."""
import re
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.factories import make_recording
from webapp.clips.states import LISTED, ClipStatus
from webapp.config import PROJECT_ROOT
from webapp.extensions import db

STATUSES = [status.value for status in ClipStatus]


def test_the_pages_js_module_knows_exactly_these_statuses():
    source = (PROJECT_ROOT / "static" / "js" / "clip-states.js").read_text()
    labels = re.search(r"const LABELS = Object\.freeze\(\{(.*?)\}\);", source, re.S).group(1)
    assert re.findall(r"(\w+):", labels) == STATUSES


def test_the_migration_checks_exactly_these_statuses():
    migration = (PROJECT_ROOT / "migrations" / "versions" / "0004_clip_status_check.py").read_text()
    supabase = next((PROJECT_ROOT / "supabase" / "migrations").glob("*_clip_status_check.sql")).read_text()
    for source in (migration, supabase):
        assert re.findall(r"'(\w+)'", source.split("status IN (", 1)[1].split(")", 1)[0]) == STATUSES


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_openapi_reads_the_enum(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["components"]["schemas"]["Clip"]["properties"]["status"]["enum"] == STATUSES


def test_the_database_refuses_any_other_status(app):
    recording = make_recording()
    insert = text("INSERT INTO recording_clips (id, source_type, source_id, recording_url, start_seconds, end_seconds,"
                  " mode, precise, status, storage_key, attempts, created_at, updated_at, media_kind) VALUES (:id, 'meet',"
                  " :rid, 'x', 1, 2, 'browser', false, :status, :key, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'video')")
    with pytest.raises(IntegrityError):
        db.session.execute(insert, {"id": uuid.uuid4().hex, "rid": recording.id, "status": "done", "key": "k1"})
        db.session.commit()
    db.session.rollback()
    db.session.execute(insert, {"id": uuid.uuid4().hex, "rid": recording.id, "status": "ready", "key": "k2"})
    db.session.commit()


def test_an_upload_in_progress_is_not_listed():
    assert ClipStatus.AWAITING_UPLOAD not in LISTED and ClipStatus.EXPIRED not in LISTED
