-- Clip titles (filled in for existing clips) and title search indexes
-- (Alembic: migrations/versions/0006_clip_titles_and_search.py).
BEGIN;

ALTER TABLE recording_clips ADD COLUMN title VARCHAR(200);

CREATE OR REPLACE FUNCTION pg_temp.reclip_clock(seconds double precision) RETURNS text AS $$
  SELECT CASE WHEN floor(seconds) >= 3600
    THEN floor(seconds / 3600)::int || ':' || lpad((floor(seconds)::int % 3600 / 60)::text, 2, '0')
         || ':' || lpad((floor(seconds)::int % 60)::text, 2, '0')
    ELSE (floor(seconds)::int / 60) || ':' || lpad((floor(seconds)::int % 60)::text, 2, '0') END
$$ LANGUAGE sql IMMUTABLE;

UPDATE recording_clips c SET title = left(
    coalesce(nullif(trim(r.title), ''), nullif(trim(r.room_name), ''), 'Meet recording ' || r.id)
    || ' ' || pg_temp.reclip_clock(c.start_seconds) || '–' || pg_temp.reclip_clock(c.end_seconds), 200)
  FROM meet_rooms r WHERE c.source_type = 'meet' AND r.id = c.source_id AND c.title IS NULL;
UPDATE recording_clips c SET title = left(
    coalesce(nullif(trim(r.title), ''), nullif(trim(r.caller), ''), 'Voice call ' || r.id)
    || ' ' || pg_temp.reclip_clock(c.start_seconds) || '–' || pg_temp.reclip_clock(c.end_seconds), 200)
  FROM voice_calls r WHERE c.source_type = 'voice' AND r.id = c.source_id AND c.title IS NULL;

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS ix_meet_rooms_title ON meet_rooms USING gin (title gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ix_voice_calls_title ON voice_calls USING gin (title gin_trgm_ops);

COMMIT;
