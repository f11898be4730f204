"""A fake of Supabase Storage's REST API on 127.0.0.1, for the supabase backend's tests.

No Supabase server runs here, so this serves, in memory, only the routes under /storage/v1 that
webapp/storage/supabase.py (through storage3) and the browser call, as Supabase documents them and as
its storage-api (github.com/supabase/storage, src/http/routes/object/*, src/storage/renderer/renderer.ts,
src/internal/errors) answers them:

    GET    /bucket/{bucket}                         the bucket (check)
    POST   /object/{bucket}/{key}                   upload: multipart/form-data or a raw body; x-upsert
    POST   /object/sign/{bucket}/{key}              {expiresIn} -> {signedURL: "/object/sign/...?token="}
    GET    /object/sign/{bucket}/{key}?token=       the bytes (Range), `download` -> Content-Disposition
    POST   /object/upload/sign/{bucket}/{key}       -> {url: "/object/upload/sign/...?token=", token}
    PUT    /object/upload/sign/{bucket}/{key}?token= upload with the token (no key): raw body or multipart
    GET    /object/info/{bucket}/{key}              {size, content_type, etag, created_at, ...}
    GET    /object/authenticated/{bucket}/{key}     the bytes (Range)
    POST   /object/list/{bucket}                    {prefix (a folder), limit, offset, search}: one level
    POST   /object/copy                             {bucketId, sourceKey, destinationKey}; x-upsert
    DELETE /object/{bucket}                         {prefixes: [keys]} -> the deleted objects

Routes other than the signed ones need the service key (Authorization: Bearer, and apikey when sent).
Errors are storage-api's: HTTP 400 (500 for its own failures) with {"statusCode": "404", "code",
"error", "message"}. Every answer carries CORS headers as Supabase's gateway gives them (any origin,
the asked headers) and exposes Content-Range, Content-Length, Accept-Ranges and ETag. What it does not
imitate: row level security, image transformations, bucket size and type limits, resumable uploads.
"""
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import formatdate
from urllib.parse import quote

import jwt
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

SERVICE_KEY = "test-service-role-key"
EXPOSED = "Content-Range, Content-Length, Accept-Ranges, ETag, Content-Disposition"
ENCODE_URI_COMPONENT_SAFE = "-_.!~*'()"  # what JavaScript's encodeURIComponent leaves alone


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    cache_control: str = "no-cache"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=lambda: _now())
    updated_at: str = field(default_factory=lambda: _now())
    mtime: float = field(default_factory=time.time)

    @property
    def etag(self):
        return f'"{hashlib.md5(self.data).hexdigest()}"'

    def metadata(self):
        return {"eTag": self.etag, "size": len(self.data), "mimetype": self.content_type,
                "cacheControl": self.cache_control, "lastModified": self.updated_at,
                "contentLength": len(self.data), "httpStatusCode": 200}


class StorageFailure(Exception):
    """An answer in storage-api's error shape."""

    def __init__(self, status, code, message, error=None):
        super().__init__(message)
        self.status, self.code, self.message, self.error = status, code, message, error or code

    def response(self):
        body = {"statusCode": str(self.status), "code": self.code, "error": self.error, "message": self.message}
        return _json(body, 500 if self.status >= 500 else 400)


def not_found():
    return StorageFailure(404, "NoSuchKey", "Object not found", error="not_found")


class FakeSupabaseStorage:
    """The server: `start()`, `url` (the SUPABASE_URL), `objects[bucket][key]`, `stop()`."""

    def __init__(self, buckets=("recordings",), service_key=SERVICE_KEY):
        self.service_key = service_key
        self.secret = secrets.token_hex(32)  # the project's JWT secret, which signs the URLs' tokens
        self.objects = {bucket: {} for bucket in buckets}
        self.fail_with = None  # an HTTP status that every request gets (a service in trouble)
        self.requests = []  # (method, path, headers) of every request
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self.wsgi, threaded=True, request_handler=_QuietHandler)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(5)

    def create_bucket(self, name):
        self.objects.setdefault(name, {})

    # --- WSGI ----------------------------------------------------------------------------------
    def wsgi(self, environ, start_response):
        with Request(environ) as request:  # closes the parsed upload's temporary file
            self.requests.append((request.method, request.full_path, dict(request.headers)))
            try:
                response = self.dispatch(request)
            except StorageFailure as failure:
                response = failure.response()
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = EXPOSED
        return response(environ, start_response)

    def dispatch(self, request):
        if request.method == "OPTIONS":
            return self.preflight(request)
        if self.fail_with:
            raise StorageFailure(self.fail_with, "InternalError", "Internal server error")
        path = request.path
        if not path.startswith("/storage/v1/"):
            return _json({"statusCode": "404", "error": "Not Found", "message": "Route not found"}, 404)
        parts = path[len("/storage/v1/"):].split("/")
        method = request.method
        # The signed routes carry their own token; every other route needs the service key.
        if parts[:2] == ["object", "sign"] and method == "GET":
            return self.get_signed(request, *_bucket_key(parts[2:]))
        if parts[:3] == ["object", "upload", "sign"] and method == "PUT":
            return self.put_signed(request, *_bucket_key(parts[3:]))
        self.authenticate(request)
        if parts[0] == "bucket" and len(parts) == 2 and method == "GET":
            return self.get_bucket(parts[1])
        if parts[:2] == ["object", "sign"] and method == "POST":
            return self.sign(request, *_bucket_key(parts[2:]))
        if parts[:3] == ["object", "upload", "sign"] and method == "POST":
            return self.sign_upload(request, *_bucket_key(parts[3:]))
        if parts[:2] == ["object", "info"] and method == "GET":
            return self.info(*_bucket_key(parts[2:]))
        if parts[:2] == ["object", "authenticated"] and method == "GET":
            bucket, key = _bucket_key(parts[2:])
            return _serve(request, self.find(bucket, key))
        if parts[:2] == ["object", "list"] and len(parts) == 3 and method == "POST":
            return self.list(request, parts[2])
        if parts == ["object", "copy"] and method == "POST":
            return self.copy(request)
        if parts[0] == "object" and len(parts) == 2 and method == "DELETE":
            return self.remove(request, parts[1])
        if parts[0] == "object" and len(parts) > 2 and method == "POST":
            bucket, key = _bucket_key(parts[1:])
            return self.store(request, bucket, key, upsert=request.headers.get("x-upsert") == "true")
        return _json({"statusCode": "404", "error": "Not Found", "message": f"Route {method}:{path} not found"}, 404)

    @staticmethod
    def preflight(request):
        response = Response(status=200)
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS"
        asked = request.headers.get("Access-Control-Request-Headers")
        if asked:
            response.headers["Access-Control-Allow-Headers"] = asked
        return response

    def authenticate(self, request):
        given = request.headers.get("Authorization", "")
        if not given.startswith("Bearer "):
            raise StorageFailure(403, "AccessDenied", "Missing authorization header", error="Unauthorized")
        apikey = request.headers.get("apikey")
        if given[len("Bearer "):] != self.service_key or (apikey is not None and apikey != self.service_key):
            raise StorageFailure(400, "InvalidJWT", "invalid signature")

    # --- buckets and objects --------------------------------------------------------------------
    def bucket(self, name):
        if name not in self.objects:
            raise StorageFailure(404, "NoSuchBucket", "Bucket not found", error="Bucket not found")
        return self.objects[name]

    def find(self, bucket, key):
        stored = self.bucket(bucket).get(key)
        if stored is None:
            raise not_found()
        return stored

    def get_bucket(self, name):
        self.bucket(name)
        return _json({"id": name, "name": name, "owner": "", "public": False, "type": "STANDARD",
                      "file_size_limit": None, "allowed_mime_types": None,
                      "created_at": _now(), "updated_at": _now()})

    def store(self, request, bucket, key, upsert):
        objects = self.bucket(bucket)
        if request.mimetype == "multipart/form-data":
            upload = next(iter(request.files.values()), None)
            if upload is None:
                raise StorageFailure(400, "InvalidRequest", "Unexpected empty file received", error="empty_file")
            data, content_type = upload.read(), upload.mimetype or "application/octet-stream"
            cache = request.form.get("cacheControl")
            cache_control = f"max-age={cache}" if cache else "no-cache"
        else:  # "just assume it's a binary file"
            data = request.get_data()
            content_type = request.headers.get("Content-Type") or "application/octet-stream"
            cache_control = request.headers.get("Cache-Control", "no-cache")
        with self._lock:
            if key in objects and not upsert:
                raise StorageFailure(409, "KeyAlreadyExists", "The resource already exists", error="Duplicate")
            stored = StoredObject(data, content_type, cache_control)
            if key in objects:
                stored.created_at = objects[key].created_at
            objects[key] = stored
        return _json({"Id": stored.id, "Key": f"{bucket}/{key}"})

    def sign(self, request, bucket, key):
        self.find(bucket, key)  # Supabase signs existing objects only
        body = request.get_json(silent=True) or {}
        expires_in = body.get("expiresIn")
        try:
            expires_in = int(expires_in)
        except (TypeError, ValueError):
            raise StorageFailure(400, "InvalidRequest", "body must have required property 'expiresIn'") from None
        token = self.token({"url": f"{bucket}/{key}"}, expires_in)
        return _json({"signedURL": f"/object/sign/{bucket}/{quote(key)}?token={token}"})

    def sign_upload(self, request, bucket, key):
        self.bucket(bucket)
        upsert = request.headers.get("x-upsert") == "true"
        token = self.token({"url": f"{bucket}/{key}", "upsert": upsert}, 2 * 3600)  # fixed: 2 hours
        return _json({"url": f"/object/upload/sign/{bucket}/{quote(key)}?token={token}", "token": token})

    def get_signed(self, request, bucket, key):
        payload = self.verify(request, bucket, key)
        stored = self.find(bucket, key)
        response = _serve(request, stored)
        response.headers["Expires"] = formatdate(payload["exp"], usegmt=True)
        response.headers.pop("Cache-Control", None)
        if "download" in request.args:  # renderer.ts handleDownload
            name = request.args["download"]
            if name == "":
                response.headers["Content-Disposition"] = "attachment;"
            else:
                encoded = quote(name, safe=ENCODE_URI_COMPONENT_SAFE)
                response.headers["Content-Disposition"] = f"attachment; filename={encoded}; filename*=UTF-8''{encoded};"
        return response

    def put_signed(self, request, bucket, key):
        payload = self.verify(request, bucket, key)
        return self.store(request, bucket, key, upsert=bool(payload.get("upsert")))

    def info(self, bucket, key):
        stored = self.find(bucket, key)
        # As storage-api's InfoRenderer: its last_modified is the row's updated_at, which the route does
        # not select, so it is absent from the answer.
        return _json({"id": stored.id, "name": key, "version": stored.id, "bucket_id": bucket,
                      "size": len(stored.data), "content_type": stored.content_type,
                      "cache_control": stored.cache_control, "etag": stored.etag, "metadata": None,
                      "created_at": stored.created_at})

    def list(self, request, bucket):
        objects = self.bucket(bucket)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("prefix"), str):
            raise StorageFailure(400, "InvalidRequest", "body must have required property 'prefix'")
        limit, offset = int(body.get("limit") or 100), int(body.get("offset") or 0)
        prefix = body["prefix"]
        if prefix and not prefix.endswith("/"):
            prefix += "/"  # "assuming prefix is always a folder"
        # storage.search(): name ILIKE prefix || search || '%', one level below the prefix.
        start = (prefix + (body.get("search") or "")).casefold()
        folders, files = set(), []
        for key, stored in sorted(objects.items()):
            if not key.casefold().startswith(start):
                continue
            rest = key[len(prefix):]
            if "/" in rest:
                folders.add(rest.split("/", 1)[0])
            else:
                files.append({"name": rest, "id": stored.id, "updated_at": stored.updated_at,
                              "created_at": stored.created_at, "last_accessed_at": stored.updated_at,
                              "metadata": stored.metadata()})
        entries = [{"name": name, "id": None, "updated_at": None, "created_at": None, "last_accessed_at": None,
                    "metadata": None} for name in sorted(folders)] + files
        return _json(entries[offset:offset + limit])

    def copy(self, request):
        body = request.get_json(silent=True) or {}
        source, target = body.get("sourceKey"), body.get("destinationKey")
        objects = self.bucket(body.get("bucketId"))
        destination = self.bucket(body.get("destinationBucket") or body.get("bucketId"))
        with self._lock:
            stored = objects.get(source)
            if stored is None:
                raise not_found()
            if target in destination and request.headers.get("x-upsert") != "true":
                raise StorageFailure(409, "KeyAlreadyExists", "The resource already exists", error="Duplicate")
            copied = StoredObject(stored.data, stored.content_type, stored.cache_control)
            destination[target] = copied
        return _json({"Id": copied.id, "Key": f"{body.get('destinationBucket') or body.get('bucketId')}/{target}"})

    def remove(self, request, bucket):
        objects = self.bucket(bucket)
        body = request.get_json(silent=True) or {}
        deleted = []
        with self._lock:
            for key in body.get("prefixes") or []:
                stored = objects.pop(key, None)
                if stored is not None:
                    deleted.append({"name": key, "bucket_id": bucket, "id": stored.id,
                                    "metadata": stored.metadata()})
        return _json(deleted)

    # --- signed tokens ---------------------------------------------------------------------------
    def token(self, claims, expires_in):
        now = int(time.time())
        return jwt.encode({**claims, "iat": now, "exp": now + int(expires_in)}, self.secret, algorithm="HS256")

    def verify(self, request, bucket, key):
        try:
            payload = jwt.decode(request.args.get("token", ""), self.secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            raise StorageFailure(400, "InvalidJWT", "jwt expired") from None
        except jwt.InvalidTokenError as exc:
            raise StorageFailure(400, "InvalidJWT", str(exc)) from None
        if payload.get("url") != f"{bucket}/{key}":
            raise StorageFailure(400, "InvalidSignature", "The url do not match the signature")
        return payload


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # self.requests keeps them; the test output stays clean
        pass


def _bucket_key(parts):
    if len(parts) < 2 or not parts[0] or not all(parts[1:]):
        raise StorageFailure(400, "InvalidKey", "Invalid key")
    return parts[0], "/".join(parts[1:])


def _serve(request, stored):
    """The object's bytes as storage-api's renderer sends them: Range, ETag, Last-Modified."""
    data, size = stored.data, len(stored.data)
    headers = {"Accept-Ranges": "bytes", "Content-Type": stored.content_type, "ETag": stored.etag,
               "Last-Modified": formatdate(stored.mtime, usegmt=True), "Cache-Control": stored.cache_control}
    ranges = request.range
    if ranges is None or len(ranges.ranges) != 1:
        return Response(data, status=200, headers=headers)
    span = ranges.range_for_length(size)
    if span is None:
        raise StorageFailure(416, "InvalidRange", "invalid range provided", error="invalid_range")
    start, stop = span
    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return Response(data[start:stop], status=206, headers=headers)


def _json(body, status=200):
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
