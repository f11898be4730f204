"""Schemathesis fuzzes the JSON API from its own OpenAPI description (/api/openapi.json), in process (WSGI),
logged in as a member: no 5xx, every response as described (status, content type, body), data outside the
schema refused and data inside it accepted, and the links of the description followed statefully
(list recordings -> create a clip -> get it -> complete it -> share it -> revoke the link).

The world it fuzzes holds real objects (the member's recording with a real media file, a ready clip, a clip
waiting for its upload, share links, connected accounts and a failed post), and the seeded ids are mixed into
the generated ones, so the fuzzer reaches the code behind the 404. Example counts are bounded so that the file runs in well under a minute.
"""
import base64
import hashlib
import json
import os
import re
import time
from collections import Counter

import hypothesis
import jwt
from cryptography.fernet import Fernet
import pytest
import schemathesis
from schemathesis.checks import load_all_checks
from schemathesis.core import NotSet
from schemathesis.pytest.lazy import get_all_tests
from sqlalchemy import select

from webapp.extensions import db
from webapp.shares.models import ShareLink
from webapp.social import service as social
from webapp.social.models import Publication, PublicationStatus
from tests.factories import PASSWORD, make_clip, make_ready_clip, make_recording, make_share_link, make_user

USER_AGENT = "Mozilla/5.0 (reclip fuzz)"
CSRF_META = r'<meta name="csrf-token" content="([^"]+)"'
WEBHOOK_KEY, WEBHOOK_SECRET = "APIfuzz", "fuzz-secret-of-at-least-32-characters!!"
JWT_SECRET = "fuzz-supabase-jwt-secret-of-at-least-32-characters"
SEED = int(os.environ.get("FUZZ_SEED", "20261130"))
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
STATEFUL_SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_SCENARIOS", "40"))
SETTINGS = hypothesis.settings(deadline=None, database=None)

# Rules the schema cannot express (end after start, at most CLIP_MAX_SECONDS; a default link never expires;
# target_type needs target_id; an egress_ended event needs a file; a cursor is one the API gave out; creator
# info is TikTok's): data valid to the schema may still be refused there, with a 400 that says why.
CROSS_FIELD_RULES = ("POST /api/livekit/recordings/clips", "POST /api/share-links", "POST /api/social/publications",
                     "GET /api/share-links", "GET /api/social/publications", "POST /api/livekit/webhook",
                     "GET /api/livekit/recordings", "GET /api/social/destinations/{destination_id}/creator-info")


@pytest.fixture
def app_config():
    return {"LIVEKIT_API_KEY": WEBHOOK_KEY, "LIVEKIT_API_SECRET": WEBHOOK_SECRET, "SUPABASE_JWT_SECRET": JWT_SECRET,
            # Posting on: the member has connected accounts (the platforms are never called; jobs are not run).
            "META_APP_ID": "1234", "META_APP_SECRET": "meta-secret", "TIKTOK_CLIENT_KEY": "tt-key",
            "TIKTOK_CLIENT_SECRET": "tt-secret", "TOKEN_ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
            # The fuzzer makes clips far faster than a person; the limits have tests of their own.
            "CLIP_RATE_LIMIT": "100000 per minute", "CLIP_PENDING_UPLOADS_MAX": 100000,
            "CLIP_SERVER_JOBS_MAX": 100000}


@pytest.fixture
def world(app, member, media_dir):
    """The member's recording (a real file), its ready clip, a clip awaiting upload, share links; and a
    recording of someone else (404 to the member)."""
    standup = make_recording(owner=member, file=media_dir / "sample.mp4", title="Team standup")
    voice = make_recording("voice", owner=member, file=media_dir / "sample.m4a", title="Call")
    theirs = make_recording(owner=make_user("other@example.com"), file=media_dir / "sample.mp4", title="Theirs")
    ready = make_ready_clip(standup, media_dir / "sample.mp4", user=member)
    pending = make_clip(standup, "awaiting_upload", user=member)
    # What DELETE may take: clips and links of its own (the lowest link ids, which the fuzzer tries most), so
    # that the other objects stay for the other operations.
    disposable_clips = [make_clip(standup, "ready", user=member).id for _ in range(3)]
    for _ in range(3):
        make_share_link(member, standup)
    disposable_links = db.session.scalars(select(ShareLink.id)).all()
    tokens = [make_share_link(member, standup), make_share_link(member, ready)]
    destinations = [*connect(member, "meta", [("facebook", "p1", "Acme Page", "EAAB-page-token"),
                                              ("instagram", "ig1", "@acme", "EAAB-page-token")]).destinations,
                    *connect(member, "tiktok", [("tiktok", "open-1", "acme", None)]).destinations]
    failed_post = Publication(user_id=member.id, target_type="clip", target_id=ready.id,
                              destination_id=destinations[0].id, platform="facebook", destination_name="Acme Page",
                              shape="original", status=PublicationStatus.FAILED, error="The platform said no.")
    db.session.add(failed_post)
    db.session.commit()
    return {"recording_ids": [standup.id, voice.id, theirs.id], "clip_ids": [ready.id, pending.id],
            "link_ids": sorted(set(db.session.scalars(select(ShareLink.id)).all()) - set(disposable_links)),
            "tokens": tokens, "disposable_clip_ids": disposable_clips, "disposable_link_ids": disposable_links,
            "destination_ids": [destination.id for destination in destinations], "publication_ids": [failed_post.id]}


def connect(user, provider, destinations):
    """A connected account with these (platform, id, name, token) destinations, as the OAuth callback saves it."""
    return social.save_connection(user, provider, external_user_id=f"{provider}-user", display_name="Acme",
                                  token={"access_token": "user-token", "refresh_token": "refresh-token",
                                         "expires_in": 3600}, destinations=destinations)


@pytest.fixture
def member_session(app, member):
    """Call kwargs of a member logged in through the login form: the session cookie, the page's CSRF token, and
    the browser's User-Agent (the session is bound to it: session protection is strong)."""
    browser = app.test_client()
    browser.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    token = re.search(CSRF_META, browser.get("/login").get_data(as_text=True)).group(1)
    response = browser.post("/login", data={"email": member.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    token = re.search(CSRF_META, browser.get("/recordings").get_data(as_text=True)).group(1)
    return {"cookies": {"session": browser.get_cookie("session").value},
            "headers": {"X-CSRFToken": token, "User-Agent": USER_AGENT}}


def fuzz_config(world):
    """Bounded, reproducible (FUZZ_SEED), with the seeded ids mixed into the generated ones."""
    expected_400 = {"positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "400", "401", "403", "404",
                                                                        "409", "410", "422", "429"]}}
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "dictionaries": {name: {"values": values} for name, values in world.items()},
        "parameters": {
            "query.id": {"dictionary": "recording_ids", "probability": 0.5},
            "body.id": {"dictionary": "recording_ids", "probability": 0.5},
            "path.clip_id": {"dictionary": "clip_ids", "probability": 0.5},
            "path.link_id": {"dictionary": "link_ids", "probability": 0.5},
            "path.token": {"dictionary": "tokens", "probability": 0.5},
            "path.destination_id": {"dictionary": "destination_ids", "probability": 0.5},
            "body.destination_id": {"dictionary": "destination_ids", "probability": 0.5},
            "path.publication_id": {"dictionary": "publication_ids", "probability": 0.5},
        },
        # No NUL characters: the API refuses them anywhere (400, the description says so), which
        # test_a_nul_character_anywhere_is_a_400 checks on every operation; generated, they would only make
        # the positive cases negative.
        "generation": {"max-examples": MAX_EXAMPLES, "with-security-parameters": False, "database": "none",
                       "allow-x00": False},
        "checks": {
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
            "negative_data_rejection": {"enabled": True, "expected-statuses": [
                "400", "401", "403", "404", "405", "409", "413", "415", "422", "429"]},
            "positive_data_acceptance": {"enabled": True, "expected-statuses": [
                "2xx", "3xx", "401", "403", "404", "409", "410", "422", "429"]},
            # It drops the credentials it generated, but the session is sent by the test itself: the authorization
            # matrix (tests/test_authz_matrix.py) is where anonymous calls are checked.
            "ignored_auth": {"enabled": False},
        },
        # Only the description's own links: inferred ones guess wrong here (a clip's id as a recording's).
        "phases": {"stateful": {"max-steps": 8, "inference": {"algorithms": []}}},
        "operations": [
            *({"include-name": name, "checks": {
                **expected_400,
                # LiveKit's events carry many fields Reclip ignores; it takes what it can use and skips the rest.
                **({"negative_data_rejection": {"enabled": False}} if name == "POST /api/livekit/webhook" else {})}}
              for name in CROSS_FIELD_RULES),
            {"include-name": "DELETE /api/livekit/recordings/clips/{clip_id}",
             "parameters": {"path.clip_id": {"dictionary": "disposable_clip_ids", "probability": 0.5}}},
            {"include-name": "DELETE /api/share-links/{link_id}",
             "parameters": {"path.link_id": {"dictionary": "disposable_link_ids", "probability": 0.5}}},
        ],
    })


class FreshContextApp:
    """The app as WSGI as a server runs it: each request in an app context of its own (the test keeps one open
    for factories, whose `g` Flask would share) and from an address (the session is bound to it)."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        with self.app.app_context():
            response = self.app.wsgi_app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                getattr(response, "close", lambda: None)()


@pytest.fixture
def fuzz_schema(app, world):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", FreshContextApp(app), config=fuzz_config(world))


def signed_webhook(case):
    """The body as bytes and a LiveKit token over its hash: the fuzzer gets past the signature."""
    if isinstance(case.body, (bytes, str)):  # negative cases: raw text, not JSON
        body = case.body.encode() if isinstance(case.body, str) else case.body
    else:
        body = b"" if isinstance(case.body, NotSet) else json.dumps(case.body).encode()
    now = int(time.time())
    token = jwt.encode({"iss": WEBHOOK_KEY, "nbf": now - 5, "exp": now + 600,
                        "sha256": base64.b64encode(hashlib.sha256(body).digest()).decode()},
                       WEBHOOK_SECRET, algorithm="HS256")
    return body, {"Authorization": f"Bearer {token}"}


def run_operations(schema, call):
    """Every operation's Hypothesis test (examples, coverage and fuzzing phases), as schemathesis' pytest plugin
    builds them; {operation: failure} for those that failed. (The plugin's own runner, `from_fixture`, sets
    pytest's private `_nodeid`, which pytest 9.2 no longer has.)"""
    load_all_checks()

    def test(case):
        call(case)

    failures = {}
    bound = schema.clone(test_function=test)
    for result in get_all_tests(schema=bound, test_func=test, settings=SETTINGS, given_kwargs={}):
        operation, hypothesis_test = result.ok()
        try:
            hypothesis_test()
        except (Exception, BaseExceptionGroup) as exc:  # the checks that failed (a FailureGroup), or an error
            failures[operation.label] = exc
    return failures


def test_every_operation(fuzz_schema, member_session, world):
    seen = Counter()

    def call(case):
        if case.operation.path == "/api/livekit/webhook":
            body, headers = signed_webhook(case)
            response = case.call(headers=headers, data=body)
            case.validate_response(response, headers=headers, transport_kwargs={"data": body})
            if response.status_code == 200 and case.method == "POST":
                seen["webhook: " + response.json()["status"], 200] += 1
        else:
            response = case.call(**member_session)
            case.validate_response(response, headers=member_session["headers"], transport_kwargs=member_session)
        if case.method.upper() == case.operation.method.upper():  # not one of the unexpected-method probes
            seen[case.operation.label, response.status_code] += 1

    failures = run_operations(fuzz_schema, call)
    if os.environ.get("FUZZ_REPORT"):
        for (label, status), count in sorted(seen.items()):
            print(f"{label:60} {status} x{count}")
    assert not failures, "\n\n".join(f"{label}:\n{exc}" for label, exc in failures.items())
    # It fuzzed as the member (a session lost midway would make every answer a 401, and pass) and reached the
    # seeded objects, not only the 400s and 404s around them.
    assert not [label for label, status in seen
                if status == 401 and label not in ("POST /api/livekit/webhook", "POST /auth/supabase")]
    reached = {label for label, status in seen if status < 400}
    assert {"GET /api/livekit/recordings", "GET /api/livekit/recordings/download",
            "GET /api/livekit/recordings/clips/{clip_id}", "GET /api/livekit/recordings/clips/{clip_id}/download",
            "POST /api/livekit/recordings/clips", "POST /api/share-links", "DELETE /api/share-links/{link_id}",
            "GET /s/{token}/media", "POST /api/livekit/webhook", "webhook: registered", "POST /api/social/publications",
            "POST /api/social/publications/{publication_id}/retry"} <= reached


def supabase_token(email):
    """The dashboard's Supabase access token for this email (as tests/test_supabase_auth.py mints them)."""
    now = int(time.time())
    return jwt.encode({"aud": "authenticated", "exp": now + 3600, "iat": now, "sub": "5f0c3a52-fuzz", "email": email,
                       "role": "authenticated"}, JWT_SECRET, algorithm="HS256")


def test_linked_operations(fuzz_schema, member, world):
    """Scenarios along the description's links, as the dashboard calls the API (a bearer token): list -> create a
    clip -> get, complete, rename, share it -> list and revoke the link; each response checked as above."""
    bearer = {"Authorization": f"Bearer {supabase_token(member.email)}"}
    steps = Counter()

    class Scenarios(fuzz_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            if case.operation.path == "/api/livekit/webhook":
                body, headers = signed_webhook(case)
                return {"headers": headers, "data": body}
            return {"headers": bearer}

        def after_call(self, response, case):
            super().after_call(response, case)
            steps[case.operation.label, response.status_code] += 1

    # The same scenarios every run (FUZZ_SEED set: other ones), like the operations' seed above.
    Scenarios.run(settings=hypothesis.settings(SETTINGS, max_examples=STATEFUL_SCENARIOS, stateful_step_count=8,
                                               derandomize="FUZZ_SEED" not in os.environ))
    if os.environ.get("FUZZ_REPORT"):
        for (label, status), count in sorted(steps.items()):
            print(f"{label:60} {status} x{count}")
    reached = {label for label, status in steps if status < 400}
    assert {"POST /api/livekit/recordings/clips", "GET /api/livekit/recordings/clips/{clip_id}",
            "POST /api/share-links", "DELETE /api/share-links/{link_id}"} <= reached
    assert ("POST /api/livekit/recordings/clips/{clip_id}/complete", 422) in steps  # nothing was uploaded


# --- what the fuzzer found, pinned ---------------------------------------------------------------------------

def test_play_refuses_a_format_other_than_json(app, login, member, world):
    client = login(member)
    response = client.get(f"/api/livekit/recordings/play?type=meet&id={world['recording_ids'][0]}&format=null")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_format"


def test_share_links_list_refuses_an_empty_target_type(app, login, member, world):
    client = login(member)
    response = client.get("/api/share-links?target_type=&target_id=")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_target"
    assert client.get("/api/share-links").status_code == 200  # no filter at all: every link


def _operations():
    """(method, path, reads a body) of every operation described."""
    from webapp.openapi import SPEC
    return [(method.upper(), path, "requestBody" in operation) for path, item in SPEC["paths"].items()
            for method, operation in item.items() if method != "parameters"]


def _concrete(path, world):
    return (path.replace("{clip_id}", world["clip_ids"][0]).replace("{link_id}", str(world["link_ids"][0]))
            .replace("{token}", world["tokens"][0]).replace("{destination_id}", "1")
            .replace("{publication_id}", "0" * 32))


@pytest.mark.parametrize("db_backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="TEST_DATABASE_URL is not set"))], indirect=True)
def test_a_nul_character_anywhere_is_a_400(app, login, member, world):
    """PostgreSQL cannot compare or store text with a NUL: it made 500s of q, target_id, a clip's title, the
    webhook's egressId... Every operation refuses one in its query, path or JSON body."""
    client = login(member)
    for method, path, reads_body in _operations():
        url = _concrete(path, world)
        for target, kwargs in (("query", {"query_string": {"q": "a\0b"}}),
                               ("body", {"json": {"title": "a\0b", "target_id": "x\0", "owner": "\0@x.y"}}),
                               ("path", {"path": url.rsplit("/", 1)[0] + "/a%00b" if "{" in path else None})):
            if (target == "path" and kwargs["path"] is None
                    # The webhook checks its signature first (below); the token exchange reads no body but a token.
                    or target == "body" and (not reads_body or path in ("/api/livekit/webhook", "/auth/supabase"))):
                continue
            response = client.flask.open(kwargs.pop("path", url), method=method,
                                         headers={"X-CSRFToken": client.csrf_token}, **kwargs)
            assert response.status_code == 400, (method, path, target, response.status_code)


def _egress(**info):
    return {"event": "egress_ended", "egressInfo": {"egressId": f"EG_{len(str(info))}", "status": "EGRESS_COMPLETE",
                                                    **info}}


@pytest.mark.parametrize("event, status", [
    (_egress(fileResults=5), 400),  # not a list: was a TypeError (500)
    (_egress(fileResults=[{"location": "a.mp4"}], segmentResults=7), 200),  # was a TypeError (500)
    (_egress(fileResults=[{"location": "b.mp4", "duration": "9" * 400, "size": "9" * 30}]), 200),  # OverflowError
    (_egress(fileResults=[{"location": "c.mp4", "size": "99999999999999999999"}]), 200),  # beyond a BIGINT
    (_egress(fileResults=[{"location": "http://[::1/d.mp4"}]), 200),  # urlsplit's ValueError: skipped, said so
    (_egress(egressId="EG\0", fileResults=[{"location": "e.mp4"}]), 400),  # NUL: PostgreSQL's DataError
])
def test_the_webhook_takes_malformed_events_without_a_500(app, event, status):
    body, headers = signed_webhook(type("Case", (), {"body": event})())
    response = app.test_client().post("/api/livekit/webhook", data=body,
                                      headers={**headers, "Content-Type": "application/webhook+json"})
    assert response.status_code == status, response.get_json()


def test_the_webhook_refuses_deeply_nested_json(app):
    body = b"[" * 100_000 + b"]" * 100_000  # json.loads' RecursionError was a 500
    token = signed_webhook(type("Case", (), {"body": body})())[1]
    response = app.test_client().post("/api/livekit/webhook", data=body, headers=token)
    assert response.status_code == 400


def test_an_empty_limit_is_a_400(app, login, member):
    response = login(member).get("/api/livekit/recordings?type=meet&limit=")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_limit"
