-- Connected social accounts (tokens encrypted), their destinations, social-ready exports and publications
-- (Alembic: migrations/versions/0009_social_accounts_and_publications.py).
BEGIN;


CREATE TABLE social_exports (
    id SERIAL NOT NULL,
    target_type VARCHAR(8) NOT NULL,
    target_id VARCHAR(32) NOT NULL,
    shape VARCHAR(8) NOT NULL,
    fill VARCHAR(8) NOT NULL,
    status VARCHAR(8) NOT NULL,
    storage_key VARCHAR(255) NOT NULL,
    size_bytes BIGINT,
    duration_seconds FLOAT,
    width INTEGER,
    height INTEGER,
    error TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_social_exports PRIMARY KEY (id),
    CONSTRAINT ck_social_exports_status CHECK (status IN ('making', 'ready', 'failed')),
    CONSTRAINT uq_social_exports_storage_key UNIQUE (storage_key),
    CONSTRAINT uq_social_exports_target_shape UNIQUE (target_type, target_id, shape, fill)
);

CREATE TABLE social_connections (
    id SERIAL NOT NULL,
    user_id INTEGER NOT NULL,
    provider VARCHAR(16) NOT NULL,
    external_user_id VARCHAR(128) NOT NULL,
    display_name VARCHAR(200),
    access_token TEXT NOT NULL,
    refresh_token TEXT,
    access_expires_at TIMESTAMP WITH TIME ZONE,
    refresh_expires_at TIMESTAMP WITH TIME ZONE,
    scopes TEXT,
    status VARCHAR(16) NOT NULL,
    status_reason TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_social_connections PRIMARY KEY (id),
    CONSTRAINT ck_social_connections_provider CHECK (provider IN ('meta', 'tiktok')),
    CONSTRAINT ck_social_connections_status CHECK (status IN ('active', 'needs_reconnect')),
    CONSTRAINT fk_social_connections_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT uq_social_connections_user_provider UNIQUE (user_id, provider)
);

CREATE TABLE social_destinations (
    id SERIAL NOT NULL,
    connection_id INTEGER NOT NULL,
    platform VARCHAR(16) NOT NULL,
    external_id VARCHAR(128) NOT NULL,
    name VARCHAR(200) NOT NULL,
    page_token TEXT,
    CONSTRAINT pk_social_destinations PRIMARY KEY (id),
    CONSTRAINT ck_social_destinations_platform CHECK (platform IN ('facebook', 'instagram', 'tiktok')),
    CONSTRAINT fk_social_destinations_connection_id_social_connections FOREIGN KEY(connection_id) REFERENCES social_connections (id) ON DELETE CASCADE,
    CONSTRAINT uq_social_destinations_connection_platform_external UNIQUE (connection_id, platform, external_id)
);

CREATE TABLE publications (
    id VARCHAR(32) NOT NULL,
    user_id INTEGER,
    target_type VARCHAR(8) NOT NULL,
    target_id VARCHAR(32) NOT NULL,
    destination_id INTEGER,
    platform VARCHAR(16) NOT NULL,
    destination_name VARCHAR(200) NOT NULL,
    shape VARCHAR(8) NOT NULL,
    fill VARCHAR(8) NOT NULL,
    caption TEXT NOT NULL,
    privacy_level VARCHAR(40),
    status VARCHAR(16) NOT NULL,
    step VARCHAR(32),
    export_id INTEGER,
    remote_id VARCHAR(128),
    upload_url TEXT,
    uploaded_bytes BIGINT DEFAULT '0' NOT NULL,
    upload_started_at TIMESTAMP WITH TIME ZONE,
    permalink TEXT,
    error TEXT,
    attempts INTEGER DEFAULT '0' NOT NULL,
    polls INTEGER DEFAULT '0' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_publications PRIMARY KEY (id),
    CONSTRAINT ck_publications_shape CHECK (shape IN ('original', 'vertical', 'square')),
    CONSTRAINT ck_publications_status CHECK (status IN ('queued', 'exporting', 'uploading', 'processing', 'published', 'inbox', 'failed')),
    CONSTRAINT fk_publications_destination_id_social_destinations FOREIGN KEY(destination_id) REFERENCES social_destinations (id) ON DELETE SET NULL,
    CONSTRAINT fk_publications_export_id_social_exports FOREIGN KEY(export_id) REFERENCES social_exports (id) ON DELETE SET NULL,
    CONSTRAINT fk_publications_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE SET NULL
);

CREATE INDEX ix_publications_status ON publications (status, updated_at);

CREATE INDEX ix_publications_target ON publications (target_type, target_id, created_at);


COMMIT;

