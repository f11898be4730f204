"""Configuration: the only module that reads the environment."""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PASSWORD_HASH = "scrypt:131072:8:1"  # OWASP: N=2^17, r=8, p=1
META_GRAPH_VERSION = "v26.0"  # Meta's Graph API version Reclip is written against (released July 29, 2026)


def _bool(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name, default):
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw.strip() else default
    except ValueError:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from None


def _float(name, default):
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw.strip() else default
    except ValueError:
        raise RuntimeError(f"{name} must be a number, got {raw!r}") from None


def _list(raw):
    return [item.strip().lower() for item in (raw or "").split(",") if item.strip()]


def instance_path():
    """INSTANCE_PATH, else <project>/instance: the database, storage, secret key and queue live there."""
    load_dotenv(PROJECT_ROOT / ".env")
    return os.environ.get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance")


def database_url(raw, instance):
    """The SQLAlchemy URL; plain postgres:// URLs (Supabase, Heroku) use the psycopg 3 driver."""
    if not raw:
        return f"sqlite:///{instance / 'reclip.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def load_secret_key(instance_path):
    """Use SECRET_KEY, or one generated once into instance/secret_key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_config(instance_path):
    """Build the settings mapping from the environment (and a .env file); SECRET_KEY comes apart."""
    load_dotenv(PROJECT_ROOT / ".env")
    instance = Path(instance_path)
    env = os.environ.get
    public_base_url = env("PUBLIC_BASE_URL", "").rstrip("/")
    redis_url = env("REDIS_URL") or None
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url(env("DATABASE_URL"), instance),
        "STORAGE_BACKEND": env("STORAGE_BACKEND", "local"),
        "STORAGE_LOCAL_ROOT": str(instance / "storage"),
        "S3_BUCKET": env("S3_BUCKET", ""),
        "S3_ENDPOINT_URL": env("S3_ENDPOINT_URL") or None,
        "S3_REGION": env("S3_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": env("AWS_ACCESS_KEY_ID") or None,
        "AWS_SECRET_ACCESS_KEY": env("AWS_SECRET_ACCESS_KEY") or None,
        "SUPABASE_URL": env("SUPABASE_URL", "").rstrip("/"),
        "SUPABASE_JWT_SECRET": env("SUPABASE_JWT_SECRET", ""),
        "API_CORS_ORIGINS": _list(env("API_CORS_ORIGINS", "")),  # e.g. the dashboard, calling with bearer tokens
        "SUPABASE_SERVICE_KEY": env("SUPABASE_SERVICE_KEY", ""),
        "SUPABASE_BUCKET": env("SUPABASE_BUCKET", ""),
        "SIGNED_URL_TTL": _int("SIGNED_URL_TTL", 600),
        "REDIS_URL": redis_url,
        # One store for every process of a node (SQLite in instance/), or for every node (Redis).
        "RATELIMIT_STORAGE_URI": redis_url or f"sqlite:///{instance / 'ratelimits.db'}",
        "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on a 429
        # Store unreachable (Redis down): count in this process's memory until it is back, never unlimited.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "TRUST_PROXY_HOPS": _int("TRUST_PROXY_HOPS", 0),
        "TRUSTED_HOSTS": _list(env("TRUSTED_HOSTS", "")) or None,  # None: the PUBLIC_BASE_URL host, or localhost
        # Bodies: JSON and forms are small; the local backend's upload route sets its own limit.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "CLIP_RATE_LIMIT": env("CLIP_RATE_LIMIT", "30 per minute"),
        "CLIP_PENDING_UPLOADS_MAX": _int("CLIP_PENDING_UPLOADS_MAX", 10),
        "CLIP_PENDING_UPLOAD_BYTES_MAX": _int("CLIP_PENDING_UPLOAD_BYTES_MAX", 4_000_000_000),
        "CLIP_SERVER_JOBS_MAX": _int("CLIP_SERVER_JOBS_MAX", 3),
        "SHARE_MEDIA_TTL": _int("SHARE_MEDIA_TTL", 60),
        "LIVEKIT_API_KEY": env("LIVEKIT_API_KEY") or None,
        "LIVEKIT_API_SECRET": env("LIVEKIT_API_SECRET") or None,
        "LIVEKIT_DEFAULT_PRODUCT": (env("LIVEKIT_DEFAULT_PRODUCT") or "").strip().lower() or None,
        "PUBLIC_BASE_URL": public_base_url,
        # Post for me (webapp/social/): each platform is off until its keys are set.
        "META_APP_ID": env("META_APP_ID") or None,
        "META_APP_SECRET": env("META_APP_SECRET") or None,
        "META_GRAPH_URL": (env("META_GRAPH_URL") or f"https://graph.facebook.com/{META_GRAPH_VERSION}").rstrip("/"),
        "META_OAUTH_URL": (env("META_OAUTH_URL") or f"https://www.facebook.com/{META_GRAPH_VERSION}").rstrip("/"),
        "TIKTOK_CLIENT_KEY": env("TIKTOK_CLIENT_KEY") or None,
        "TIKTOK_CLIENT_SECRET": env("TIKTOK_CLIENT_SECRET") or None,
        "TIKTOK_API_URL": (env("TIKTOK_API_URL") or "https://open.tiktokapis.com").rstrip("/"),
        "TIKTOK_AUTH_URL": env("TIKTOK_AUTH_URL") or "https://www.tiktok.com/v2/auth/authorize/",
        "TIKTOK_DIRECT_POST": _bool(env("TIKTOK_DIRECT_POST")),  # the app passed TikTok's audit
        "TOKEN_ENCRYPTION_KEYS": [key.strip() for key in (env("TOKEN_ENCRYPTION_KEYS") or "").split(",") if key.strip()],
        "SOCIAL_POLL_SECONDS": _float("SOCIAL_POLL_SECONDS", 5.0),
        "SOCIAL_POLL_TIMEOUT": _int("SOCIAL_POLL_TIMEOUT", 600),
        "SOCIAL_RETRY_DELAY": _int("SOCIAL_RETRY_DELAY", 30),
        "SOCIAL_BACKOFF_SECONDS": _float("SOCIAL_BACKOFF_SECONDS", 1.0),
        "ALLOWED_PRODUCTS": _list(env("ALLOWED_PRODUCTS", "tipjar,m10")),
        "PROXY_ALLOWED_HOSTS": _list(env("PROXY_ALLOWED_HOSTS", "")),
        "PROXY_ALLOW_PRIVATE_ADDRESSES": _bool(env("PROXY_ALLOW_PRIVATE_ADDRESSES")),
        "CLIP_MAX_SECONDS": _int("CLIP_MAX_SECONDS", 600),
        "BROWSER_TRIM_MAX_BYTES": _int("BROWSER_TRIM_MAX_BYTES", 1_500_000_000),
        "FFMPEG_BINARY": env("FFMPEG_BINARY") or None,
        "JOB_QUEUE_NAME": env("JOB_QUEUE_NAME", "reclip"),
        "CLIP_JOB_RETRY_DELAY": _int("CLIP_JOB_RETRY_DELAY", 10),
        "CLIP_JOB_STALE_SECONDS": _int("CLIP_JOB_STALE_SECONDS", 120),
        "PASSWORD_HASH_METHOD": DEFAULT_PASSWORD_HASH,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public_base_url.startswith("https://"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": public_base_url.startswith("https://"),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "JSON_SORT_KEYS": False,
    }
    return config


def validate_config(config):
    """Raise RuntimeError for settings the app cannot run with."""
    ttl = config["SIGNED_URL_TTL"]
    if not 60 <= ttl <= 900:
        raise RuntimeError(f"SIGNED_URL_TTL must be 60..900 seconds, got {ttl}")
    backend = config["STORAGE_BACKEND"]
    if backend not in {"local", "s3", "supabase"}:
        # Supabase Storage either natively (supabase) or through its S3 endpoint (s3).
        raise RuntimeError(f"STORAGE_BACKEND must be local, s3 or supabase, got {backend!r}")
    if backend == "s3" and not config["S3_BUCKET"]:
        raise RuntimeError("STORAGE_BACKEND=s3 needs S3_BUCKET")
    missing = [name for name in ("SUPABASE_URL", "SUPABASE_SERVICE_KEY", "SUPABASE_BUCKET") if not config[name]]
    if backend == "supabase" and missing:
        raise RuntimeError(f"STORAGE_BACKEND=supabase needs {', '.join(missing)}")
    if backend == "supabase" and not config["SUPABASE_URL"].startswith(("https://", "http://")):
        raise RuntimeError("SUPABASE_URL must be the project's http(s) URL, like https://<ref>.supabase.co")
    if config["CLIP_MAX_SECONDS"] < 1:
        raise RuntimeError("CLIP_MAX_SECONDS must be at least 1")
    if not 1 <= config["SHARE_MEDIA_TTL"] <= ttl:
        raise RuntimeError(f"SHARE_MEDIA_TTL must be 1..SIGNED_URL_TTL ({ttl}) seconds")
    for origin in config.get("API_CORS_ORIGINS") or []:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise RuntimeError(f"API_CORS_ORIGINS takes origins like https://app.example.com, got {origin!r}")
    if (config.get("META_APP_ID") or config.get("TIKTOK_CLIENT_KEY")) and not config.get("TOKEN_ENCRYPTION_KEYS"):
        raise RuntimeError("Connected accounts keep platform tokens encrypted: set TOKEN_ENCRYPTION_KEYS "
                           "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')")
    for key in config.get("TOKEN_ENCRYPTION_KEYS") or []:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise RuntimeError("TOKEN_ENCRYPTION_KEYS must be Fernet keys (Fernet.generate_key()), "
                               "comma-separated, the newest first") from None
    if config["TRUST_PROXY_HOPS"] < 0:
        raise RuntimeError("TRUST_PROXY_HOPS must be 0 or more")
