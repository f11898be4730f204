"""Logging in and out, CSRF, the login rate limit, cookies, password hashing and `flask users create`."""
import re
import uuid
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
from redis import Redis
from flask import jsonify
from flask_login import login_required
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from webapp import create_app
from webapp.auth import service
from webapp.auth.models import User
from webapp.config import DEFAULT_PASSWORD_HASH
from webapp.extensions import db

from tests.assertions import assert_json_error
from tests.conftest import PASSWORD, TEST_REDIS_URL, Client
from tests.factories import make_user

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def post_login(client, email, password, **extra):
    """POST the login form the way the browser does, with the page's hidden csrf_token."""
    return client.flask.post("/login", data={"email": email, "password": password,
                                             "csrf_token": client.csrf_token, **extra})


def session_user_id(client):
    with client.flask.session_transaction() as session:
        return session.get("_user_id")


def set_cookie(response, name):
    """The Set-Cookie header for that cookie, as a Morsel."""
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            return cookie[name], header
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.getlist('Set-Cookie')}")


def assert_login_redirect(response, next_path):
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("", "", "/login")
    assert parse_qs(location.query) == {"next": [next_path]}


# --- the login page ---------------------------------------------------------------------

def test_login_page_has_labelled_fields_and_a_log_in_button(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert re.search(r'<label for="email">Email</label>', html)
    assert re.search(r'<input id="email" name="email" type="email"[^>]*required', html)
    assert re.search(r'<label for="password">Password</label>', html)
    assert re.search(r'<input id="password" name="password" type="password"[^>]*required', html)
    assert re.search(r'<button type="submit"[^>]*>Log in</button>', html)
    assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', html)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_login_sends_to_recordings_and_the_session_works(app, client):
    user = make_user(email="ada@example.com")
    response = post_login(client, "ada@example.com", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/recordings"
    assert session_user_id(client) == user.get_id()

    page = client.get("/recordings")
    assert page.status_code == 200
    assert "ada@example.com" in page.get_data(as_text=True)
    api = client.get("/api/livekit/recordings?type=meet")
    assert api.status_code == 200
    assert api.get_json() == {"recordings": [], "next_cursor": None}


def test_login_email_is_case_and_space_insensitive(app, client):
    make_user(email="ada@example.com")
    response = post_login(client, "  ADA@Example.com ", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/recordings"


def test_wrong_password_answers_401_and_makes_no_session(app, client):
    make_user(email="ada@example.com")
    response = post_login(client, "ada@example.com", "not the password")
    assert response.status_code == 401
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Wrong email or password." in html
    assert 'value="ada@example.com"' in html  # the form keeps what was typed, never the password
    assert "not the password" not in html
    assert session_user_id(client) is None
    assert client.get("/recordings").status_code == 302
    assert client.get("/api/livekit/recordings").status_code == 401


def test_unknown_email_answers_exactly_like_a_wrong_password(app, client):
    make_user(email="ada@example.com")
    wrong_password = post_login(client, "ada@example.com", "not the password")
    unknown_email = post_login(client, "nobody@example.com", "not the password")
    assert unknown_email.status_code == wrong_password.status_code == 401
    assert (unknown_email.get_data(as_text=True).replace("nobody@example.com", "EMAIL")
            == wrong_password.get_data(as_text=True).replace("ada@example.com", "EMAIL"))
    assert session_user_id(client) is None


@pytest.mark.parametrize("email, password", [("", ""), ("ada@example.com", ""), ("", PASSWORD)])
def test_empty_fields_do_not_log_in(app, client, email, password):
    make_user(email="ada@example.com")
    response = post_login(client, email, password)
    assert response.status_code == 401
    assert session_user_id(client) is None


def test_logout_with_csrf_ends_the_session(app, login):
    client = login(make_user())
    assert client.get("/recordings").status_code == 200

    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert session_user_id(client) is None
    assert_login_redirect(client.get("/recordings"), "/recordings")
    assert client.get("/api/livekit/recordings").status_code == 401


def test_logout_without_csrf_is_refused_and_keeps_the_session(app, login):
    user = make_user()
    client = login(user)
    response = client.flask.post("/logout")
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert session_user_id(client) == user.get_id()


def test_logout_form_is_on_every_logged_in_page(app, login):
    html = login(make_user()).get("/recordings").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/logout">\s*<input type="hidden" name="csrf_token" '
                     r'value="[^"]+">\s*<button[^>]*>Log out</button>', html)


# --- CSRF -------------------------------------------------------------------------------

def test_login_post_without_csrf_token_is_400(app, client):
    make_user(email="ada@example.com")
    response = client.flask.post("/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The CSRF token is missing." in response.get_data(as_text=True)
    assert session_user_id(client) is None


def test_login_post_with_a_forged_csrf_token_is_400(app, client):
    make_user(email="ada@example.com")
    response = client.flask.post("/login", data={"email": "ada@example.com", "password": PASSWORD,
                                                 "csrf_token": "forged"})
    assert response.status_code == 400
    assert "The CSRF token is invalid." in response.get_data(as_text=True)
    assert session_user_id(client) is None


@pytest.fixture
def api_post_url(app):
    """A POST endpoint under /api/ behind the real CSRF check and login (added before any request)."""
    @login_required
    def echo():
        return jsonify({"received": True})

    app.add_url_rule("/api/test-only/echo", "test_only_echo", echo, methods=["POST"])
    return "/api/test-only/echo"


def test_api_post_without_csrf_header_is_400_json(app, api_post_url):
    client = Client(app).login(make_user().email)
    response = client.flask.post(api_post_url, json={})
    assert_json_error(response, 400, "csrf_failed")
    assert response.get_json()["error"]["message"] == "The CSRF token is missing."

    forged = client.flask.post(api_post_url, json={}, headers={"X-CSRFToken": "forged"})
    assert_json_error(forged, 400, "csrf_failed")

    accepted = client.post(api_post_url, json={})  # the page's token in X-CSRFToken
    assert accepted.status_code == 200
    assert accepted.get_json() == {"received": True}


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/livekit/recordings/clips"),
    ("POST", "/api/livekit/recordings/clips/0123456789abcdef0123456789abcdef/complete"),
    ("DELETE", "/api/livekit/recordings/clips/0123456789abcdef0123456789abcdef"),
    ("POST", "/api/share-links"),
    ("DELETE", "/api/share-links/1"),
])
def test_every_unsafe_api_route_needs_the_csrf_header(app, login, method, path):
    client = login(make_user(super_admin=True))
    response = client.flask.open(path, method=method, json={"type": "meet", "id": 1})
    assert_json_error(response, 400, "csrf_failed")
    assert response.get_json()["error"]["message"] == "The CSRF token is missing."


def test_csrf_token_of_another_session_is_refused(app, api_post_url):
    user = make_user()
    first, second = Client(app).login(user.email), Client(app).login(user.email)
    response = first.flask.post(api_post_url, json={}, headers={"X-CSRFToken": second.csrf_token})
    assert_json_error(response, 400, "csrf_failed")


@pytest.mark.parametrize("logged_in, method, path, status", [
    (False, "GET", "/login", 200),
    (False, "POST", "/login", 401),  # the form again after a failed login
    (False, "GET", "/no-such-page", 404),
    (True, "GET", "/recordings", 200),
    (True, "GET", "/no-such-page", 404),
])
def test_every_html_page_carries_the_csrf_meta_tag(app, client, login, logged_in, method, path, status):
    if logged_in:
        client = login(make_user())
    if method == "POST":
        response = post_login(client, "nobody@example.com", "wrong password")
    else:
        response = client.get(path)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    match = META_CSRF.search(response.get_data(as_text=True))
    assert match, f"no <meta name=\"csrf-token\"> on {method} {path}"
    # It is the token this session's unsafe requests need: a form post with it gets past CSRF (401, not 400).
    checked = client.flask.post("/login", data={"email": "x@example.com", "password": "wrong password",
                                                "csrf_token": match.group(1)})
    assert checked.status_code == 401


# --- the rate limit ---------------------------------------------------------------------

def test_repeated_failed_logins_are_rate_limited(app, client):
    make_user(email="ada@example.com")
    for attempt in range(10):
        response = post_login(client, "ada@example.com", f"guess {attempt}")
        assert response.status_code == 401, f"attempt {attempt + 1}"

    limited = post_login(client, "ada@example.com", "guess 11")
    assert limited.status_code == 429
    assert limited.mimetype == "text/html"
    assert "Too many attempts. Wait a minute and try again." in limited.get_data(as_text=True)

    # The right password does not get through while the limit holds: that is what stops guessing.
    still_limited = post_login(client, "ada@example.com", PASSWORD)
    assert still_limited.status_code == 429
    assert session_user_id(client) is None


@pytest.mark.skipif(not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set")
@pytest.mark.parametrize("app_config", [{"RATELIMIT_STORAGE_URI": TEST_REDIS_URL,
                                         "RATELIMIT_KEY_PREFIX": f"reclip-test-{uuid.uuid4().hex}"}])
def test_with_redis_the_limit_is_shared_by_every_web_process(app, client):
    make_user(email="ada@example.com")
    for attempt in range(10):
        assert post_login(client, "ada@example.com", f"guess {attempt}").status_code == 401
    # A second app (another gunicorn worker or machine) sees the same count in Redis.
    other_worker = create_app(dict(app.config), instance_path=app.instance_path)
    with other_worker.app_context():
        response = post_login(Client(other_worker), "ada@example.com", "guess 11")
    assert response.status_code == 429
    redis = Redis.from_url(TEST_REDIS_URL)
    keys = redis.keys(f"*{app.config['RATELIMIT_KEY_PREFIX']}*")
    assert keys
    redis.delete(*keys)


def test_rate_limit_does_not_apply_to_showing_the_login_page(app, client):
    for _ in range(15):
        assert client.get("/login").status_code == 200


def test_successful_logins_are_not_counted(app, client):
    make_user(email="ada@example.com")
    for attempt in range(9):
        assert post_login(client, "ada@example.com", f"guess {attempt}").status_code == 401
    for _ in range(5):
        fresh = Client(app)
        assert post_login(fresh, "ada@example.com", PASSWORD).status_code == 302
    assert post_login(client, "ada@example.com", "guess 10").status_code == 401  # the 10th failure
    assert post_login(client, "ada@example.com", "guess 11").status_code == 429


# --- where a login goes next --------------------------------------------------------------

def test_page_without_session_redirects_to_login_with_next(client):
    assert_login_redirect(client.get("/recordings?type=voice"), "/recordings?type=voice")


def test_login_follows_a_same_site_next(app, client):
    make_user(email="ada@example.com")
    page = client.get("/login?next=/recordings%3Ftype%3Dvoice")
    assert 'name="next" value="/recordings?type=voice"' in page.get_data(as_text=True)
    response = post_login(client, "ada@example.com", PASSWORD, next="/recordings?type=voice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/recordings?type=voice"


@pytest.mark.parametrize("target", [
    "https://evil.example", "https://evil.example/recordings", "//evil.example/recordings",
    "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "evil.example", "http:evil.example",
])
def test_login_never_redirects_to_another_site(app, client, target):
    make_user(email="ada@example.com")
    response = post_login(client, "ada@example.com", PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/recordings"

    again = client.get("/login", query_string={"next": target})  # logged in already
    assert again.status_code == 302
    assert again.headers["Location"] == "/recordings"


# --- cookies ----------------------------------------------------------------------------

def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    make_user(email="ada@example.com")
    response = post_login(client, "ada@example.com", PASSWORD)
    assert response.status_code == 302
    morsel, header = set_cookie(response, app.config["SESSION_COOKIE_NAME"])
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert not morsel["secure"], header  # plain http here: a Secure cookie would never come back


class TestBehindHttps:
    @pytest.fixture
    def app_config(self):
        return {"PUBLIC_BASE_URL": "https://reclip.example"}

    def test_session_cookie_is_secure_when_the_public_url_is_https(self, app):
        make_user(email="ada@example.com")
        client, base = app.test_client(), "https://reclip.example"
        token = META_CSRF.search(client.get("/login", base_url=base).get_data(as_text=True)).group(1)
        # Over https Flask-WTF also wants a same-origin Referer, which browsers send with the form.
        response = client.post("/login", base_url=base, headers={"Referer": f"{base}/login"},
                               data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        morsel, header = set_cookie(response, app.config["SESSION_COOKIE_NAME"])
        assert morsel["secure"] is True, header
        assert morsel["httponly"] is True
        assert morsel["samesite"] == "Lax"


# --- password hashing -------------------------------------------------------------------

def test_default_password_hash_is_scrypt_n_2_17_r_8_p_1(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"},
                     instance_path=str(tmp_path / "instance"))
    assert app.config["PASSWORD_HASH_METHOD"] == DEFAULT_PASSWORD_HASH
    with app.app_context():
        hashed = service.hash_password("correct horse battery")  # one hash: it is slow on purpose
    assert hashed.startswith("scrypt:131072:8:1$")
    assert check_password_hash(hashed, "correct horse battery")


def test_stored_password_is_a_hash(app):
    user = service.create_user("ada@example.com", "long enough password")
    assert "long enough password" not in user.password_hash
    assert user.password_hash.startswith("scrypt:")
    assert service.authenticate("ada@example.com", "long enough password") == user
    assert service.authenticate("ada@example.com", "wrong") is None


# --- API and pages without a session -------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/livekit/recordings", "/api/livekit/recordings?type=voice",
                                  "/api/livekit/recordings/download?type=meet&id=1",
                                  "/api/livekit/recordings/play?type=meet&id=1"])
def test_api_without_session_is_401_json(client, path):
    response = client.get(path)
    assert_json_error(response, 401, "unauthorized")
    assert response.get_json()["error"]["message"] == "Log in first."
    assert "Location" not in response.headers


def test_pages_without_session_redirect_to_login(client):
    assert_login_redirect(client.get("/recordings"), "/recordings")
    root = client.get("/")
    assert root.status_code == 302
    assert root.headers["Location"] == "/recordings"


# --- flask users create ----------------------------------------------------------------

def users_named(email):
    return db.session.scalars(select(User).where(func.lower(User.email) == email)).all()


def test_users_create_makes_a_member(app, runner):
    result = runner.invoke(args=["users", "create", "Ada@Example.com", "--password", "long enough password"])
    assert result.exit_code == 0, result.output
    [user] = users_named("ada@example.com")
    assert result.output.strip() == f"Created member ada@example.com (id {user.id})"
    assert user.email == "ada@example.com"
    assert user.is_super_admin is False
    assert service.authenticate("ada@example.com", "long enough password") == user


def test_users_create_makes_a_super_admin(app, runner):
    result = runner.invoke(args=["users", "create", "root@example.com", "--password", "long enough password",
                                 "--super-admin"])
    assert result.exit_code == 0, result.output
    [user] = users_named("root@example.com")
    assert result.output.strip() == f"Created super admin root@example.com (id {user.id})"
    assert user.is_super_admin is True


def test_users_create_refuses_a_duplicate(app, runner):
    make_user(email="ada@example.com")
    result = runner.invoke(args=["users", "create", "ADA@example.com", "--password", "another password"])
    assert result.exit_code == 1
    assert "Error: A user with the email ada@example.com exists already." in result.output
    assert len(users_named("ada@example.com")) == 1


def test_users_create_refuses_a_short_password(app, runner):
    result = runner.invoke(args=["users", "create", "ada@example.com", "--password", "short"])
    assert result.exit_code == 1
    assert "Error: The password needs at least 8 characters." in result.output
    assert users_named("ada@example.com") == []


@pytest.mark.parametrize("email", ["not-an-email", "@example.com", "ada@"])
def test_users_create_refuses_a_bad_email(app, runner, email):
    result = runner.invoke(args=["users", "create", email, "--password", "long enough password"])
    assert result.exit_code == 1
    assert "Error: Give a valid email address." in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_users_create_needs_a_password(app, runner):
    result = runner.invoke(args=["users", "create", "ada@example.com"])
    assert result.exit_code == 2
    assert "Missing option '--password'" in result.output
    assert users_named("ada@example.com") == []


# --- sessions end for real (security review, finding 8) ----------------------------------

def test_a_cookie_saved_before_logout_is_worthless_after_it(app, login):
    user = make_user()
    client = login(user)
    saved = client.flask.get_cookie(app.config["SESSION_COOKIE_NAME"]).value

    assert client.post("/logout").status_code == 302

    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], saved)
    assert replay.get("/api/livekit/recordings").status_code == 401
    assert replay.get("/recordings").status_code == 302


def test_logout_ends_the_users_other_sessions_too(app, login):
    user = make_user()
    laptop, phone = login(user), login(user)
    assert laptop.post("/logout").status_code == 302
    assert phone.get("/api/livekit/recordings").status_code == 401
    assert login(user).get("/api/livekit/recordings").status_code == 200  # logging in again works


def test_a_new_password_ends_every_session(app, login):
    user = make_user()
    client = login(user)
    service.set_password(user, "a brand new password")
    assert client.get("/api/livekit/recordings").status_code == 401


def test_the_csrf_token_changes_at_login_and_the_old_one_is_refused(app, client):
    user = make_user(email="ada@example.com")
    before = client.csrf_token
    assert post_login(client, "ada@example.com", PASSWORD).status_code == 302
    after = client.refresh_csrf()

    assert after != before
    stale = client.flask.post("/api/share-links", json={"target_type": "meet", "target_id": 1},
                              headers={"X-CSRFToken": before})
    assert stale.status_code == 400 and stale.get_json()["error"]["code"] == "csrf_failed"
    assert session_user_id(client) == user.get_id()


# --- one count for every process (security review, finding 9) ------------------------------

def _login_attempt(server, session, email, password):
    token = META_CSRF.search(session.get(f"{server.url}/login", timeout=10).text).group(1)
    return session.post(f"{server.url}/login", data={"email": email, "password": password, "csrf_token": token},
                        allow_redirects=False, timeout=30).status_code


@pytest.mark.parametrize("store", ["sqlite", pytest.param("redis", marks=pytest.mark.skipif(
    not TEST_REDIS_URL, reason="TEST_REDIS_URL is not set"))])
def test_failed_logins_are_counted_across_processes(tmp_path, store):
    """Two servers (two processes each, as gunicorn runs them) on one node share the count."""
    import requests
    from tests.app_server import AppServer

    settings = {"REDIS_URL": TEST_REDIS_URL, "JOB_QUEUE_NAME": f"reclip-test-{uuid.uuid4().hex[:8]}"} \
        if store == "redis" else {}
    instance = tmp_path / "instance"
    with AppServer(instance, **settings) as first, AppServer(instance, **settings) as second:
        first.flask("users", "create", "ada@example.com", "--password", PASSWORD)
        statuses = [_login_attempt(server, requests.Session(), "ada@example.com", f"guess {attempt}")
                    for attempt, server in enumerate([first, second] * 5)]
        assert statuses == [401] * 10
        assert _login_attempt(first, requests.Session(), "ada@example.com", "guess 11") == 429
        assert _login_attempt(second, requests.Session(), "ada@example.com", PASSWORD) == 429
    if store == "redis":
        redis = Redis.from_url(TEST_REDIS_URL)
        for key in redis.scan_iter("LIMITS*"):
            redis.delete(key)


@pytest.mark.parametrize("app_config", [{"TRUST_PROXY_HOPS": 1}])
def test_behind_a_trusted_proxy_the_limit_is_per_client_address(app, client):
    make_user(email="ada@example.com")
    for attempt in range(10):
        response = post_login(client, "ada@example.com", f"guess {attempt}",)
        assert response.status_code == 401
    # The same client (as the proxy says) is limited; another client behind the same proxy is not.
    client.flask.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    assert post_login(client, "ada@example.com", "guess 11").status_code == 401
    client.flask.environ_base["HTTP_X_FORWARDED_FOR"] = "127.0.0.1"
    assert post_login(client, "ada@example.com", "guess 12").status_code == 429


def test_without_a_trusted_proxy_a_forwarded_for_header_changes_nothing(app, client):
    make_user(email="ada@example.com")
    for attempt in range(10):
        client.flask.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{attempt}"
        assert post_login(client, "ada@example.com", f"guess {attempt}").status_code == 401
    client.flask.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.1"
    assert post_login(client, "ada@example.com", "guess 11").status_code == 429
