"""Recordings that are not in the bucket stream through the SSRF-safe proxy, from a real HTTP server."""
from datetime import datetime, timezone

import pytest

from tests.assertions import assert_json_error
from tests.conftest import free_port
from tests.factories import make_recording, make_share_link, make_user
from tests.range_server import REDIRECT_TARGET, RangeServer

CREATED = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)
MEDIA_PATH = "/media/town-hall.mp4"
PROXY_ON = {"PROXY_ALLOWED_HOSTS": ["127.0.0.1"], "PROXY_ALLOW_PRIVATE_ADDRESSES": True}


@pytest.fixture
def upstream():
    with RangeServer() as server:
        yield server


@pytest.fixture
def app_config(upstream):
    return dict(PROXY_ON)


@pytest.fixture
def sample_bytes(media_dir):
    return (media_dir / "sample.mp4").read_bytes()


@pytest.fixture
def owner(app):
    return make_user()


@pytest.fixture
def external(app, upstream, owner, sample_bytes):
    """A meet recording whose recording_url is a file on the upstream server."""
    url = upstream.add_file(MEDIA_PATH, sample_bytes, "video/mp4")
    return make_recording(owner=owner, url=url, title="Town hall", created_at=CREATED)


def download_url(recording, action="download"):
    return f"/api/livekit/recordings/{action}?type={recording.source_type}&id={recording.id}"



def test_full_download_streams_the_file_as_an_attachment(login, owner, external, upstream, sample_bytes):
    response = login(owner).get(download_url(external))

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="Town hall-2024-03-15.mp4"'
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Length"] == str(len(sample_bytes))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["ETag"].startswith('"') and len(response.headers["ETag"]) == 18
    assert response.headers["Last-Modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert response.get_data() == sample_bytes
    [seen] = upstream.requests
    assert seen.path == MEDIA_PATH
    assert "Range" not in seen.headers
    assert seen.headers["Host"] == f"127.0.0.1:{upstream.port}"
    assert seen.headers["Accept-Encoding"] == "identity"
    assert "Cookie" not in seen.headers  # the user's session never leaves for the upstream


def test_format_json_points_at_the_proxy_itself_without_asking_the_upstream(login, owner, external, upstream,
                                                                           sample_bytes):
    member = login(owner)
    response = member.get(f"{download_url(external)}&format=json")

    assert response.status_code == 200
    assert response.get_json() == {"url": download_url(external), "filename": "Town hall-2024-03-15.mp4"}
    assert upstream.requests == []  # the one fetch is the download itself
    assert member.get(response.get_json()["url"]).get_data() == sample_bytes


def test_resume_from_the_middle_answers_206_with_the_rest(login, owner, external, upstream, sample_bytes):
    size = len(sample_bytes)
    middle = size // 2

    response = login(owner).get(download_url(external), headers={"Range": f"bytes={middle}-"})

    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {middle}-{size - 1}/{size}"
    assert response.headers["Content-Length"] == str(size - middle)
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.get_data() == sample_bytes[middle:]
    assert upstream.requests[-1].headers["Range"] == f"bytes={middle}-"


def test_a_bounded_range_gives_exactly_those_bytes(login, owner, external, sample_bytes):
    response = login(owner).get(download_url(external), headers={"Range": "bytes=100-1123"})

    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 100-1123/{len(sample_bytes)}"
    assert response.get_data() == sample_bytes[100:1124]


def test_if_range_is_passed_so_a_changed_file_comes_whole(login, owner, external, upstream, sample_bytes):
    client = login(owner)
    first = client.get(download_url(external))
    etag = first.headers["ETag"]
    first.close()  # hang up without reading the body, as a player does

    same = client.get(download_url(external), headers={"Range": "bytes=10-", "If-Range": etag})
    changed = client.get(download_url(external), headers={"Range": "bytes=10-", "If-Range": '"an-old-version"'})

    assert same.status_code == 206 and same.get_data() == sample_bytes[10:]
    assert changed.status_code == 200 and changed.get_data() == sample_bytes
    assert "Content-Range" not in changed.headers
    assert upstream.requests[-1].headers["If-Range"] == '"an-old-version"'


def test_a_range_past_the_end_is_416_json(login, owner, external, sample_bytes):
    response = login(owner).get(download_url(external), headers={"Range": f"bytes={len(sample_bytes) + 10}-"})

    assert_json_error(response, 416, "range_not_satisfiable")


def test_play_streams_inline(login, owner, external, sample_bytes):
    response = login(owner).get(download_url(external, "play"))

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'inline; filename="Town hall-2024-03-15.mp4"'
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.get_data() == sample_bytes


def test_anonymous_gets_401_and_the_upstream_is_never_asked(client, external, upstream):
    assert_json_error(client.get(download_url(external)), 401, "unauthorized")
    assert upstream.requests == []


@pytest.mark.parametrize("url_template", [
    "http://localhost:{port}/media/town-hall.mp4",
    "http://127.0.0.1:{port}@localhost:{port}/media/town-hall.mp4",  # userinfo cannot smuggle a host in
    "http://[::1]:{port}/media/town-hall.mp4",
], ids=["other-host", "userinfo-trick", "ipv6-loopback"])
def test_a_host_outside_the_allow_list_is_refused(app, login, owner, upstream, sample_bytes, url_template):
    upstream.add_file(MEDIA_PATH, sample_bytes, "video/mp4")
    recording = make_recording(owner=owner, url=url_template.format(port=upstream.port))

    message = assert_json_error(login(owner).get(download_url(recording)), 502, "upstream_refused")["error"]["message"]

    assert "PROXY_ALLOWED_HOSTS" in message
    assert upstream.requests == []


def test_an_upstream_redirect_is_not_followed(app, login, owner, upstream):
    recording = make_recording(owner=owner, url=upstream.url("/redirect"))

    message = assert_json_error(login(owner).get(download_url(recording)), 502, "upstream_refused")["error"]["message"]

    assert "redirect" in message
    assert upstream.paths_requested() == ["/redirect"]
    assert REDIRECT_TARGET not in upstream.paths_requested()


def test_an_upstream_404_is_a_502(app, login, owner, upstream):
    recording = make_recording(owner=owner, url=upstream.url("/missing"))

    message = assert_json_error(login(owner).get(download_url(recording)), 502, "upstream_error")["error"]["message"]

    assert "404" in message
    assert upstream.paths_requested() == ["/missing"]


def test_an_unreachable_upstream_is_a_502(app, login, owner):
    recording = make_recording(owner=owner, url=f"http://127.0.0.1:{free_port()}/media/gone.mp4")

    assert_json_error(login(owner).get(download_url(recording)), 502, "upstream_unreachable")


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/media/town-hall.mp4", "file:///etc/passwd",
                                 "gopher://127.0.0.1:70/_GET"], ids=["ftp", "file", "gopher"])
def test_a_non_http_scheme_is_refused(app, login, owner, url):
    recording = make_recording(owner=owner, url=url)

    message = assert_json_error(login(owner).get(download_url(recording)), 502, "upstream_refused")["error"]["message"]

    assert "http" in message


class TestPrivateAddressesRefused:
    @pytest.fixture
    def app_config(self, upstream):
        return {"PROXY_ALLOWED_HOSTS": ["127.0.0.1"], "PROXY_ALLOW_PRIVATE_ADDRESSES": False}

    def test_an_allowed_host_on_a_private_address_is_refused(self, login, owner, external, upstream):
        message = assert_json_error(login(owner).get(download_url(external)), 502, "upstream_refused")["error"]["message"]

        assert "private" in message
        assert upstream.requests == []


class TestAllowListWithPort:
    @pytest.fixture
    def app_config(self, upstream):
        return {"PROXY_ALLOWED_HOSTS": [f"127.0.0.1:{upstream.port}"], "PROXY_ALLOW_PRIVATE_ADDRESSES": True}

    def test_host_and_port_on_the_list_is_fetched(self, login, owner, external, sample_bytes):
        response = login(owner).get(download_url(external))

        assert response.status_code == 200
        assert response.get_data() == sample_bytes

    def test_the_same_host_on_another_port_is_refused(self, app, login, owner, upstream, sample_bytes):
        with RangeServer() as other:
            other.add_file(MEDIA_PATH, sample_bytes, "video/mp4")
            recording = make_recording(owner=owner, url=other.url(MEDIA_PATH))

            assert_json_error(login(owner).get(download_url(recording)), 502, "upstream_refused")

            assert other.requests == []


# --- what the proxy answers with (security review, finding 2) -----------------------------------

SVG_WITH_SCRIPT = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(document.cookie)</script></svg>"


@pytest.mark.parametrize("upstream_type", ["image/svg+xml", "text/html; charset=utf-8", "application/xhtml+xml"])
def test_an_upstream_document_type_is_never_passed_on(app, login, client, owner, upstream, upstream_type):
    recording = make_recording(owner=owner, url=upstream.add_file("/media/notes.mp4", SVG_WITH_SCRIPT, upstream_type),
                               title="Notes")
    owner_client = login(owner)
    token = make_share_link(owner, recording)

    for response in (owner_client.get(download_url(recording, "play")), owner_client.get(download_url(recording)),
                     client.get(f"/s/{token}/media")):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "video/mp4"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"].startswith("sandbox")


def test_an_audio_recording_is_served_as_audio(app, login, owner, upstream, media_dir):
    url = upstream.add_file("/media/call.m4a", (media_dir / "sample.m4a").read_bytes(), "text/html")
    recording = make_recording("voice", owner=owner, url=url)
    admin = make_user(super_admin=True)
    response = login(admin).get(download_url(recording, "play"))
    assert response.headers["Content-Type"] == "audio/mp4"


def test_the_local_backend_serves_media_with_a_sandbox_and_never_a_document_type(app, login, owner, media_dir):
    from io import BytesIO

    from webapp.storage import get_storage
    storage = get_storage()
    storage.put("recordings/meet/page.mp4", BytesIO(SVG_WITH_SCRIPT), content_type="image/svg+xml")
    with app.test_request_context():
        url = storage.signed_download_url("recordings/meet/page.mp4", filename="page.mp4", disposition="inline",
                                          ttl=60)
    response = login(owner).get(url.replace("http://localhost", ""))
    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- IPv6 addresses that carry an IPv4 one (security review, finding 13) ----------------------------

@pytest.mark.parametrize("address", [
    "64:ff9b::7f00:1",      # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",   # NAT64 of 169.254.169.254 (cloud metadata)
    "64:ff9b:1::a00:1",     # local-use NAT64 of 10.0.0.1
    "::a9fe:a9fe",          # IPv4-compatible 169.254.169.254
    "::127.0.0.1",          # IPv4-compatible loopback
    "2002:7f00:1::",        # 6to4 of 127.0.0.1
    "2002:0808:0808::1",    # 6to4, even of a public address: a relay decides where it goes
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "::ffff:127.0.0.1",     # IPv4-mapped loopback
    "::ffff:10.1.2.3",
])
def test_ipv6_forms_that_embed_an_ipv4_address_are_refused(address):
    from webapp.errors import ApiError
    from webapp.delivery.proxy import _check_address
    with pytest.raises(ApiError) as refused:
        _check_address(address, allow_private=False)
    assert refused.value.status == 502


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "8.8.8.8", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address):
    from webapp.delivery.proxy import _check_address
    assert _check_address(address, allow_private=False)
