"""The S3 backend against moto's S3 server over real HTTP."""
import base64
import io
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import requests

from webapp.storage import ObjectInfo, StorageUnavailable, build_storage, get_storage
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

def test_put_head_read_range_delete_list(s3, s3_bucket):
    assert s3.name == "s3"
    assert s3.bucket == s3_bucket
    s3.put(KEY, io.BytesIO(DATA), content_type="video/mp4")
    s3.put("recordings/voice/call.m4a", io.BytesIO(b"voice"), content_type="audio/mp4")
    s3.put("clips/c.mp4", io.BytesIO(b"clip"), content_type="video/mp4")

    info = s3.head(KEY)
    assert isinstance(info, ObjectInfo)
    assert (info.key, info.size, info.content_type) == (KEY, len(DATA), "video/mp4")
    assert info.etag and info.last_modified is not None
    assert s3.local_path(KEY) is None

    assert b"".join(s3.read_range(KEY)) == DATA
    assert b"".join(s3.read_range(KEY, 10, 99)) == DATA[10:100]
    assert b"".join(s3.read_range(KEY, 10000)) == DATA[10000:]

    assert sorted(i.key for i in s3.list("recordings/")) == [KEY, "recordings/voice/call.m4a"]
    assert [(i.key, i.size) for i in s3.list("clips/")] == [("clips/c.mp4", 4)]
    assert sorted(i.key for i in s3.list("")) == ["clips/c.mp4", KEY, "recordings/voice/call.m4a"]

    s3.put(KEY, io.BytesIO(b"replaced"), content_type="video/webm")
    assert (s3.head(KEY).size, s3.head(KEY).content_type) == (8, "video/webm")

    s3.delete(KEY)
    assert s3.head(KEY) is None
    s3.delete(KEY)  # already gone: no error
    assert sorted(i.key for i in s3.list("")) == ["clips/c.mp4", "recordings/voice/call.m4a"]


def test_head_of_a_missing_key_is_none(s3):
    assert s3.head("recordings/meet/nothing-here.mp4") is None


def test_check_passes(s3):
    s3.check()


def test_check_of_a_missing_bucket_fails(s3_config):
    storage = build_storage({**s3_config, "S3_BUCKET": "no-such-bucket-here"})
    with pytest.raises(StorageUnavailable):
        storage.check()


# --- presigned GET -------------------------------------------------------------------------

@pytest.mark.parametrize("disposition", ["attachment", "inline"])
def test_presigned_get_serves_the_bytes_with_the_asked_disposition(s3, stored, disposition):
    url = s3.signed_download_url(KEY, filename="Weekly sync.mp4", disposition=disposition,
                                 content_type="video/mp4", ttl=600)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["Content-Disposition"] == f'{disposition}; filename="Weekly sync.mp4"'
    assert response.headers["Content-Type"] == "video/mp4"


def test_presigned_get_with_a_non_ascii_filename(s3, stored):
    url = s3.signed_download_url(KEY, filename="Café review ☕.mp4", ttl=600)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(
        "; filename*=UTF-8''Caf%C3%A9%20review%20%E2%98%95.mp4")


def test_presigned_get_answers_ranges(s3, stored):
    url = s3.signed_download_url(KEY, filename="a.mp4", ttl=600)
    response = requests.get(url, headers={"Range": "bytes=10-99"}, timeout=10)
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 10-99/{len(DATA)}"
    assert response.content == DATA[10:100]


def test_presigned_get_with_a_tampered_signature_is_refused(s3, stored):
    url = s3.signed_download_url(KEY, filename="a.mp4", ttl=600)
    tampered = url.replace(quote(KEY, safe="/"), "recordings/meet/other.mp4")
    assert tampered != url
    response = requests.get(tampered, timeout=10)
    assert response.status_code == 403
    assert response.content != DATA


# --- presigned POST ------------------------------------------------------------------------

def test_presigned_post_uploads_the_file(s3):
    target = s3.signed_upload("clips/new.mp4", content_type="video/mp4", max_bytes=5000, ttl=600)
    assert target.fields["key"] == "clips/new.mp4"
    assert target.fields["Content-Type"] == "video/mp4"
    assert "policy" in target.fields and "x-amz-signature" in target.fields
    response = requests.post(target.url, data=target.fields,
                             files={"file": ("clip.mp4", DATA[:4000], "video/mp4")}, timeout=10)
    assert 200 <= response.status_code < 300, response.text
    info = s3.head("clips/new.mp4")
    assert (info.size, info.content_type) == (4000, "video/mp4")
    assert b"".join(s3.read_range("clips/new.mp4")) == DATA[:4000]


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


def test_copy_keeps_bytes_and_content_type_and_misses_cleanly(s3):
    s3.put("clips/a.mp4", io.BytesIO(b"clip bytes"), content_type="video/mp4")
    info = s3.copy("clips/a.mp4", "clips/a-ready.mp4")
    assert (info.key, info.size, info.content_type) == ("clips/a-ready.mp4", 10, "video/mp4")
    assert b"".join(s3.read_range("clips/a-ready.mp4")) == b"clip bytes"
    assert s3.copy("clips/missing.mp4", "clips/x.mp4") is None and s3.head("clips/x.mp4") is None
