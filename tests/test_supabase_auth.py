"""Sign-in with the dashboard's Supabase session: access tokens minted here with PyJWT, as Supabase Auth
mints them (HS256 with the project's JWT secret; ES256 with a key published at a local JWKS endpoint)."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from webapp.auth.models import User
from webapp.extensions import db
from tests.assertions import assert_json_error
from tests.factories import make_recording, make_user

SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
SUPABASE_CONFIG = {"SUPABASE_JWT_SECRET": SECRET}


def access_token(sub="7d4f0b4e-1c52-4a0e-9f41-7a3f5c6e1d20", email="member@example.com", *, key=SECRET,
                 algorithm="HS256", headers=None, **claims):
    """A Supabase access token: the claims Supabase Auth puts in one."""
    now = int(time.time())
    payload = {"aud": "authenticated", "exp": now + 3600, "iat": now, "sub": sub, "email": email,
               "role": "authenticated", "aal": "aal1", "session_id": "5b2c", "is_anonymous": False,
               "app_metadata": {"provider": "email", "providers": ["email"]}, "user_metadata": {}}
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm=algorithm, headers=headers)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(app):
    """A bare client: no cookie, no CSRF token, as the dashboard's server or a script calls the API."""
    return app.test_client()


@pytest.fixture
def app_config():
    return dict(SUPABASE_CONFIG)


# --- who the token is -----------------------------------------------------------------------

def test_a_member_token_lists_the_members_recordings(app, api):
    member = make_user("member@example.com")
    mine = make_recording(owner=member, title="Mine")
    make_recording(owner=make_user("other@example.com"), title="Theirs")

    response = api.get("/api/livekit/recordings?type=meet", headers=bearer(access_token()))

    assert response.status_code == 200
    assert [r["id"] for r in response.get_json()["recordings"]] == [mine.id]
    assert "Set-Cookie" not in response.headers  # a bearer call makes no session
    voice = api.get("/api/livekit/recordings?type=voice", headers=bearer(access_token()))
    assert voice.get_json()["recordings"] == []


def test_app_metadata_role_makes_a_super_admin_and_user_metadata_does_not(app, api):
    make_recording(owner=make_user("other@example.com"), title="Theirs")
    forged = access_token(sub="u-forged", email="forger@example.com", user_metadata={"role": "super_admin"})
    assert api.get("/api/livekit/recordings?type=meet", headers=bearer(forged)).get_json()["recordings"] == []

    admin = access_token(sub="u-admin", email="boss@example.com",
                         app_metadata={"provider": "email", "role": "super_admin"})
    listed = api.get("/api/livekit/recordings?type=meet", headers=bearer(admin)).get_json()["recordings"]
    assert [r["title"] for r in listed] == ["Theirs"]
    assert db.session.query(User).filter_by(email="boss@example.com").one().is_super_admin

    # The dashboard takes the role away: a dashboard-only user loses it with their next token.
    demoted = access_token(sub="u-admin", email="boss@example.com")
    assert api.get("/api/livekit/recordings?type=meet", headers=bearer(demoted)).get_json()["recordings"] == []


def test_the_first_token_links_the_user_with_that_email_and_later_ones_follow_the_sub(app, api, login):
    existing = make_user("Member@Example.com", super_admin=True)
    recording = make_recording(owner=existing, title="Mine")
    token = access_token(sub="u-1", email="member@example.com")

    assert api.get("/api/livekit/recordings?type=meet", headers=bearer(token)).status_code == 200

    db.session.refresh(existing)
    assert existing.supabase_user_id == "u-1"
    assert existing.is_super_admin  # a Reclip-made super admin stays one
    # The email changed in Supabase: the link is the sub, not the email.
    renamed = access_token(sub="u-1", email="new-address@example.com")
    listed = api.get("/api/livekit/recordings?type=meet", headers=bearer(renamed)).get_json()["recordings"]
    assert [r["id"] for r in listed] == [recording.id]
    assert db.session.query(User).count() == 1
    login(existing)  # and their Reclip password still works


def test_a_new_dashboard_user_is_created_without_a_password(app, api, client):
    response = api.get("/api/livekit/recordings?type=meet", headers=bearer(access_token(sub="u-new",
                                                                                           email="New@Example.com")))
    assert response.status_code == 200
    user = db.session.query(User).filter_by(supabase_user_id="u-new").one()
    assert (user.email, user.is_super_admin) == ("new@example.com", False)
    refused = client.flask.post("/login", data={"email": "new@example.com", "password": "!supabase",
                                                "csrf_token": client.csrf_token})
    assert refused.status_code == 401


def test_an_email_linked_to_another_dashboard_account_is_a_conflict(app, api):
    make_user("member@example.com").supabase_user_id = "u-old"
    db.session.commit()
    response = api.get("/api/livekit/recordings?type=meet", headers=bearer(access_token(sub="u-recreated")))
    assert_json_error(response, 409, "account_conflict")


# --- bad tokens -----------------------------------------------------------------------------

def _unsigned(claims):
    header = jwt.utils.base64url_encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).decode()
    body = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{body}."


BAD_TOKENS = {
    "expired": lambda: access_token(exp=int(time.time()) - 120),
    "wrong key": lambda: access_token(key="another-projects-secret-another-projects-secret"),
    "wrong audience": lambda: access_token(aud="anon"),
    "no audience (the anon key)": lambda: access_token(aud=None, role="anon", sub=None, email=None),
    "no expiry": lambda: access_token(exp=None),
    "alg none": lambda: _unsigned({"aud": "authenticated", "exp": int(time.time()) + 3600, "sub": "u-1",
                                   "email": "member@example.com"}),
    "HS512": lambda: access_token(algorithm="HS512"),
    "ES256 without SUPABASE_URL": lambda: access_token(key=ec.generate_private_key(ec.SECP256R1()),
                                                       algorithm="ES256"),
    "anonymous user": lambda: access_token(is_anonymous=True, email=None),
    "no email": lambda: access_token(email=None),
    "not a JWT": lambda: "not-a-jwt",
    "huge": lambda: "a" * 20000,
}


@pytest.mark.parametrize("name", BAD_TOKENS)
def test_bad_tokens_are_401(app, api, name):
    make_user("member@example.com")
    response = api.get("/api/livekit/recordings?type=meet", headers=bearer(BAD_TOKENS[name]()))
    assert_json_error(response, 401, "invalid_token")
    assert db.session.query(User).filter(User.supabase_user_id.is_not(None)).count() == 0


@pytest.mark.parametrize("app_config", [{}])
def test_without_supabase_bearer_tokens_are_refused(app, api):
    make_user("member@example.com")
    response = api.get("/api/livekit/recordings?type=meet", headers=bearer(access_token()))
    assert_json_error(response, 401, "invalid_token")
    assert api.get("/auth/supabase").status_code == 404
    assert_json_error(api.post("/auth/supabase", headers=bearer(access_token())), 404, "not_found")


def test_a_bearer_header_overrides_a_session_cookie(app, login, admin):
    as_admin = login(admin)
    make_recording(owner=make_user("other@example.com"))
    # A bad token next to a good session is still a bad token: the call does not fall back to the cookie.
    response = as_admin.flask.get("/api/livekit/recordings?type=meet", headers=bearer("not-a-jwt"))
    assert_json_error(response, 401, "invalid_token")


# --- CSRF -------------------------------------------------------------------------------------

def test_a_bearer_post_needs_no_csrf_token_while_a_cookie_post_does(app, api, login):
    member = make_user("member@example.com")
    recording = make_recording(owner=member)
    body = {"target_type": "meet", "target_id": recording.id, "default": False}

    created = api.post("/api/share-links", json=body, headers=bearer(access_token()))
    assert created.status_code == 201, created.get_data(as_text=True)

    as_member = login(member)
    without_csrf = as_member.flask.post("/api/share-links", json=body)
    assert without_csrf.status_code == 400
    # A bearer header that fails does not let a cookie POST through without its token.
    forged = as_member.flask.post("/api/share-links", json=body, headers=bearer("not-a-jwt"))
    assert_json_error(forged, 401, "invalid_token")


# --- exchanging a token for a session ----------------------------------------------------------

def test_post_auth_supabase_gives_a_session_cookie(app):
    member = make_user("member@example.com")
    mine = make_recording(owner=member)
    browser = app.test_client()

    response = browser.post("/auth/supabase", headers=bearer(access_token()))

    assert response.status_code == 200
    assert response.get_json() == {"user": {"email": "member@example.com", "super_admin": False}}
    listed = browser.get("/api/livekit/recordings?type=meet").get_json()["recordings"]
    assert [r["id"] for r in listed] == [mine.id]


def test_post_auth_supabase_takes_a_json_body_but_never_a_form(app):
    browser = app.test_client()
    for body in ({"data": {"access_token": access_token()}},  # what a cross-site form could send
                 {"data": json.dumps({"access_token": access_token()}), "content_type": "text/plain"},
                 {"json": {"access_token": 42}}, {"json": ["x"]}, {}):
        assert_json_error(browser.post("/auth/supabase", **body), 401, "invalid_token")
    assert_json_error(browser.post("/auth/supabase", headers=bearer(access_token(aud="x"))), 401, "invalid_token")
    assert browser.get("/api/livekit/recordings?type=meet").status_code == 401

    make_user("member@example.com")
    signed_in = browser.post("/auth/supabase", json={"access_token": access_token()})
    assert signed_in.status_code == 200
    assert browser.get("/api/livekit/recordings?type=meet").status_code == 200


def test_the_login_page_offers_the_dashboard_sign_in(app, api):
    page = api.get("/login?next=/recordings").get_data(as_text=True)
    assert 'href="/auth/supabase?next=/recordings"' in page
    signin = api.get("/auth/supabase?next=https://evil.example/").get_data(as_text=True)
    assert 'data-next="/recordings"' in signin  # never off to another site


# --- asymmetric keys from the project's JWKS ----------------------------------------------------

class JwksServer:
    """SUPABASE_URL/auth/v1/.well-known/jwks.json, serving whichever keys the test publishes."""

    def __init__(self):
        self.keys, self.fetches = [], 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/auth/v1/.well-known/jwks.json":
                    self.send_error(404)
                    return
                server.fetches += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def publish(self, kid):
        key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
        self.keys.append({**jwk, "kid": kid, "alg": "ES256", "use": "sig"})
        return key


@pytest.fixture(scope="module")
def jwks():
    server = JwksServer()
    yield server
    server.httpd.shutdown()


@pytest.fixture
def es256_app(jwks, db_url, tmp_path):
    from tests.conftest import FreshContextClient, _test_config
    from webapp import create_app
    from webapp.auth import supabase
    supabase._jwks_clients.clear()
    jwks.keys.clear()
    app = create_app(_test_config(db_url, tmp_path, SUPABASE_URL=jwks.url), instance_path=str(tmp_path / "instance"))
    app.test_client_class = FreshContextClient
    with app.app_context():
        yield app


@pytest.mark.parametrize("app_config", [{}])
def test_es256_tokens_are_checked_against_the_projects_jwks(app, jwks, es256_app, monkeypatch):
    from webapp.auth import supabase
    monkeypatch.setattr(supabase, "JWKS_REFETCH_COOLDOWN", 0)  # rotate now rather than in 30 s
    issuer = f"{jwks.url}/auth/v1"
    first = jwks.publish("key-1")
    api = es256_app.test_client()

    def call(key, kid, **claims):
        token = access_token(key=key, algorithm="ES256", headers={"kid": kid}, **{"iss": issuer, **claims})
        return api.get("/api/livekit/recordings?type=meet", headers=bearer(token))

    assert call(first, "key-1").status_code == 200
    assert call(first, "key-1").status_code == 200
    fetches = jwks.fetches
    assert fetches >= 1

    rotated = jwks.publish("key-2")  # the project rotates its key: an unknown kid fetches the set again
    assert call(rotated, "key-2").status_code == 200
    assert jwks.fetches == fetches + 1

    assert_json_error(call(ec.generate_private_key(ec.SECP256R1()), "key-1"), 401, "invalid_token")  # wrong key
    assert_json_error(call(first, "key-unknown"), 401, "invalid_token")
    assert_json_error(call(first, "key-1", iss="https://another-project.supabase.co/auth/v1"), 401, "invalid_token")
    assert_json_error(call(first, "key-1", exp=int(time.time()) - 120), 401, "invalid_token")
    hs256 = api.get("/api/livekit/recordings?type=meet", headers=bearer(access_token(iss=issuer)))
    assert_json_error(hs256, 401, "invalid_token")  # no JWT secret configured: HS256 is not accepted


@pytest.mark.parametrize("app_config", [{"SUPABASE_URL": "http://127.0.0.1:9"}])  # nothing listens there
def test_unreachable_signing_keys_are_503_not_401(app, api):
    from webapp.auth import supabase
    supabase._jwks_clients.clear()
    token = access_token(key=ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers={"kid": "k"})
    assert_json_error(api.get("/api/livekit/recordings?type=meet", headers=bearer(token)), 503, "auth_unreachable")


# --- the dashboard on another origin ---------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{**SUPABASE_CONFIG, "API_CORS_ORIGINS": ["https://app.example.com"]}])
def test_the_dashboards_origin_may_call_the_api_with_a_bearer_token_and_no_other(app, api):
    member = make_user("member@example.com")
    make_recording(owner=member)
    preflight = api.options("/api/share-links", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert {"authorization", "content-type"} <= {h.strip().lower() for h in
                                                  preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert "Access-Control-Allow-Credentials" not in preflight.headers  # bearer tokens only, never cookies

    listed = api.get("/api/livekit/recordings?type=meet",
                     headers={"Origin": "https://app.example.com", **bearer(access_token())})
    assert listed.status_code == 200 and listed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"

    other = api.options("/api/share-links", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Access-Control-Allow-Origin" not in api.get("/login", headers={"Origin": "https://app.example.com"}).headers


@pytest.mark.parametrize("origins", [["*"], ["https://app.example.com/path"], ["app.example.com"]])
def test_api_cors_origins_must_be_origins(origins, tmp_path):
    from webapp import create_app
    from tests.conftest import _test_config
    with pytest.raises(RuntimeError, match="API_CORS_ORIGINS"):
        create_app(_test_config("sqlite://", tmp_path, API_CORS_ORIGINS=origins), instance_path=str(tmp_path))
