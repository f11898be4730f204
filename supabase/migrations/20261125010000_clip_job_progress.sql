-- Server clip jobs: what the job is doing now and how often it started
-- (Alembic: migrations/versions/0002_clip_job_progress.py).
BEGIN;

ALTER TABLE recording_clips ADD COLUMN step VARCHAR(16);
ALTER TABLE recording_clips ADD COLUMN attempts INTEGER DEFAULT '0' NOT NULL;

COMMIT;
