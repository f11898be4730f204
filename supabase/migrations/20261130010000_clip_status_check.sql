-- Clip status CHECK constraint (Alembic: migrations/versions/0004_clip_status_check.py).
BEGIN;

ALTER TABLE recording_clips ADD CONSTRAINT ck_recording_clips_status
    CHECK (status IN ('awaiting_upload', 'queued', 'processing', 'ready', 'failed', 'expired'));

COMMIT;
