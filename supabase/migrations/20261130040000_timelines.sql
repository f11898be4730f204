-- timeline_status: the clip editor's thumbnails, waveform and keyframes, made by a job
-- (Alembic: migrations/versions/0007_timelines.py).
BEGIN;

ALTER TABLE meet_rooms ADD COLUMN timeline_status VARCHAR(8);
ALTER TABLE voice_calls ADD COLUMN timeline_status VARCHAR(8);

COMMIT;
