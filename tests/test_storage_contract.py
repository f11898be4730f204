"""The storage interface, one contract for every backend: `local` (served by the app), `s3` (moto
over real HTTP) and `supabase` (tests/supabase_storage_server.py, a fake of Supabase Storage's REST API
over real HTTP). What only one backend has (the local backend's routes and key checks, S3's policy
and endpoints, Supabase's URLs and errors) is tested in test_storage_local.py, test_storage_s3.py and
test_storage_supabase.py."""
import io
import re
from urllib.parse import unquote, urlsplit

import pytest
import requests

from webapp.media import probe
from webapp.storage import ObjectInfo, get_storage

DATA = bytes(range(256)) * 40  # 10 240 bytes, every offset recognisable
KEY = "recordings/meet/sample.mp4"


@pytest.fixture(params=["local", "s3", "supabase"])
def backend(request):
    return request.param


@pytest.fixture
def db_backend():
    """Storage never touches the database: once, on SQLite, is enough."""
    return "sqlite"


@pytest.fixture
def app_config(backend, request):
    return request.getfixturevalue(f"{backend}_config") if backend != "local" else {}


@pytest.fixture
def storage(app):
    return get_storage()


@pytest.fixture
def stored(storage):
    storage.put(KEY, io.BytesIO(DATA), content_type="video/mp4")
    return KEY


@pytest.fixture
def http(app):
    """http(method, url, **kwargs) -> (status, headers, body): the app serves local URLs, a real server the rest."""
    def _http(method, url, headers=None, data=None, files=None):
        parts = urlsplit(url)
        if parts.netloc == "localhost":
            client = app.test_client()
            path = f"{parts.path}?{parts.query}" if parts.query else parts.path
            if files:
                form = dict(data or {})
                form.update({name: (io.BytesIO(body), filename, kind) for name, (filename, body, kind) in files.items()})
                response = client.open(path, method=method, data=form, content_type="multipart/form-data")
            else:
                response = client.open(path, method=method, headers=headers)
            return response.status_code, response.headers, response.get_data()
        response = requests.request(method, url, headers=headers, data=data, files=files, timeout=10)
        return response.status_code, response.headers, response.content
    return _http


def saved_name(headers):
    """The file name a browser saves an attachment under (RFC 6266: filename* over filename), else None."""
    value = headers.get("Content-Disposition", "")
    if not value.startswith("attachment"):
        return None
    extended = re.search(r"filename\*=UTF-8''([^;\s]+)", value)
    if extended:
        return unquote(extended.group(1))
    plain = re.search(r'filename="([^"]*)"', value)
    return plain.group(1) if plain else None


def upload(http, target, body, content_type):
    """Send a file the way the browser does, to either shape of UploadTarget."""
    if target.method == "PUT":
        return http("PUT", target.url, headers=target.headers, data=body)
    return http("POST", target.url, data=target.fields, files={"file": ("clip.mp4", body, content_type)})


def signed(app, storage, **kwargs):
    kwargs.setdefault("filename", "sample.mp4")
    kwargs.setdefault("ttl", 600)
    with app.test_request_context():
        return storage.signed_download_url(KEY, **kwargs)


def test_put_head_read_range_delete_list(storage):
    assert storage.head(KEY) is None
    storage.put(KEY, io.BytesIO(DATA), content_type="video/mp4")
    storage.put("recordings/voice/call.m4a", io.BytesIO(b"voice"), content_type="audio/mp4")
    storage.put("clips/c.mp4", io.BytesIO(b"clip"), content_type="video/mp4")

    info = storage.head(KEY)
    assert isinstance(info, ObjectInfo)
    assert (info.key, info.size, info.content_type) == (KEY, len(DATA), "video/mp4")
    assert info.etag and info.last_modified is not None and info.last_modified.tzinfo is not None

    assert b"".join(storage.read_range(KEY)) == DATA
    assert b"".join(storage.read_range(KEY, 10, 99)) == DATA[10:100]
    assert b"".join(storage.read_range(KEY, 10000)) == DATA[10000:]

    assert sorted(i.key for i in storage.list("recordings/")) == [KEY, "recordings/voice/call.m4a"]
    assert [(i.key, i.size) for i in storage.list("clips/")] == [("clips/c.mp4", 4)]
    assert sorted(i.key for i in storage.list("")) == ["clips/c.mp4", KEY, "recordings/voice/call.m4a"]

    storage.put(KEY, io.BytesIO(b"replaced"), content_type="video/webm")
    assert (storage.head(KEY).size, storage.head(KEY).content_type) == (8, "video/webm")

    storage.delete(KEY)
    assert storage.head(KEY) is None
    storage.delete(KEY)  # already gone: no error
    assert sorted(i.key for i in storage.list("")) == ["clips/c.mp4", "recordings/voice/call.m4a"]


def test_head_of_a_missing_key_is_none_and_check_passes(storage):
    assert storage.head("recordings/meet/nothing-here.mp4") is None
    storage.check()


def test_copy_keeps_bytes_and_content_type_and_misses_cleanly(storage):
    storage.put("clips/a.mp4", io.BytesIO(b"clip bytes"), content_type="video/mp4")
    info = storage.copy("clips/a.mp4", "clips/a-ready.mp4")
    assert (info.key, info.size, info.content_type) == ("clips/a-ready.mp4", 10, "video/mp4")
    assert b"".join(storage.read_range("clips/a-ready.mp4")) == b"clip bytes"
    assert storage.copy("clips/missing.mp4", "clips/x.mp4") is None and storage.head("clips/x.mp4") is None


@pytest.mark.parametrize("disposition", ["attachment", "inline"])
def test_a_signed_url_serves_the_bytes_with_the_asked_disposition_and_type(app, storage, stored, http,
                                                                           disposition, backend):
    url = signed(app, storage, filename="Weekly sync.mp4", disposition=disposition, content_type="video/mp4")
    status, headers, body = http("GET", url)
    assert status == 200 and body == DATA
    assert saved_name(headers) == ("Weekly sync.mp4" if disposition == "attachment" else None)
    if backend != "supabase":  # Supabase writes its own header (inline: none at all)
        assert headers["Content-Disposition"] == f'{disposition}; filename="Weekly sync.mp4"'
    assert headers["Content-Type"] == "video/mp4"


@pytest.mark.parametrize("filename", ["Café review ☕.mp4", "Team standup 0.05–0.20.mp4", "Q&A #3 + notes, 100.mp4",
                                      "Bob's (final) clip.mp4"])
def test_a_signed_url_names_a_file_with_any_characters(app, storage, stored, http, filename):
    _status, headers, _body = http("GET", signed(app, storage, filename=filename))
    assert saved_name(headers) == filename


def test_a_signed_url_names_a_non_ascii_file(app, storage, stored, http):
    _status, headers, _body = http("GET", signed(app, storage, filename="Café review ☕.mp4"))
    assert re.search(r"filename\*=UTF-8''Caf%C3%A9%20review%20%E2%98%95\.mp4(;|$)", headers["Content-Disposition"])


def test_a_signed_url_answers_ranges(app, storage, stored, http):
    status, headers, body = http("GET", signed(app, storage), headers={"Range": "bytes=10-99"})
    assert status == 206
    assert headers["Content-Range"] == f"bytes 10-99/{len(DATA)}"
    assert body == DATA[10:100]


def test_a_signed_upload_stores_the_file_with_its_type(app, storage, http, backend):
    with app.test_request_context():
        target = storage.signed_upload("clips/new.mp4", content_type="video/mp4", max_bytes=5000, ttl=600)
    if target.method == "POST":
        assert target.fields["key"] == "clips/new.mp4" and target.fields["Content-Type"] == "video/mp4"
    else:
        assert target.headers == {"Content-Type": "video/mp4"}
    assert target.method == ("PUT" if backend == "supabase" else "POST")
    status, _headers, _body = upload(http, target, DATA[:4000], "video/mp4")
    assert 200 <= status < 300
    info = storage.head("clips/new.mp4")
    assert (info.size, info.content_type) == (4000, "video/mp4")
    assert b"".join(storage.read_range("clips/new.mp4")) == DATA[:4000]


def test_a_readable_source_is_what_ffmpeg_can_open(app, storage, media_dir, backend):
    with (media_dir / "sample.mp4").open("rb") as fh:
        storage.put(KEY, fh, content_type="video/mp4")
    with app.test_request_context():
        source = storage.readable_source(KEY, ttl=60)
    assert ("://" in source) == (backend != "local")  # a local file is read as a file, not over HTTP
    assert probe(source if backend == "local" else _remote(source)).has_video


def _remote(url):
    from webapp.media import REMOTE_PROTOCOLS, MediaSource
    return MediaSource(url, protocols=REMOTE_PROTOCOLS)
