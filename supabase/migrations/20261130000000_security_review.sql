-- Session generation (logout ends sessions), posters made by a job, stored picture sizes
-- (Alembic: migrations/versions/0003_security_review.py).
BEGIN;

ALTER TABLE users ADD COLUMN session_generation INTEGER DEFAULT '0' NOT NULL;
ALTER TABLE meet_rooms ADD COLUMN width INTEGER;
ALTER TABLE meet_rooms ADD COLUMN height INTEGER;
ALTER TABLE meet_rooms ADD COLUMN poster_status VARCHAR(8);
ALTER TABLE voice_calls ADD COLUMN width INTEGER;
ALTER TABLE voice_calls ADD COLUMN height INTEGER;
ALTER TABLE voice_calls ADD COLUMN poster_status VARCHAR(8);
ALTER TABLE recording_clips ADD COLUMN width INTEGER;
ALTER TABLE recording_clips ADD COLUMN height INTEGER;
ALTER TABLE recording_clips ADD COLUMN poster_status VARCHAR(8);

COMMIT;
