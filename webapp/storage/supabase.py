"""Supabase Storage through its own REST API, with the `supabase` package's storage3 client.

What Supabase decides, not us: a signed upload URL lives 2 hours whatever SIGNED_URL_TTL says, and it
limits neither size nor type (only the bucket's own limits apply), so `complete` checks both. A signed
download URL names the file through its `download` query parameter and cannot set the content type:
the object's stored type is served.
"""
import io
from datetime import datetime, timezone
from urllib.parse import quote, unquote, urlparse

import httpx
from storage3 import SyncStorageClient
from storage3.exceptions import StorageApiError
from storage3.utils import StorageException

from webapp.storage.base import ObjectInfo, ObjectMissing, Storage, StorageUnavailable, UploadTarget, check_key
from webapp.storage.disposition import safe_filename

CHUNK = 256 * 1024
LIST_PAGE = 1000
# The object routes under /storage/v1/ whose next part is the bucket (the S3 endpoint's included).
_OBJECT_ROUTES = (("object", "public"), ("object", "authenticated"), ("object", "sign"), ("object",), ("s3",))


class SupabaseStorage(Storage):
    name = "supabase"

    def __init__(self, url, service_key, bucket):
        self.url = url.rstrip("/")
        self.bucket = bucket
        headers = {"apikey": service_key, "Authorization": f"Bearer {service_key}"}
        # Our own httpx client, for its timeouts and so that ranged reads share its connections.
        self.http = httpx.Client(headers=headers, timeout=httpx.Timeout(30, connect=5), follow_redirects=False)
        self.client = SyncStorageClient(f"{self.url}/storage/v1/", headers, http_client=self.http)
        self.files = self.client.from_(bucket)

    def key_for_url(self, recording_url):
        if "://" not in recording_url:
            return _key_or_none(recording_url)
        url = urlparse(recording_url)
        if url.scheme == "s3":  # Supabase's S3 endpoint names the same buckets
            return _key_or_none(unquote(url.path).lstrip("/")) if url.netloc == self.bucket else None
        if url.scheme not in ("http", "https") or not _same_origin(url, urlparse(self.url)):
            return None
        parts = unquote(url.path).strip("/").split("/")
        if parts[:2] != ["storage", "v1"]:
            return None
        for route in _OBJECT_ROUTES:
            rest = parts[2:]
            if tuple(rest[:len(route)]) == route and rest[len(route):len(route) + 1] == [self.bucket]:
                return _key_or_none("/".join(rest[len(route) + 1:]))
        return None

    def signed_download_url(self, key, *, filename, disposition="attachment", content_type=None, ttl):
        # storage3 2.34.1 appends the name form-encoded (yarl): a space as +, & # + % and non-ASCII
        # escaped, which Supabase's query parser decodes back; safe_filename drops quotes and controls.
        if disposition not in ("attachment", "inline"):
            raise ValueError(f"disposition must be attachment or inline, not {disposition!r}")
        options = {"download": safe_filename(filename)} if disposition == "attachment" else None  # inline: no name
        signed = self._call(self.files.create_signed_url, check_key(key), int(ttl), options, missing=key)
        return signed["signedURL"]

    def signed_upload(self, key, *, content_type, max_bytes, ttl):
        # Supabase fixes the expiry (2 hours) and polices neither max_bytes nor the type: complete does.
        signed = self._call(self.files.create_signed_upload_url, check_key(key))
        return UploadTarget(url=signed["signedUrl"], method="PUT", headers={"Content-Type": content_type})

    def head(self, key):
        try:
            info = self._call(self.files.info, check_key(key), missing=key)
        except ObjectMissing:
            return None
        return ObjectInfo(key=key, size=int(info.get("size") or 0), content_type=info.get("content_type"),
                          etag=info.get("etag"),
                          last_modified=_timestamp(info.get("last_modified") or info.get("created_at")))

    def read_range(self, key, start=0, end=None):
        url = f"{self.url}/storage/v1/object/authenticated/{quote(self.bucket)}/{quote(check_key(key))}"
        headers = {"Range": f"bytes={start}-{'' if end is None else end}"}
        try:
            with self.http.stream("GET", url, headers=headers) as response:
                if response.status_code not in (200, 206):
                    response.read()
                    raise StorageUnavailable(f"storage error {response.status_code}: {response.text[:200]}")
                if response.status_code == 200 and start:  # the whole object: never the wrong bytes
                    raise StorageUnavailable("storage ignored the Range header")
                remaining = None if end is None else end - start + 1
                for chunk in response.iter_bytes(CHUNK):
                    if remaining is not None:  # a 200 from the start may go on past `end`
                        chunk = chunk[:remaining]
                        remaining -= len(chunk)
                    if chunk:
                        yield chunk
                    if remaining == 0:
                        return
        except httpx.HTTPError as exc:
            raise StorageUnavailable(f"storage unreachable: {exc}") from exc

    def put(self, key, fileobj, *, content_type):
        # storage3 streams an open file; anything else (a BytesIO) is read into memory first.
        body = fileobj if isinstance(fileobj, (io.BufferedReader, io.FileIO)) else fileobj.read()
        self._call(self.files.upload, check_key(key), body, {"content-type": content_type, "upsert": "true"})

    def copy(self, source_key, target_key):
        # Supabase refuses to copy onto an existing object unless asked to upsert, which storage3's
        # copy() cannot ask: remove the target first (complete holds its claim, so nobody races it).
        check_key(source_key)
        self.delete(target_key)
        try:
            self._call(self.files.copy, source_key, target_key, missing=source_key)
        except ObjectMissing:
            return None
        return self.head(target_key)

    def delete(self, key):
        self._call(self.files.remove, [check_key(key)])  # a missing key is simply not in the answer

    def list(self, prefix):
        # The list route takes a folder and answers its files and (id null) its folders: walk them.
        folder, _, _ = prefix.rpartition("/")
        yield from self._walk(folder, prefix)

    def _walk(self, folder, prefix):
        offset = 0
        while True:
            page = self._call(self.files.list, folder, {"limit": LIST_PAGE, "offset": offset,
                                                        "sortBy": {"column": "name", "order": "asc"}})
            for entry in page:
                path = f"{folder}/{entry['name']}" if folder else entry["name"]
                if entry.get("id") is None:
                    if (path + "/").startswith(prefix) or prefix.startswith(path + "/"):
                        yield from self._walk(path, prefix)
                elif path.startswith(prefix) and _key_or_none(path):  # not the dashboard's .emptyFolderPlaceholder
                    meta = entry.get("metadata") or {}
                    yield ObjectInfo(key=path, size=int(meta.get("size") or 0), content_type=meta.get("mimetype"),
                                     etag=meta.get("eTag"),
                                     last_modified=_timestamp(entry.get("updated_at") or entry.get("created_at")))
            if len(page) < LIST_PAGE:
                return
            offset += LIST_PAGE

    def check(self):
        self._call(self.client.get_bucket, self.bucket)

    @staticmethod
    def _call(fn, *args, missing=None):
        """fn(*args); ObjectMissing when Supabase says `missing` is not there, StorageUnavailable otherwise."""
        try:
            return fn(*args)
        except StorageApiError as exc:
            # Supabase answers 400 with the real status in the body: {"statusCode": "404", "error": "not_found"}.
            # A missing bucket is a 404 too, but that is a broken setting, not a missing object.
            if missing and str(exc.status) == "404" and "bucket" not in str(exc.code).lower():
                raise ObjectMissing(f"no object {missing!r}") from None
            raise StorageUnavailable(f"storage error {exc.status} {exc.code}: {exc.message}") from exc
        except (StorageException, httpx.HTTPError, ValueError) as exc:  # unreachable, or an answer that is no JSON
            raise StorageUnavailable(f"storage unreachable: {exc}") from exc


def _key_or_none(value):
    try:
        return check_key(value)
    except Exception:
        return None


def _same_origin(url, base):
    def port(parts):
        try:
            return parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:  # a port that is not a number
            return None
    return (url.scheme, (url.hostname or "").lower(), port(url)) == (base.scheme, (base.hostname or "").lower(), port(base))


def _timestamp(value):
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment and moment.tzinfo is None else moment
