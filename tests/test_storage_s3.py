"""The S3 backend beyond the storage contract (test_storage_contract.py), against moto's S3 over HTTP:
the signed policy, endpoints and URLs of the bucket, a missing bucket or a closed port."""
import base64
import io
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import requests

from webapp.storage import StorageUnavailable, build_storage, get_storage
from webapp.storage.s3 import S3Storage

from tests.conftest import free_port

DATA = bytes(range(256)) * 40  # 10 240 bytes
KEY = "recordings/meet/sample.mp4"


@pytest.fixture
def s3(s3_config):
    storage = build_storage(s3_config)
    assert isinstance(storage, S3Storage)
    return storage


@pytest.fixture
def stored(s3):
    s3.put(KEY, io.BytesIO(DATA), content_type="video/mp4")
    return KEY


@pytest.fixture
def closed_port_config(s3_config):
    """The same settings, pointed at a port where nothing listens."""
    return {**s3_config, "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}


# --- the interface ---------------------------------------------------------------------------

def test_check_of_a_missing_bucket_fails(s3_config):
    storage = build_storage({**s3_config, "S3_BUCKET": "no-such-bucket-here"})
    with pytest.raises(StorageUnavailable):
        storage.check()


# --- presigned GET -------------------------------------------------------------------------

def test_presigned_get_with_a_tampered_signature_is_refused(s3, stored):
    url = s3.signed_download_url(KEY, filename="a.mp4", ttl=600)
    tampered = url.replace(quote(KEY, safe="/"), "recordings/meet/other.mp4")
    assert tampered != url
    response = requests.get(tampered, timeout=10)
    assert response.status_code == 403
    assert response.content != DATA


# --- presigned POST ------------------------------------------------------------------------

def test_presigned_post_policy_limits_size_type_key_and_time(s3, s3_bucket):
    """moto accepts any POST, so check the signed policy that real S3 (and Supabase) enforce."""
    before = datetime.now(timezone.utc)
    target = s3.signed_upload("clips/new.mp4", content_type="video/mp4", max_bytes=5000, ttl=300)
    policy = json.loads(base64.b64decode(target.fields["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "video/mp4"} in conditions
    assert ["content-length-range", 1, 5000] in conditions
    assert {"bucket": s3_bucket} in conditions
    assert {"key": "clips/new.mp4"} in conditions
    expires = datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before + timedelta(seconds=240) <= expires <= before + timedelta(seconds=360)


def test_presigned_post_url_is_the_bucket_on_the_endpoint(s3, s3_endpoint, s3_bucket):
    target = s3.signed_upload("clips/new.mp4", content_type="video/mp4", max_bytes=5000, ttl=600)
    assert target.url.rstrip("/") == f"{s3_endpoint}/{s3_bucket}"
    assert target.as_json() == {"url": target.url, "fields": target.fields}


# --- recording URLs that point into the bucket -----------------------------------------------

def test_key_for_url(s3, s3_endpoint, s3_bucket):
    assert s3.key_for_url("recordings/meet/a.mp4") == "recordings/meet/a.mp4"
    assert s3.key_for_url(f"s3://{s3_bucket}/recordings/meet/a.mp4") == "recordings/meet/a.mp4"
    assert s3.key_for_url(f"{s3_endpoint}/{s3_bucket}/recordings/meet/a.mp4") == "recordings/meet/a.mp4"

    assert s3.key_for_url("s3://another-bucket/recordings/meet/a.mp4") is None
    assert s3.key_for_url(f"{s3_endpoint}/another-bucket/recordings/meet/a.mp4") is None
    assert s3.key_for_url(f"https://cdn.example.com/{s3_bucket}/recordings/meet/a.mp4") is None
    other_port = f"http://127.0.0.1:{free_port()}"
    assert s3.key_for_url(f"{other_port}/{s3_bucket}/recordings/meet/a.mp4") is None
    assert s3.key_for_url(f"{s3_endpoint}/{s3_bucket}") is None
    assert s3.key_for_url(f"ftp://127.0.0.1/{s3_bucket}/a.mp4") is None
    assert s3.key_for_url("../etc/passwd") is None
    assert s3.key_for_url(f"s3://{s3_bucket}/../etc/passwd") is None


def test_key_for_url_with_an_endpoint_path_like_supabase():
    supabase = S3Storage("recordings", endpoint_url="https://abc.supabase.co/storage/v1/s3", access_key="x",
                         secret_key="y")
    assert supabase.key_for_url("https://abc.supabase.co/storage/v1/s3/recordings/a/b.mp4") == "a/b.mp4"
    assert supabase.key_for_url("https://abc.supabase.co:443/storage/v1/s3/recordings/a/b.mp4") == "a/b.mp4"
    assert supabase.key_for_url("https://abc.supabase.co/storage/v1/s3/other/a/b.mp4") is None
    assert supabase.key_for_url("https://abc.supabase.co/recordings/a/b.mp4") is None
    assert supabase.key_for_url("https://abc.supabase.co:8443/storage/v1/s3/recordings/a/b.mp4") is None
    assert supabase.key_for_url("https://abc.supabase.co:bad/storage/v1/s3/recordings/a/b.mp4") is None
    assert supabase.key_for_url("https://xyz.supabase.co/storage/v1/s3/recordings/a/b.mp4") is None


def test_key_for_url_on_aws():
    aws = S3Storage("reclip-recordings", region="eu-west-1", access_key="x", secret_key="y")
    assert aws.key_for_url("https://reclip-recordings.s3.eu-west-1.amazonaws.com/a/b.mp4") == "a/b.mp4"
    assert aws.key_for_url("https://reclip-recordings.s3.amazonaws.com/a/b.mp4") == "a/b.mp4"
    assert aws.key_for_url("https://s3.eu-west-1.amazonaws.com/reclip-recordings/a/b.mp4") == "a/b.mp4"
    assert aws.key_for_url("https://other.s3.eu-west-1.amazonaws.com/a/b.mp4") is None
    assert aws.key_for_url("https://s3.eu-west-1.amazonaws.com/other/a/b.mp4") is None


# --- unreachable storage -------------------------------------------------------------------

def test_closed_port_raises_storage_unavailable(closed_port_config):
    storage = build_storage(closed_port_config)
    with pytest.raises(StorageUnavailable):
        storage.check()
    with pytest.raises(StorageUnavailable):
        storage.head(KEY)
    with pytest.raises(StorageUnavailable):
        storage.put(KEY, io.BytesIO(b"x"), content_type="video/mp4")
    with pytest.raises(StorageUnavailable):
        list(storage.list(""))


class TestInTheApp:
    @pytest.fixture
    def app_config(self, s3_config):
        return s3_config

    def test_the_app_uses_the_bucket_and_healthz_is_ok(self, app, client, s3_bucket):
        storage = get_storage()
        assert isinstance(storage, S3Storage)
        assert storage.bucket == s3_bucket
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.get_json() == {"status": "ok", "checks": {"db": "ok", "storage": "ok", "queue": "ok"}}


class TestStorageDown:
    @pytest.fixture
    def app_config(self, closed_port_config):
        return closed_port_config

    def test_healthz_is_503_when_storage_is_down(self, client):
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "error"
        assert body["checks"]["db"] == "ok"
        assert body["checks"]["queue"] == "ok"
        assert body["checks"]["storage"] != "ok"
        assert "StorageUnavailable" in body["checks"]["storage"]


