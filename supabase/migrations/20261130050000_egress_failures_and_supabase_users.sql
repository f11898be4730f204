-- Recordings whose Egress failed (failure), and dashboard (Supabase Auth) users (supabase_user_id)
-- (Alembic: migrations/versions/0008_egress_failures_and_supabase_users.py).
BEGIN;

ALTER TABLE meet_rooms ADD COLUMN failure TEXT;
ALTER TABLE voice_calls ADD COLUMN failure TEXT;
ALTER TABLE users ADD COLUMN supabase_user_id VARCHAR(64);
ALTER TABLE users ADD CONSTRAINT uq_users_supabase_user_id UNIQUE (supabase_user_id);

COMMIT;
