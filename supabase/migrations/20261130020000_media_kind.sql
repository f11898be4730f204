-- media_kind (video | audio) on recordings and clips (Alembic: migrations/versions/0005_media_kind.py).
-- Recordings learn theirs by probing (`flask recordings backfill`); a clip's file name already says it.
BEGIN;

ALTER TABLE meet_rooms ADD COLUMN media_kind VARCHAR(5);
ALTER TABLE meet_rooms ADD CONSTRAINT ck_meet_rooms_media_kind CHECK (media_kind IN ('video', 'audio'));
ALTER TABLE voice_calls ADD COLUMN media_kind VARCHAR(5);
ALTER TABLE voice_calls ADD CONSTRAINT ck_voice_calls_media_kind CHECK (media_kind IN ('video', 'audio'));
ALTER TABLE recording_clips ADD COLUMN media_kind VARCHAR(5);
UPDATE recording_clips SET media_kind = CASE WHEN storage_key LIKE '%.m4a' THEN 'audio' ELSE 'video' END;
ALTER TABLE recording_clips ALTER COLUMN media_kind SET NOT NULL;
ALTER TABLE recording_clips ADD CONSTRAINT ck_recording_clips_media_kind CHECK (media_kind IN ('video', 'audio'));

COMMIT;
