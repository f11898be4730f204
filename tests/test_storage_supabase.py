"""The supabase backend beyond the storage contract (test_storage_contract.py), against the fake of
Supabase Storage's REST API (tests/supabase_storage_server.py) over real HTTP: the URLs it accepts as
its bucket's, the download name in signed URLs, the signed PUT upload and what `complete` makes of it,
folders in listings, and storage that is down or refuses."""
import io
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from webapp.storage import ObjectMissing, StorageUnavailable, build_storage, get_storage
from webapp.storage import supabase as supabase_module
from webapp.storage.supabase import SupabaseStorage

from tests.assertions import assert_json_error
from tests.clip_helpers import CLIPS_URL, clip_row, create, cut
from tests.conftest import free_port
from tests.factories import make_recording, make_user

DATA = bytes(range(256)) * 40  # 10 240 bytes
KEY = "recordings/meet/sample.mp4"


@pytest.fixture
def supabase(supabase_config):
    storage = build_storage(supabase_config)
    assert isinstance(storage, SupabaseStorage)
    return storage


@pytest.fixture
def stored(supabase):
    supabase.put(KEY, io.BytesIO(DATA), content_type="video/mp4")
    return KEY


# --- recording URLs that point into the bucket ------------------------------------------------

def test_key_for_url_accepts_the_buckets_urls_in_every_form(supabase, supabase_server):
    bucket, base = supabase.bucket, supabase_server.url
    assert supabase.key_for_url("recordings/meet/a.mp4") == "recordings/meet/a.mp4"
    for route in ("object/public", "object/authenticated", "object/sign", "object", "s3"):
        assert supabase.key_for_url(f"{base}/storage/v1/{route}/{bucket}/recordings/a.mp4") == "recordings/a.mp4"
    signed = f"{base}/storage/v1/object/sign/{bucket}/recordings/a.mp4?token=eyJ.x.y&download=a.mp4"
    assert supabase.key_for_url(signed) == "recordings/a.mp4"
    assert supabase.key_for_url(f"{base}/storage/v1/object/{bucket}/room%201/a.mp4") is None  # no such key
    assert supabase.key_for_url(f"s3://{bucket}/recordings/a.mp4") == "recordings/a.mp4"


def test_key_for_url_refuses_other_buckets_hosts_and_paths(supabase, supabase_server):
    bucket, base = supabase.bucket, supabase_server.url
    assert supabase.key_for_url(f"{base}/storage/v1/object/public/other-bucket/a.mp4") is None
    assert supabase.key_for_url(f"{base}/storage/v1/object/public/{bucket}") is None
    assert supabase.key_for_url(f"{base}/storage/v1/object/public/{bucket}/") is None
    assert supabase.key_for_url(f"{base}/storage/v1/render/image/public/{bucket}/a.mp4") is None
    assert supabase.key_for_url(f"{base}/{bucket}/a.mp4") is None
    assert supabase.key_for_url(f"{base}/storage/v2/object/public/{bucket}/a.mp4") is None
    assert supabase.key_for_url(f"http://127.0.0.1:{free_port()}/storage/v1/object/public/{bucket}/a.mp4") is None
    assert supabase.key_for_url(f"http://127.0.0.1:bad/storage/v1/object/public/{bucket}/a.mp4") is None
    assert supabase.key_for_url(f"https://cdn.example.com/storage/v1/object/public/{bucket}/a.mp4") is None
    assert supabase.key_for_url(f"ftp://127.0.0.1/storage/v1/object/public/{bucket}/a.mp4") is None
    assert supabase.key_for_url("s3://other-bucket/a.mp4") is None
    assert supabase.key_for_url(f"{base}/storage/v1/object/public/{bucket}/../../etc/passwd") is None
    assert supabase.key_for_url(f"{base}/storage/v1/object/public/{bucket}/%2e%2e/secret.mp4") is None
    assert supabase.key_for_url("../etc/passwd") is None


def test_key_for_url_on_a_hosted_project():
    hosted = SupabaseStorage("https://abcd.supabase.co", "key", "recordings")
    assert hosted.key_for_url("https://abcd.supabase.co/storage/v1/object/public/recordings/a/b.mp4") == "a/b.mp4"
    assert hosted.key_for_url("https://ABCD.supabase.co:443/storage/v1/s3/recordings/a/b.mp4") == "a/b.mp4"
    assert hosted.key_for_url("https://wxyz.supabase.co/storage/v1/object/public/recordings/a/b.mp4") is None
    assert hosted.key_for_url("http://abcd.supabase.co/storage/v1/object/public/recordings/a/b.mp4") is None


# --- the download name in signed URLs ---------------------------------------------------------------

@pytest.mark.parametrize(("filename", "sent"), [
    ("Team standup 0.05–0.20.mp4", "Team standup 0.05–0.20.mp4"),
    ("Q&A #3 + notes=ok?.mp4", "Q&A #3 + notes=ok .mp4"),
    ('He said "hi" 100%.mp4', "He said hi 100 .mp4"),
    ("a/b\\c\r\nd.mp4", "a b c d.mp4"),
    ("clip\u202egpj.exe", "clipgpj.exe"),
])
def test_the_download_name_is_sanitised_and_survives_the_query_string(supabase, stored, filename, sent):
    """storage3 form-encodes it (yarl: a space as +); & # + = are escaped, so they cannot end the value."""
    url = supabase.signed_download_url(KEY, filename=filename, ttl=60)
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert set(query) == {"token", "download"}
    assert query["download"] == [sent]
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == DATA
    encoded = requests.utils.quote(sent, safe="-_.!~*'()")  # encodeURIComponent, as storage-api writes it
    assert response.headers["Content-Disposition"] == f"attachment; filename={encoded}; filename*=UTF-8''{encoded};"


def test_an_inline_url_has_no_download_name(supabase, stored):
    url = supabase.signed_download_url(KEY, filename="a.mp4", disposition="inline", ttl=60)
    assert "download" not in parse_qs(urlsplit(url).query)
    response = requests.get(url, headers={"Range": "bytes=0-99"}, timeout=10)
    assert response.status_code == 206 and response.content == DATA[:100]
    assert "Content-Disposition" not in response.headers


def test_a_signed_url_is_refused_when_tampered_with_or_of_another_key(supabase, stored):
    supabase.put("recordings/meet/other.mp4", io.BytesIO(b"other"), content_type="video/mp4")
    url = supabase.signed_download_url(KEY, filename="a.mp4", disposition="inline", ttl=60)
    for bad in (url.replace(KEY, "recordings/meet/other.mp4"), url[:-3] + "abc", url.split("?")[0]):
        response = requests.get(bad, timeout=10)
        assert response.status_code == 400 and response.content != DATA
        assert response.json()["statusCode"] == "400"


def test_signing_a_missing_object_says_so(supabase):
    with pytest.raises(ObjectMissing):
        supabase.signed_download_url("recordings/meet/nothing.mp4", filename="a.mp4", ttl=60)


# --- the signed PUT upload -----------------------------------------------------------------------

def test_a_signed_upload_is_a_put_of_the_raw_file(supabase, supabase_server):
    target = supabase.signed_upload("clips/new.mp4", content_type="video/mp4", max_bytes=100, ttl=600)
    assert target.as_json() == {"url": target.url, "method": "PUT", "headers": {"Content-Type": "video/mp4"}}
    parts = urlsplit(target.url)
    assert f"{parts.scheme}://{parts.netloc}" == supabase_server.url
    assert parts.path == f"/storage/v1/object/upload/sign/{supabase.bucket}/clips/new.mp4"
    assert set(parse_qs(parts.query)) == {"token"}

    # The browser sends no key: the token is the permission. Supabase limits neither size nor type.
    response = requests.put(target.url, data=DATA, headers={"Content-Type": "video/mp4"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["Key"] == f"{supabase.bucket}/clips/new.mp4"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    info = supabase.head("clips/new.mp4")
    assert (info.size, info.content_type) == (len(DATA), "video/mp4")


def test_a_signed_upload_url_is_for_its_key_once(supabase):
    target = supabase.signed_upload("clips/new.mp4", content_type="video/mp4", max_bytes=100, ttl=600)
    other = target.url.replace("clips/new.mp4", "clips/other.mp4")
    refused = requests.put(other, data=b"x", headers=target.headers, timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "InvalidSignature"
    assert requests.put(target.url.split("?")[0], data=b"x", timeout=10).status_code == 400
    assert requests.put(target.url, data=b"first", headers=target.headers, timeout=10).status_code == 200
    again = requests.put(target.url, data=b"second", headers=target.headers, timeout=10)
    assert again.status_code == 400 and again.json()["statusCode"] == "409"  # not an upsert
    assert b"".join(supabase.read_range("clips/new.mp4")) == b"first"
    assert supabase.head("clips/other.mp4") is None


def test_a_browser_may_send_the_put_cross_origin(supabase):
    target = supabase.signed_upload("clips/new.mp4", content_type="video/mp4", max_bytes=100, ttl=600)
    preflight = requests.options(target.url, timeout=10, headers={
        "Origin": "http://127.0.0.1:5000", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "content-type"


# --- listing and copying -----------------------------------------------------------------------

def test_list_walks_folders_pages_and_prefixes(supabase, supabase_server, monkeypatch):
    monkeypatch.setattr(supabase_module, "LIST_PAGE", 2)  # every folder takes more than one page
    keys = ["clips/a.mp4", "clips/b.mp4", "clips/c-ready.mp4", "clips/uploads/d.mp4", "clips/uploads/e.mp4",
            "clips/uploads/deep/f.mp4", "posters/clip-1.jpg", "posters/clip-2.jpg", "posters/meet-3.jpg", "top.mp4"]
    for key in keys:
        supabase.put(key, io.BytesIO(key.encode()), content_type="video/mp4")
    # The dashboard's "create folder" leaves a placeholder that no key names.
    supabase_server.objects[supabase.bucket]["clips/.emptyFolderPlaceholder"] = supabase_server.objects[
        supabase.bucket]["top.mp4"]

    assert sorted(info.key for info in supabase.list("")) == sorted(keys)
    assert sorted(info.key for info in supabase.list("clips/")) == sorted(k for k in keys if k.startswith("clips/"))
    assert sorted(info.key for info in supabase.list("posters/clip-")) == ["posters/clip-1.jpg", "posters/clip-2.jpg"]
    assert sorted(info.key for info in supabase.list("clips/uploads/d")) == ["clips/uploads/d.mp4", "clips/uploads/deep/f.mp4"]
    assert list(supabase.list("nothing/")) == []
    info = next(iter(supabase.list("top")))
    assert (info.key, info.size, info.content_type) == ("top.mp4", 7, "video/mp4")
    assert info.etag and info.last_modified.tzinfo is not None


def test_copy_replaces_an_existing_target(supabase):
    supabase.put("clips/a.mp4", io.BytesIO(b"new"), content_type="video/mp4")
    supabase.put("clips/a-ready.mp4", io.BytesIO(b"old one"), content_type="video/mp4")
    assert supabase.copy("clips/a.mp4", "clips/a-ready.mp4").size == 3
    assert b"".join(supabase.read_range("clips/a-ready.mp4")) == b"new"


# --- storage down, refusing, misconfigured --------------------------------------------------------

def every_call(storage):
    return [
        storage.check,
        lambda: storage.head(KEY),
        lambda: storage.put(KEY, io.BytesIO(b"x"), content_type="video/mp4"),
        lambda: list(storage.list("")),
        lambda: list(storage.read_range(KEY)),
        lambda: storage.signed_download_url(KEY, filename="a.mp4", ttl=60),
        lambda: storage.signed_upload("clips/a.mp4", content_type="video/mp4", max_bytes=10, ttl=60),
        lambda: storage.copy(KEY, "clips/a.mp4"),
        lambda: storage.delete(KEY),
    ]


def test_a_closed_port_raises_storage_unavailable(supabase_config):
    storage = build_storage({**supabase_config, "SUPABASE_URL": f"http://127.0.0.1:{free_port()}"})
    for call in every_call(storage):
        with pytest.raises(StorageUnavailable):
            call()


def test_server_errors_raise_storage_unavailable(supabase, stored, supabase_server):
    supabase_server.fail_with = 500
    for call in every_call(supabase):
        with pytest.raises(StorageUnavailable):
            call()


@pytest.mark.parametrize("change", [{"SUPABASE_SERVICE_KEY": "not-the-key"}, {"SUPABASE_BUCKET": "no-such-bucket"}])
def test_a_wrong_key_or_bucket_is_unavailable_not_missing(supabase_config, change):
    storage = build_storage({**supabase_config, **change})
    with pytest.raises(StorageUnavailable):
        storage.check()
    with pytest.raises(StorageUnavailable):
        storage.head(KEY)  # not None: a missing bucket is no missing object


class TestInTheApp:
    @pytest.fixture
    def app_config(self, supabase_config):
        return supabase_config

    @pytest.fixture
    def owner(self, app):
        return make_user("owner@example.com")

    @pytest.fixture
    def recording(self, app, owner, media_dir):
        return make_recording(owner=owner, file=media_dir / "sample.mp4", title="Team standup")

    def test_healthz_is_ok(self, app, client):
        assert get_storage().name == "supabase"
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.get_json()["checks"]["storage"] == "ok"

    def test_the_pages_may_reach_the_project(self, app, login, owner, supabase_server):
        policy = login(owner).get("/recordings").headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        for name in ("connect-src", "media-src", "img-src"):
            assert supabase_server.url in directives[name].split()

    def test_a_browser_clip_is_put_then_completed_and_downloads_with_its_title(self, app, login, owner, recording,
                                                                              media_dir, tmp_path):
        client = login(owner)
        created = create(client, recording, 5, 15)
        assert created.status_code == 201
        upload = created.get_json()["upload"]
        assert set(upload) == {"url", "method", "headers"} and upload["method"] == "PUT"
        clip_id = created.get_json()["clip"]["id"]
        path = cut(media_dir / "sample.mp4", tmp_path / "clip.mp4", 5, 10)
        sent = requests.put(upload["url"], data=path.read_bytes(), headers=upload["headers"], timeout=30)
        assert sent.status_code == 200

        done = client.post(f"{CLIPS_URL}/{clip_id}/complete")
        assert done.status_code == 200, done.get_data(as_text=True)
        assert done.get_json()["clip"]["status"] == "ready"
        download = client.get(f"{CLIPS_URL}/{clip_id}/download")
        assert download.status_code == 302
        response = requests.get(download.headers["Location"], timeout=30)
        assert response.content == path.read_bytes()
        name = "Team%20standup%200.05%E2%80%930.15.mp4"
        assert response.headers["Content-Disposition"] == f"attachment; filename={name}; filename*=UTF-8''{name};"

    def test_an_oversized_upload_is_rejected_at_complete_and_deleted(self, app, login, owner, recording):
        """Supabase does not police the size a signed upload may have: complete does."""
        client = login(owner)
        created = create(client, recording, 5, 15).get_json()
        clip_id, upload = created["clip"]["id"], created["upload"]
        limit = clip_row(clip_id).upload_max_bytes
        sent = requests.put(upload["url"], data=b"\0" * (limit + 1), headers=upload["headers"], timeout=30)
        assert sent.status_code == 200

        response = client.post(f"{CLIPS_URL}/{clip_id}/complete")
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "clip_rejected"
        assert "more than the" in response.get_json()["error"]["message"]
        assert clip_row(clip_id).status == "failed"
        assert list(get_storage().list("clips/")) == []

    def test_storage_down_answers_503_json(self, app, login, owner, recording, supabase_server):
        client = login(owner)
        supabase_server.fail_with = 503
        response = create(client, recording, 5, 15)
        assert_json_error(response, 503, "storage_unavailable")
        download = client.get(f"/api/livekit/recordings/download?type=meet&id={recording.id}")
        assert_json_error(download, 503, "storage_unavailable")
        assert client.get("/healthz").status_code == 503
