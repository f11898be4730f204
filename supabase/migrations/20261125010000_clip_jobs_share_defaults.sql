-- Server clip jobs (step, attempts) and default share links
-- (Alembic: migrations/versions/0002_clip_jobs_share_defaults.py).
BEGIN;

ALTER TABLE recording_clips ADD COLUMN step VARCHAR(16);
ALTER TABLE recording_clips ADD COLUMN attempts INTEGER DEFAULT '0' NOT NULL;
ALTER TABLE share_links ADD COLUMN is_default BOOLEAN DEFAULT false NOT NULL;
CREATE INDEX ix_share_links_target ON share_links (target_type, target_id);
CREATE INDEX ix_share_links_creator ON share_links (created_by_id, created_at);

COMMIT;
