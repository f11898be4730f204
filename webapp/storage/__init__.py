"""Object storage behind one small interface, chosen from STORAGE_BACKEND."""
from flask import current_app

from webapp.errors import error_response

from webapp.storage.base import (InvalidKey, ObjectInfo, ObjectMissing, Storage, StorageError, StorageFull,
                                 StorageUnavailable, UploadTarget)

__all__ = ["InvalidKey", "ObjectInfo", "ObjectMissing", "Storage", "StorageError", "StorageFull", "StorageUnavailable",
           "UploadTarget", "build_storage", "get_storage", "init_app"]


def build_storage(config):
    """The backend that the configuration names."""
    backend = config["STORAGE_BACKEND"]
    if backend == "local":
        from webapp.storage.local import LocalStorage
        return LocalStorage(config["STORAGE_LOCAL_ROOT"], config["SECRET_KEY"], config.get("PUBLIC_BASE_URL", ""))
    if backend == "s3":
        from webapp.storage.s3 import S3Storage
        return S3Storage(config["S3_BUCKET"], endpoint_url=config["S3_ENDPOINT_URL"], region=config["S3_REGION"],
                         access_key=config["AWS_ACCESS_KEY_ID"], secret_key=config["AWS_SECRET_ACCESS_KEY"])
    if backend == "supabase":
        from webapp.storage.supabase import SupabaseStorage
        return SupabaseStorage(config["SUPABASE_URL"], config["SUPABASE_SERVICE_KEY"], config["SUPABASE_BUCKET"])
    raise RuntimeError(f"unknown STORAGE_BACKEND {backend!r}")


def init_app(app):
    app.extensions["storage"] = build_storage(app.config)

    @app.errorhandler(StorageUnavailable)
    def handle_storage_unavailable(exc):
        app.logger.warning("storage unavailable: %s", exc)
        return error_response(503, "storage_unavailable", "Storage cannot be reached right now. Try again shortly.")

    @app.errorhandler(StorageFull)
    def handle_storage_full(exc):
        app.logger.warning("storage full: %s", exc)
        return error_response(507, "storage_full", "There is no room left in storage. Try again later.")

    @app.errorhandler(ObjectMissing)
    def handle_object_missing(exc):  # deleted between a check and the signing
        return error_response(404, "media_missing", "The file is missing from storage.")


def get_storage():
    """The app's storage backend."""
    return current_app.extensions["storage"]
