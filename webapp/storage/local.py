"""Local-disk storage under instance/storage; Flask itself serves its signed URLs."""
import errno
import os
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.storage.base import (InvalidKey, ObjectInfo, Storage, StorageFull, StorageUnavailable, UploadTarget,
                                 check_key)

CHUNK = 256 * 1024
_GET_SALT = "reclip.storage.get"
_POST_SALT = "reclip.storage.post"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)  # no space, over quota, over the file size limit


class ExpiredSignature(Exception):
    """A well-signed URL or policy whose time is up."""


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root, secret_key, base_url=""):
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")
        self._get = URLSafeSerializer(secret_key, salt=_GET_SALT)
        self._post = URLSafeSerializer(secret_key, salt=_POST_SALT)

    # --- paths --------------------------------------------------------------
    def path_for(self, key):
        """The file for a key; raises InvalidKey for anything that leaves the root."""
        check_key(key)
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise InvalidKey(f"invalid key {key!r}")
        return path

    def _url(self, endpoint, **values):
        if self.base_url and not has_request_context():  # CLI, worker: url_for has no host to build on
            return self.base_url + current_app.url_map.bind("").build(endpoint, values)
        if self.base_url:  # behind a proxy
            return self.base_url + url_for(endpoint, **values)
        return url_for(endpoint, _external=True, **values)

    # --- interface ------------------------------------------------------------
    def key_for_url(self, recording_url):
        if recording_url.startswith("local://"):
            recording_url = recording_url[len("local://"):]
        if "://" in recording_url:
            return None
        try:
            return check_key(recording_url)
        except InvalidKey:
            return None

    def signed_download_url(self, key, *, filename, disposition="attachment", content_type=None, ttl):
        check_key(key)
        token = self._get.dumps({"k": key, "f": filename, "d": disposition, "t": content_type,
                                 "e": int(time.time()) + int(ttl)})
        return self._url("storage.get_object", token=token)

    def signed_upload(self, key, *, content_type, max_bytes, ttl):
        check_key(key)
        policy = self._post.dumps({"k": key, "t": content_type, "m": int(max_bytes),
                                   "e": int(time.time()) + int(ttl)})
        return UploadTarget(url=self._url("storage.post_object", policy=policy),
                            fields={"key": key, "Content-Type": content_type})

    def head(self, key):
        path = self.path_for(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        if not path.is_file():
            return None
        return ObjectInfo(key=key, size=stat.st_size, content_type=_read_type(path),
                          etag=f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"',
                          last_modified=datetime.fromtimestamp(stat.st_mtime, timezone.utc))

    def read_range(self, key, start=0, end=None):
        path = self.path_for(key)
        with path.open("rb") as fh:
            fh.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = fh.read(CHUNK if remaining is None else min(CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def local_path(self, key):
        return str(self.path_for(key))

    def put(self, key, fileobj, *, content_type):
        path = self.path_for(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(fileobj, out, CHUNK)
            _write_type(path, content_type)  # before the object appears: never an object without its type
            os.replace(tmp, path)
        except BaseException as exc:
            if tmp:
                Path(tmp).unlink(missing_ok=True)
            if not path.exists():
                _type_path(path).unlink(missing_ok=True)
            if isinstance(exc, OSError) and exc.errno in DISK_FULL:
                raise StorageFull(f"No room left in storage ({exc.strerror}).") from exc  # shown in a failed job
            raise

    def copy(self, source_key, target_key):
        source = self.path_for(source_key)
        try:
            with source.open("rb") as fh:
                self.put(target_key, fh, content_type=_read_type(source))
        except FileNotFoundError:
            return None
        return self.head(target_key)

    def delete(self, key):
        path = self.path_for(key)
        path.unlink(missing_ok=True)
        _type_path(path).unlink(missing_ok=True)

    def list(self, prefix):
        base = self.root
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith("."):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(base).as_posix()
                if key.startswith(prefix):
                    info = self.head(key)
                    if info:
                        yield info

    def check(self):
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise StorageUnavailable(f"{self.root} is not writable")
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from exc

    # --- verifying what the signed endpoints receive ---------------------------
    def verify_get(self, token):
        """The signed GET's payload; BadSignature or ExpiredSignature otherwise."""
        return self._verify(self._get, token)

    def verify_post(self, policy):
        """The signed POST policy's payload; BadSignature or ExpiredSignature otherwise."""
        return self._verify(self._post, policy)

    @staticmethod
    def _verify(serializer, token):
        payload = serializer.loads(token)
        if not isinstance(payload, dict) or "e" not in payload or "k" not in payload:
            raise BadSignature("malformed payload")
        if payload["e"] < time.time():
            raise ExpiredSignature("expired")
        return payload


def _type_path(path):
    return path.with_name(f".{path.name}.content-type")


def _write_type(path, content_type):
    if content_type:
        _type_path(path).write_text(content_type)


def _read_type(path):
    try:
        return _type_path(path).read_text().strip() or None
    except FileNotFoundError:
        return None
