-- Reclip schema for Supabase (PostgreSQL), equivalent to the Alembic migration
-- migrations/versions/0001_initial_schema.py. Generated with
-- `DATABASE_URL=postgresql://... flask --app wsgi db upgrade --sql`; tests/test_supabase_sql.py
-- checks that it builds the same schema as the models.
BEGIN;

CREATE TABLE users (
    id SERIAL NOT NULL,
    email VARCHAR(320) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    is_super_admin BOOLEAN NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY (id),
    CONSTRAINT uq_users_email UNIQUE (email)
);

CREATE TABLE meet_rooms (
    room_name VARCHAR(255) NOT NULL,
    owner_id INTEGER,
    id SERIAL NOT NULL,
    product VARCHAR(32) NOT NULL,
    title VARCHAR(255) NOT NULL,
    recording_url TEXT NOT NULL,
    duration_seconds FLOAT,
    size_bytes BIGINT,
    egress_id VARCHAR(64),
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_meet_rooms PRIMARY KEY (id),
    CONSTRAINT fk_meet_rooms_owner_id_users FOREIGN KEY(owner_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT uq_meet_rooms_egress_id UNIQUE (egress_id)
);

CREATE INDEX ix_meet_rooms_created ON meet_rooms (created_at, id);

CREATE INDEX ix_meet_rooms_owner_created ON meet_rooms (owner_id, created_at, id);

CREATE TABLE recording_clips (
    id VARCHAR(32) NOT NULL,
    source_type VARCHAR(8) NOT NULL,
    source_id INTEGER NOT NULL,
    recording_url TEXT NOT NULL,
    start_seconds FLOAT NOT NULL,
    end_seconds FLOAT NOT NULL,
    mode VARCHAR(8) NOT NULL,
    precise BOOLEAN NOT NULL,
    status VARCHAR(16) NOT NULL,
    storage_key VARCHAR(255) NOT NULL,
    clip_url TEXT,
    upload_max_bytes BIGINT,
    size_bytes BIGINT,
    duration_seconds FLOAT,
    error TEXT,
    user_id INTEGER,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_recording_clips PRIMARY KEY (id),
    CONSTRAINT fk_recording_clips_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT uq_recording_clips_storage_key UNIQUE (storage_key)
);

CREATE INDEX ix_recording_clips_source ON recording_clips (source_type, source_id, created_at);

CREATE INDEX ix_recording_clips_status ON recording_clips (status, created_at);

CREATE TABLE share_links (
    id SERIAL NOT NULL,
    token_hash VARCHAR(64) NOT NULL,
    target_type VARCHAR(8) NOT NULL,
    target_id VARCHAR(32) NOT NULL,
    created_by_id INTEGER,
    expires_at TIMESTAMP WITH TIME ZONE,
    revoked_at TIMESTAMP WITH TIME ZONE,
    allow_download BOOLEAN NOT NULL,
    password_hash VARCHAR(255),
    view_count INTEGER NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_share_links PRIMARY KEY (id),
    CONSTRAINT fk_share_links_created_by_id_users FOREIGN KEY(created_by_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT uq_share_links_token_hash UNIQUE (token_hash)
);

CREATE TABLE voice_calls (
    caller VARCHAR(255) NOT NULL,
    owner_id INTEGER,
    id SERIAL NOT NULL,
    product VARCHAR(32) NOT NULL,
    title VARCHAR(255) NOT NULL,
    recording_url TEXT NOT NULL,
    duration_seconds FLOAT,
    size_bytes BIGINT,
    egress_id VARCHAR(64),
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_voice_calls PRIMARY KEY (id),
    CONSTRAINT fk_voice_calls_owner_id_users FOREIGN KEY(owner_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT uq_voice_calls_egress_id UNIQUE (egress_id)
);

CREATE INDEX ix_voice_calls_created ON voice_calls (created_at, id);

COMMIT;
