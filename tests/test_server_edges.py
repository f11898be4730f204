"""The server's edges (security review, findings 4, 5, 10, 11 and the smaller ones): slow clients,
request sizes, the Host header, hostile JSON and ids, cache and transport headers."""
import socket
import time

import pytest
import requests

from tests.app_server import AppServer
from tests.assertions import assert_json_error
from tests.factories import make_share_link

STALLED_SOCKETS = 12


# --- gunicorn as `make run` starts it ------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with AppServer(tmp_path_factory.mktemp("served") / "instance") as server:
        yield server


def stall(server, head):
    """A socket that sent `head` and then nothing more."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(head.encode())
    return sock


def test_a_dozen_stalled_clients_do_not_take_the_service_down(served):
    host = f"127.0.0.1:{served.port}"
    heads = [f"POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             f"Content-Length: 5000\r\n\r\nemail=a",  # headers, then a few bytes of body
             f"GET /recordings HTTP/1.1\r\nHost: {host}\r\nUser-Agent: slow"]  # headers never finished
    sockets = [stall(served, heads[index % 2]) for index in range(STALLED_SOCKETS)]
    try:
        time.sleep(0.5)  # every stalled request is in the server by now
        for path in ("/healthz", "/login"):
            started = time.monotonic()
            response = requests.get(served.url + path, timeout=10)
            assert response.status_code == 200, path
            assert time.monotonic() - started < 2, path
    finally:
        for sock in sockets:
            sock.close()


def test_an_oversized_body_is_refused_before_it_is_read(served):
    """A 400 MiB form to /login (no login needed): 413 at once, without sending a byte of the body."""
    sock = stall(served, f"POST /login HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
                         f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {400 * 1024 * 1024}\r\n\r\n")
    try:
        sock.settimeout(5)
        started = time.monotonic()
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1.1 413"), status_line
        assert time.monotonic() - started < 2
    finally:
        sock.close()


def test_health_checks_answer_whatever_the_host(served):
    """Load balancers call /healthz with the node's address as Host; everything else needs a trusted one."""
    assert requests.get(f"{served.url}/healthz", headers={"Host": "10.0.3.7:8000"}, timeout=5).status_code == 200
    assert requests.get(f"{served.url}/login", headers={"Host": "evil.example"}, timeout=5).status_code == 400


# --- body sizes on the API --------------------------------------------------------------------------

def test_a_json_body_over_64_kb_is_413(login, member, standup):
    body = '{"target_type": "meet", "target_id": %d, "pad": "%s"}' % (standup.id, "x" * 100_000)
    response = login(member).post("/api/share-links", data=body, content_type="application/json")
    assert_json_error(response, 413, "too_large")


# --- hostile JSON and ids ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/share-links", "/api/livekit/recordings/clips"])
def test_deeply_nested_json_is_a_400_not_a_500(login, member, path):
    response = login(member).post(path, data="[" * 50_000, content_type="application/json")
    assert_json_error(response, 400, "invalid_json")


@pytest.mark.parametrize("link_id", ["9223372036854775808", "99999999999999999999999", "9223372036854775807",
                                     "2147483648"])
def test_share_link_ids_beyond_64_bits_are_404(login, member, link_id):
    assert_json_error(login(member).delete(f"/api/share-links/{link_id}"), 404, "not_found")


# --- the Host header --------------------------------------------------------------------------------

def test_a_foreign_host_header_gets_no_links_and_no_redirects(login, member, standup):
    client = login(member)
    evil = {"Host": "evil.example"}
    share = client.post("/api/share-links", json={"target_type": "meet", "target_id": standup.id}, headers=evil)
    assert_json_error(share, 400, "untrusted_host")
    download = client.get(f"/api/livekit/recordings/download?type=meet&id={standup.id}", headers=evil)
    assert download.status_code == 400 and "Location" not in download.headers
    assert client.get("/login", headers=evil).status_code == 400


class TestPublicBaseUrl:
    @pytest.fixture
    def app_config(self):
        return {"PUBLIC_BASE_URL": "https://reclip.example"}

    def test_only_the_public_host_is_trusted_and_https_asks_for_hsts(self, app):
        client = app.test_client()
        assert client.get("/login", base_url="https://localhost").status_code == 400
        page = client.get("/login", base_url="https://reclip.example")
        assert page.status_code == 200
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_over_plain_http(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


# --- the share page ---------------------------------------------------------------------------------

def test_share_pages_are_private_to_caches(login, client, member, standup):
    url = login(member).post("/api/share-links", json={"target_type": "meet", "target_id": standup.id}) \
        .get_json()["share_link"]["url"]
    page = client.get(url.replace("http://localhost", ""))
    assert page.status_code == 200
    assert page.headers["Cache-Control"].startswith("private")


def test_a_share_media_url_lives_a_minute(app, login, client, member, standup):
    token = make_share_link(member, standup)
    media = client.get(f"/s/{token}/media")
    assert media.status_code == 302
    signed = app.extensions["storage"].verify_get(media.headers["Location"].rsplit("/", 1)[1])
    assert signed["e"] - time.time() <= 61
