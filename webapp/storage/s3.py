"""S3 (or any S3-compatible endpoint, Supabase's included) through boto3."""
from urllib.parse import unquote, urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from webapp.storage.base import ObjectInfo, Storage, StorageUnavailable, UploadTarget, check_key
from webapp.storage.disposition import content_disposition

CHUNK = 256 * 1024


class S3Storage(Storage):
    name = "s3"

    def __init__(self, bucket, *, endpoint_url=None, region="us-east-1", access_key=None, secret_key=None):
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          connect_timeout=5, read_timeout=30, retries={"max_attempts": 2}),
        )

    def key_for_url(self, recording_url):
        if "://" not in recording_url:
            return check_key(recording_url) if _is_key(recording_url) else None
        url = urlparse(recording_url)
        path = unquote(url.path).lstrip("/")
        if url.scheme == "s3":
            key = path if url.netloc == self.bucket else None
        elif url.scheme in ("http", "https"):
            key = self._key_from_http(url, path)
        else:
            key = None
        return key if key and _is_key(key) else None

    def _key_from_http(self, url, path):
        host = (url.hostname or "").lower()
        if host.startswith(f"{self.bucket}.s3.") and host.endswith(".amazonaws.com") or host == f"{self.bucket}.s3.amazonaws.com":
            return path  # virtual-hosted AWS URL
        if self.endpoint_url:
            # The same host *and port*; Supabase's endpoint has a path (/storage/v1/s3) before the bucket.
            endpoint = urlparse(self.endpoint_url)
            same_host = (host, _port(url)) == ((endpoint.hostname or "").lower(), _port(endpoint))
            bucket_path = "/".join(part for part in (unquote(endpoint.path).strip("/"), self.bucket) if part)
        else:
            same_host = host in {"s3.amazonaws.com", f"s3.{self.region}.amazonaws.com"}
            bucket_path = self.bucket
        if same_host and path.startswith(bucket_path + "/"):
            return path[len(bucket_path) + 1:]
        return None

    def signed_download_url(self, key, *, filename, disposition="attachment", content_type=None, ttl):
        params = {"Bucket": self.bucket, "Key": check_key(key),
                  "ResponseContentDisposition": content_disposition(disposition, filename)}
        if content_type:
            params["ResponseContentType"] = content_type
        return self._call(self.client.generate_presigned_url, "get_object", Params=params, ExpiresIn=int(ttl))

    def signed_upload(self, key, *, content_type, max_bytes, ttl):
        post = self._call(
            self.client.generate_presigned_post, self.bucket, check_key(key),
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, int(max_bytes)]],
            ExpiresIn=int(ttl),
        )
        return UploadTarget(url=post["url"], fields=post["fields"])

    def head(self, key):
        try:
            resp = self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return ObjectInfo(key=key, size=resp["ContentLength"], content_type=resp.get("ContentType"),
                          etag=resp.get("ETag"), last_modified=resp.get("LastModified"))

    def read_range(self, key, start=0, end=None):
        rng = f"bytes={start}-{'' if end is None else end}"
        resp = self._call(self.client.get_object, Bucket=self.bucket, Key=check_key(key), Range=rng)
        body = resp["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def put(self, key, fileobj, *, content_type):
        self._call(self.client.upload_fileobj, fileobj, self.bucket, check_key(key),
                   ExtraArgs={"ContentType": content_type})

    def copy(self, source_key, target_key):
        try:
            self.client.copy_object(Bucket=self.bucket, Key=check_key(target_key),
                                    CopySource={"Bucket": self.bucket, "Key": check_key(source_key)})
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        return self.head(target_key)

    def delete(self, key):
        self._call(self.client.delete_object, Bucket=self.bucket, Key=check_key(key))

    def list(self, prefix):
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(key=item["Key"], size=item["Size"], etag=item.get("ETag"),
                                     last_modified=item.get("LastModified"))
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc

    def check(self):
        self._call(self.client.head_bucket, Bucket=self.bucket)

    @staticmethod
    def _call(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc


def _is_key(value):
    try:
        check_key(value)
        return True
    except Exception:
        return False


def _port(url):
    try:
        return url.port or (443 if url.scheme == "https" else 80)
    except ValueError:  # a port that is not a number matches no endpoint
        return None


def _is_missing(exc):
    return _status(exc) == 404 or _code(exc) in ("404", "NoSuchKey", "NotFound")


def _status(exc):
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def _code(exc):
    return str(exc.response.get("Error", {}).get("Code", ""))


def _unavailable(exc):
    if isinstance(exc, EndpointConnectionError):
        return StorageUnavailable(f"storage unreachable: {exc}")
    return StorageUnavailable(f"storage error: {exc}")
