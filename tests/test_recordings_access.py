"""Who may list, download and play which recording, down to the bytes and headers, and bad input. The statuses
of every route for every actor and object are in test_authz_matrix.py."""
from urllib.parse import urlsplit

import pytest

from tests.assertions import assert_json_error
from tests.factories import make_recording, make_user

ACTORS = ("anonymous", "member_a", "member_b", "super_admin")
TARGETS = ("a_meet", "b_meet", "voice", "djdash", "missing")

SEE, HIDDEN, NO_SESSION = "see", "hidden", "no session"
# One row per actor, one column per target; the same answer for list, download and play.
# SEE: listed, and download/play redirect to the file. HIDDEN: not listed, 404 like a missing id.
MATRIX = {
    #              A's meet     B's meet     voice call   DJDash meet  missing id
    "anonymous":   (NO_SESSION, NO_SESSION,  NO_SESSION,  NO_SESSION,  NO_SESSION),
    "member_a":    (SEE,        HIDDEN,      HIDDEN,      HIDDEN,      HIDDEN),
    "member_b":    (HIDDEN,     SEE,         HIDDEN,      HIDDEN,      HIDDEN),
    "super_admin": (SEE,        SEE,         SEE,         HIDDEN,      HIDDEN),
}
CELLS = [pytest.param(actor, target, expected, id=f"{actor}-{target}")
         for actor, row in MATRIX.items() for target, expected in zip(TARGETS, row, strict=True)]



@pytest.fixture
def world(app, media_dir):
    """Members A and B, a super admin, and one recording of each kind (DJDash and voice owned by A)."""
    member_a, member_b = make_user("a@example.com"), make_user("b@example.com")
    admin = make_user("admin@example.com", super_admin=True)
    recordings = {
        "a_meet": make_recording(owner=member_a, file=media_dir / "sample.mp4", title="A standup"),
        "b_meet": make_recording(owner=member_b, file=media_dir / "sample.mp4", title="B standup"),
        "voice": make_recording("voice", owner=member_a, file=media_dir / "sample.m4a", title="A call"),
        "djdash": make_recording(owner=member_a, product="djdash", file=media_dir / "sample.mp4", title="DJ set"),
    }
    missing_id = max(r.id for r in recordings.values()) + 1000
    targets = {name: (r.source_type, r.id) for name, r in recordings.items()}
    targets["missing"] = ("meet", missing_id)
    users = {"member_a": member_a, "member_b": member_b, "super_admin": admin}
    return users, targets


@pytest.fixture
def client_for(request, login, world):
    """One client per test: the app fixture's single app context shares `g` between clients."""
    users, _ = world

    def _client_for(actor):
        return request.getfixturevalue("client") if actor == "anonymous" else login(users[actor])
    return _client_for


@pytest.mark.parametrize("actor, target, expected", CELLS)
def test_access(actor, target, expected, world, client_for, media_dir, subtests):
    _, targets = world
    source_type, recording_id = targets[target]
    client = client_for(actor)

    with subtests.test("list"):
        response = client.get(f"/api/livekit/recordings?type={source_type}&limit=100")
        if expected == NO_SESSION:
            assert_json_error(response, 401, "unauthorized")
        else:
            assert response.status_code == 200
            listed = {r["id"] for r in response.get_json()["recordings"]}
            assert (recording_id in listed) is (expected == SEE)

    for operation, disposition in (("download", "attachment"), ("play", "inline")):
        with subtests.test(operation):
            response = client.get(f"/api/livekit/recordings/{operation}?type={source_type}&id={recording_id}")
            if expected == NO_SESSION:
                assert_json_error(response, 401, "unauthorized")
                continue
            if expected == HIDDEN:
                assert_json_error(response, 404, "not_found")
                continue
            assert response.status_code == 302
            assert response.headers["Cache-Control"] == "no-store"
            location = urlsplit(response.headers["Location"])
            assert location.path.startswith("/storage/o/")
            media = client.get(location.path)  # the same client follows the redirect
            assert media.status_code == 200
            assert media.headers["Content-Disposition"].startswith(f"{disposition}; filename=")
            sample = media_dir / ("sample.m4a" if source_type == "voice" else "sample.mp4")
            assert media.get_data() == sample.read_bytes()


def test_the_matrix_covers_every_actor_and_target():
    assert set(MATRIX) == set(ACTORS)
    assert all(len(row) == len(TARGETS) for row in MATRIX.values())


# --- bad input: 400 JSON, never a 500 --------------------------------------------------

BAD_QUERIES = [  # (query string, error code)
    ("id=1", "invalid_type"),                       # type missing
    ("type=video&id=1", "invalid_type"),
    ("type=&id=1", "invalid_type"),
    ("type=MEET&id=1", "invalid_type"),
    ("type=meet", "invalid_id"),                    # id missing
    ("type=meet&id=", "invalid_id"),
    ("type=meet&id=abc", "invalid_id"),
    ("type=meet&id=-1", "invalid_id"),
    ("type=meet&id=0", "invalid_id"),
    ("type=meet&id=1.5", "invalid_id"),
    ("type=meet&id=99999999999999999999999", "invalid_id"),
    ("type=meet&id=9223372036854775808", "invalid_id"),  # 2**63: past BIGINT
    ("type=meet&id=2147483648", "invalid_id"),  # 2**31: past INTEGER (PostgreSQL raised, a 500)
    ("type=meet&id=%C2%B2", "invalid_id"),          # "²" is a digit to str.isdigit
    ("type=meet&id=%20%201", "invalid_id"),
    ("type=meet&id=1e3", "invalid_id"),
]


@pytest.mark.parametrize("operation", ["download", "play"])
def test_bad_input_is_400_json(operation, app, login, subtests):
    client = login(make_user())

    for query, code in BAD_QUERIES:
        with subtests.test(query):
            assert_json_error(client.get(f"/api/livekit/recordings/{operation}?{query}"), 400, code)


@pytest.mark.parametrize("query, code", [("type=video", "invalid_type"), ("type=", "invalid_type"),
                                         ("type=voice%00", "nul_character")])  # refused before any view
def test_list_with_a_bad_type_is_400_json(query, code, app, login):
    response = login(make_user()).get(f"/api/livekit/recordings?{query}")

    assert_json_error(response, 400, code)


def test_list_without_a_type_lists_meet_recordings(app, login):
    member = make_user()
    meet = make_recording(owner=member)

    response = login(member).get("/api/livekit/recordings")

    assert response.status_code == 200
    assert [r["id"] for r in response.get_json()["recordings"]] == [meet.id]
    assert response.get_json()["recordings"][0]["type"] == "meet"
