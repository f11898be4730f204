"""The storage interface every backend implements, and what it returns."""
import re
from dataclasses import dataclass, field
from datetime import datetime

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,511}$")


class StorageError(Exception):
    """Base class for storage failures."""


class StorageUnavailable(StorageError):
    """The storage service could not be reached or answered with a server error."""


class StorageFull(StorageError):
    """No room left to store an object (a full disk, a quota); nothing of it was kept."""


class InvalidKey(StorageError):
    """A key that could escape the storage root or is not a plain object name."""


class ObjectMissing(StorageError):
    """No such object, found out while signing: Supabase Storage signs URLs of existing objects only."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str | None = None
    etag: str | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True)
class UploadTarget:
    """Where the browser sends one file: a presigned POST (`fields`, then the file, as multipart/form-data)
    or a signed PUT (the file as the raw body, with `headers`)."""

    url: str
    fields: dict = field(default_factory=dict)
    method: str = "POST"
    headers: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.method not in ("POST", "PUT"):
            raise ValueError(f"an upload is a POST or a PUT, not {self.method!r}")

    def as_json(self):
        if self.method == "PUT":
            return {"url": self.url, "method": "PUT", "headers": dict(self.headers)}
        return {"url": self.url, "fields": dict(self.fields)}


def check_key(key):
    """Return the key if it is a safe object name, else raise InvalidKey."""
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidKey(f"invalid key {key!r}")
    parts = key.split("/")
    if any(part == "" or part.startswith(".") for part in parts):
        raise InvalidKey(f"invalid key {key!r}")
    return key


class Storage:
    """The interface. Backends return data (URLs, infos, bytes), never responses."""

    name = "abstract"

    def key_for_url(self, recording_url):
        """The object key a recording_url points to in this bucket, or None when external."""
        raise NotImplementedError

    def signed_download_url(self, key, *, filename, disposition="attachment", content_type=None, ttl):
        """A URL that serves the object for `ttl` seconds with that Content-Disposition."""
        raise NotImplementedError

    def signed_upload(self, key, *, content_type, max_bytes, ttl):
        """An UploadTarget for one object of at most max_bytes with that content type."""
        raise NotImplementedError

    def head(self, key):
        """ObjectInfo for the key, or None when there is no such object."""
        raise NotImplementedError

    def read_range(self, key, start=0, end=None):
        """Yield the bytes start..end (inclusive, end None = to the end) in chunks."""
        raise NotImplementedError

    def local_path(self, key):
        """A file path that ffmpeg can read directly, when the backend keeps files on this disk; else None."""
        return None

    def readable_source(self, key, ttl):
        """Where a reader on this machine (ffmpeg, PyAV) gets the object: its local path, else a signed URL."""
        return self.local_path(key) or self.signed_download_url(key, filename="source", disposition="inline", ttl=ttl)

    def put(self, key, fileobj, *, content_type):
        """Store the file object's bytes under key."""
        raise NotImplementedError

    def copy(self, source_key, target_key):
        """Copy an object inside the bucket (content type included); ObjectInfo of the copy, None if the source is gone."""
        raise NotImplementedError

    def delete(self, key):
        """Delete the object; no error when it is already gone."""
        raise NotImplementedError

    def list(self, prefix):
        """Yield ObjectInfo for every object under prefix."""
        raise NotImplementedError

    def check(self):
        """Raise StorageUnavailable when the backend cannot be used."""
        raise NotImplementedError
