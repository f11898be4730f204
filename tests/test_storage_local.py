"""The local backend beyond the storage contract (test_storage_contract.py): the routes that serve its
signed GETs (ranges, conditional, expiry) and presigned POSTs (limits), keys that stay inside the root."""
import io
import os
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeSerializer

from tests.assertions import assert_json_error
from webapp.storage import InvalidKey, StorageUnavailable, get_storage
from webapp.storage.base import check_key
from webapp.storage.local import LocalStorage

DATA = bytes(range(256)) * 40  # 10 240 bytes, every offset recognisable
KEY = "recordings/meet/sample.mp4"


@pytest.fixture
def db_backend():
    """Storage never touches the database: once, on SQLite, is enough."""
    return "sqlite"


@pytest.fixture
def storage(app):
    return get_storage()


@pytest.fixture
def bare_storage(tmp_path):
    """The same backend without an app, for what needs no HTTP."""
    return LocalStorage(tmp_path / "bare-storage", "secret")


@pytest.fixture
def stored(storage):
    """DATA under KEY."""
    storage.put(KEY, io.BytesIO(DATA), content_type="video/mp4")
    return KEY


def sign(app, storage, key=KEY, **kwargs):
    """A signed GET URL's path and query (the test client takes them as they are)."""
    kwargs.setdefault("filename", "sample.mp4")
    kwargs.setdefault("ttl", 600)
    with app.test_request_context():
        url = storage.signed_download_url(key, **kwargs)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "localhost")
    return parts.path


def files_under(root):
    """Every file below root, hidden ones included."""
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


# --- signed GET -------------------------------------------------------------------------

def test_signed_get_serves_the_whole_file_as_an_attachment(app, client, storage, stored):
    response = client.get(sign(app, storage, filename="Weekly sync.mp4"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="Weekly sync.mp4"'
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Length"] == str(len(DATA))
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Cache-Control"] == "private, max-age=0"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data() == DATA


def test_signed_get_uses_the_signed_content_type(app, client, storage, stored):
    response = client.get(sign(app, storage, filename="a.mp4", content_type="application/octet-stream"))
    assert response.headers["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("range_header, start, end", [
    ("bytes=10-99", 10, 99),
    ("bytes=0-0", 0, 0),
    ("bytes=10000-", 10000, len(DATA) - 1),
    ("bytes=-500", len(DATA) - 500, len(DATA) - 1),
    ("bytes=10200-999999", 10200, len(DATA) - 1),
])
def test_signed_get_answers_ranges(app, client, storage, stored, range_header, start, end):
    response = client.get(sign(app, storage), headers={"Range": range_header})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response.headers["Content-Length"] == str(end - start + 1)
    assert response.headers["Content-Disposition"] == 'attachment; filename="sample.mp4"'
    assert response.get_data() == DATA[start:end + 1]


@pytest.mark.parametrize("range_header", [f"bytes={len(DATA)}-", "bytes=20000-30000"])
def test_signed_get_unsatisfiable_range_is_416(app, client, storage, stored, range_header):
    response = client.get(sign(app, storage), headers={"Range": range_header})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(DATA)}"
    assert response.get_data() != DATA


def test_signed_get_head_and_conditional(app, client, storage, stored):
    path = sign(app, storage)
    head = client.head(path)
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(DATA))
    assert head.get_data() == b""
    etag = client.get(path).headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


def test_signed_get_of_an_expired_url_is_403(app, client, storage, stored):
    response = client.get(sign(app, storage, ttl=-1))
    assert_json_error(response, 403, "expired")
    assert response.get_data() != DATA


def test_signed_get_with_a_tampered_token_is_403(app, client, storage, stored):
    storage.put("recordings/meet/other.mp4", io.BytesIO(b"someone else's"), content_type="video/mp4")
    path = sign(app, storage)
    token = path.rsplit("/", 1)[1]
    payload, signature = token.rsplit(".", 1)

    # The same signature on a payload that names another key.
    forged_payload = URLSafeSerializer("whatever", salt="x").dump_payload(
        {"k": "recordings/meet/other.mp4", "f": "a.mp4", "d": "attachment", "t": None, "e": 2**40})
    forged = client.get(f"/storage/o/{forged_payload.decode()}.{signature}")
    assert_json_error(forged, 403, "bad_signature")

    # A changed character in the middle of the signature.
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    assert_json_error(client.get(f"/storage/o/{payload}.{flipped}"), 403, "bad_signature")

    # A token that another secret signed.
    other = LocalStorage(storage.root, "another-secret")
    assert_json_error(client.get(sign(app, other)), 403, "bad_signature")

    assert_json_error(client.get("/storage/o/not-a-token"), 403, "bad_signature")


def test_signed_get_of_a_deleted_object_is_404(app, client, storage, stored):
    path = sign(app, storage)
    storage.delete(KEY)
    assert_json_error(client.get(path), 404, "not_found")


def test_signed_url_outside_a_request_uses_public_base_url(app, client, storage, stored):
    """The CLI and the worker sign URLs with no request to take the host from."""
    base_url_storage = LocalStorage(storage.root, app.config["SECRET_KEY"], "https://reclip.example/")
    url = base_url_storage.signed_download_url(KEY, filename="a.mp4", ttl=60)  # an app context, no request
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "reclip.example")
    assert parts.path.startswith("/storage/o/")
    response = client.get(parts.path)
    assert response.status_code == 200
    assert response.get_data() == DATA


# --- keys --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd", ".hidden", "a/.hidden", "a//b", "a/./b",
                                 "a/", "", "a\\b", "a\x00b", "ca fé.mp4", "x" * 513, None, 7])
def test_keys_that_escape_the_root_or_are_not_plain_names_are_refused(bare_storage, key):
    storage = bare_storage
    with pytest.raises(InvalidKey):
        check_key(key)
    with pytest.raises(InvalidKey):
        storage.path_for(key)
    with pytest.raises(InvalidKey):
        storage.signed_download_url(key, filename="a.mp4", ttl=60)
    with pytest.raises(InvalidKey):
        storage.put(key, io.BytesIO(b"x"), content_type="text/plain")
    if isinstance(key, str):
        assert storage.key_for_url(key) is None


@pytest.mark.parametrize("key", ["a", "recordings/meet/3f2a.mp4", "clips/0123abcd.mp4", "a-b_c.d/e"])
def test_plain_keys_are_accepted(bare_storage, key):
    storage = bare_storage
    assert check_key(key) == key
    assert storage.path_for(key) == storage.root / key


def test_a_symlink_out_of_the_root_is_refused(bare_storage, tmp_path):
    storage = bare_storage
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    storage.root.mkdir(parents=True, exist_ok=True)
    (storage.root / "link").symlink_to(outside)
    with pytest.raises(InvalidKey):
        storage.path_for("link/secret.txt")


def test_key_for_url(bare_storage):
    storage = bare_storage
    assert storage.key_for_url("recordings/meet/a.mp4") == "recordings/meet/a.mp4"
    assert storage.key_for_url("local://recordings/meet/a.mp4") == "recordings/meet/a.mp4"
    assert storage.key_for_url("https://cdn.example.com/recordings/a.mp4") is None
    assert storage.key_for_url("s3://bucket/recordings/a.mp4") is None
    assert storage.key_for_url("local://../etc/passwd") is None


# --- presigned POST -------------------------------------------------------------------------

def upload_target(app, storage, key="clips/new.mp4", content_type="video/mp4", max_bytes=5000, ttl=600):
    with app.test_request_context():
        return storage.signed_upload(key, content_type=content_type, max_bytes=max_bytes, ttl=ttl)


def post_upload(app, target, body, fields=None, filename="clip.mp4"):
    """The browser's multipart POST: the target's fields, then the file (no CSRF token: the policy is the proof)."""
    form = dict(target.fields if fields is None else fields)
    form["file"] = (io.BytesIO(body), filename, "video/mp4")
    return app.test_client().post(target.url, data=form, content_type="multipart/form-data")


def test_presigned_post_stores_the_file(app, storage):
    target = upload_target(app, storage)
    assert urlsplit(target.url).path == "/storage/upload"
    assert "policy" in parse_qs(urlsplit(target.url).query)
    assert target.fields == {"key": "clips/new.mp4", "Content-Type": "video/mp4"}
    assert target.as_json() == {"url": target.url, "fields": target.fields}

    body = DATA[:4000]
    response = post_upload(app, target, body)
    assert response.status_code == 204
    assert response.get_data() == b""
    info = storage.head("clips/new.mp4")
    assert (info.size, info.content_type) == (len(body), "video/mp4")
    assert b"".join(storage.read_range("clips/new.mp4")) == body


def test_presigned_post_of_exactly_the_limit_is_accepted(app, storage):
    response = post_upload(app, upload_target(app, storage, max_bytes=3000), DATA[:3000])
    assert response.status_code == 204
    assert storage.head("clips/new.mp4").size == 3000


@pytest.mark.parametrize("size", [5001, 5000 + 70 * 1024])
def test_presigned_post_over_the_limit_is_413_and_stores_nothing(app, storage, size):
    body = (DATA * 10)[:size]
    response = post_upload(app, upload_target(app, storage, max_bytes=5000), body)
    assert_json_error(response, 413, "too_large")
    assert storage.head("clips/new.mp4") is None
    assert files_under(storage.root) == []


def test_presigned_post_with_another_content_type_is_403(app, storage):
    target = upload_target(app, storage)
    response = post_upload(app, target, DATA[:100], fields={**target.fields, "Content-Type": "text/html"})
    assert_json_error(response, 403, "policy_content_type")
    assert storage.head("clips/new.mp4") is None
    assert files_under(storage.root) == []


def test_presigned_post_for_another_key_is_403(app, storage):
    target = upload_target(app, storage)
    for key in ("clips/other.mp4", "../escape.mp4"):
        response = post_upload(app, target, DATA[:100], fields={**target.fields, "key": key})
        assert_json_error(response, 403, "policy_key")
    assert files_under(storage.root) == []


def test_presigned_post_with_an_expired_policy_is_403(app, storage):
    response = post_upload(app, upload_target(app, storage, ttl=-1), DATA[:100])
    assert_json_error(response, 403, "expired")
    assert files_under(storage.root) == []


def test_presigned_post_with_a_tampered_policy_is_403(app, storage):
    target = upload_target(app, storage, max_bytes=10)
    policy = parse_qs(urlsplit(target.url).query)["policy"][0]
    _, signature = policy.rsplit(".", 1)
    bigger = URLSafeSerializer("x").dump_payload({"k": "clips/new.mp4", "t": "video/mp4", "m": 10**9, "e": 2**40})
    tampered = type(target)(url=f"/storage/upload?policy={bigger.decode()}.{signature}", fields=target.fields)
    response = post_upload(app, tampered, DATA[:100])
    assert_json_error(response, 403, "bad_signature")
    no_policy = type(target)(url="/storage/upload", fields=target.fields)
    assert_json_error(post_upload(app, no_policy, DATA[:100]), 403, "bad_signature")
    assert files_under(storage.root) == []


def test_presigned_post_without_a_file_or_with_an_empty_one(app, storage):
    target = upload_target(app, storage)
    no_file = app.test_client().post(target.url, data=dict(target.fields), content_type="multipart/form-data")
    assert_json_error(no_file, 400, "no_file")
    assert_json_error(post_upload(app, target, b""), 400, "empty_file")
    assert storage.head("clips/new.mp4") is None
    assert files_under(storage.root) == []


# --- the interface ---------------------------------------------------------------------------

def test_objects_are_files_under_the_root_written_whole(storage):
    """The contract (test_storage_contract.py) plus what is local: where the files are, and that a put
    goes through a temporary file that never stays behind."""
    storage.put(KEY, io.BytesIO(DATA), content_type="video/mp4")
    assert storage.local_path(KEY) == str(storage.root / KEY)
    assert (storage.root / KEY).read_bytes() == DATA
    assert b"".join(storage.read_range(KEY, len(DATA) + 5)) == b""
    storage.put(KEY, io.BytesIO(b"replaced"), content_type="video/webm")
    assert not any(name.startswith(".upload-") for name in files_under(storage.root))
    storage.delete(KEY)
    assert not (storage.root / KEY).exists()


def test_head_of_a_directory_is_none(storage, stored):
    assert storage.head("recordings/meet") is None


def test_check_passes_and_fails(bare_storage, tmp_path):
    storage = bare_storage
    storage.check()
    assert storage.root.is_dir()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    with pytest.raises(StorageUnavailable):
        LocalStorage(blocked / "storage", "key").check()


def test_get_storage_is_the_local_backend_in_the_instance(app, storage, tmp_path):
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "storage").resolve()
    assert app.extensions["storage"] is storage


