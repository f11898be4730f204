"""GET /api/livekit/recordings: newest first, cursor pages, the item shape, a constant number of queries."""
import base64
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import event

from tests.assertions import assert_json_error
from tests.factories import make_recording, make_user
from webapp.extensions import db

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)
ITEM_KEYS = {"id", "type", "title", "product", "owner", "created_at", "duration_seconds", "size_bytes", "links"}



def cursor_of(payload):
    """A cursor the way the API encodes one, around any JSON payload (to forge bad ones)."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def ids(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["recordings"]]


def test_items_carry_every_field(app, login, media_dir):
    owner = make_user("owner@example.com")
    meet = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Quarterly review",
                          duration_seconds=20.02, created_at=NOW)

    response = login(owner).get("/api/livekit/recordings?type=meet")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"recordings", "next_cursor"}
    [item] = body["recordings"]
    assert ITEM_KEYS <= set(item)  # other features (clips) may add their own fields
    assert {key: item[key] for key in ITEM_KEYS} == {
        "id": meet.id, "type": "meet", "title": "Quarterly review", "product": "m10", "owner": "owner@example.com",
        "created_at": "2024-03-15T12:00:00+00:00", "duration_seconds": 20.02,
        "size_bytes": (media_dir / "sample.mp4").stat().st_size,
        "links": {"download": f"/api/livekit/recordings/download?type=meet&id={meet.id}",
                  "play": f"/api/livekit/recordings/play?type=meet&id={meet.id}",
                  "timeline": f"/api/livekit/recordings/timeline?type=meet&id={meet.id}",
                  "owner": f"/api/livekit/recordings/owner?type=meet&id={meet.id}"},
    }
    assert body["next_cursor"] is None


def test_voice_items_for_a_super_admin(app, login):
    admin = make_user(super_admin=True)
    call = make_recording("voice", owner=None, title="", created_at=NOW, size_bytes=1234)

    [item] = login(admin).get("/api/livekit/recordings?type=voice").get_json()["recordings"]

    assert item["type"] == "voice" and item["id"] == call.id
    assert item["owner"] is None
    assert item["title"] == f"Voice call {call.id}"  # an empty title falls back to a name
    assert item["size_bytes"] == 1234
    assert item["links"]["play"] == f"/api/livekit/recordings/play?type=voice&id={call.id}"


def test_pages_are_newest_first_without_overlap(app, login):
    owner = make_user()
    # Two rows share a timestamp: the id breaks the tie, so a page boundary there loses nothing.
    times = [NOW - timedelta(hours=3), NOW, NOW - timedelta(hours=1), NOW - timedelta(hours=1),
             NOW - timedelta(days=2)]
    rows = [make_recording(owner=owner, title=f"Meeting {i}", created_at=at) for i, at in enumerate(times)]
    newest_first = [r.id for r in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)]
    client = login(owner)

    pages, cursor = [], None
    for _ in range(4):
        url = "/api/livekit/recordings?type=meet&limit=2" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        pages.append(ids(response))
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    assert cursor is None
    assert [i for page in pages for i in page] == newest_first
    assert len(set(newest_first)) == 5


def test_a_full_last_page_has_no_next_cursor(app, login):
    owner = make_user()
    for i in range(4):
        make_recording(owner=owner, created_at=NOW - timedelta(minutes=i))
    client = login(owner)

    first = client.get("/api/livekit/recordings?type=meet&limit=2").get_json()
    second = client.get(f"/api/livekit/recordings?type=meet&limit=2&cursor={first['next_cursor']}").get_json()

    assert first["next_cursor"] and len(second["recordings"]) == 2
    assert second["next_cursor"] is None


def test_the_default_page_is_50(app, login):
    owner = make_user()
    for i in range(51):
        make_recording(owner=owner, created_at=NOW - timedelta(minutes=i))

    body = login(owner).get("/api/livekit/recordings?type=meet").get_json()

    assert len(body["recordings"]) == 50
    assert body["next_cursor"] is not None


def test_a_page_costs_the_same_number_of_queries_for_10_and_50_rows(app, login):
    admin = make_user(super_admin=True)
    owners = [make_user() for _ in range(5)]
    for i in range(50):  # many owners: loading each owner lazily would show up as more queries
        make_recording(owner=owners[i % 5], created_at=NOW - timedelta(minutes=i))
    client = login(admin)
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        statements.clear()
        small = client.get("/api/livekit/recordings?type=meet&limit=10")
        small_count = len(statements)
        statements.clear()
        large = client.get("/api/livekit/recordings?type=meet&limit=50")
        large_count = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    assert len(ids(small)) == 10 and len(ids(large)) == 50
    assert all(item["owner"] for item in large.get_json()["recordings"])
    assert small_count == large_count
    assert 1 <= large_count <= 3, statements


BAD_LIMITS = ["0", "101", "x", "-1", "1.5", "%C2%B2", "9" * 5000, "1e2", "%20"]  # %C2%B2 is "²"


def test_a_bad_limit_is_400(app, login, subtests):
    client = login(make_user())

    for limit in BAD_LIMITS:
        with subtests.test(limit[:10]):
            assert_json_error(client.get(f"/api/livekit/recordings?type=meet&limit={limit}"), 400, "invalid_limit")


BAD_CURSORS = [  # (what it is, the cursor)
    ("garbage", "garbage"),
    ("not base64 at all", "%25%25%25"),
    ("non-ASCII", "%C3%A9t%C3%A9"),
    ("base64 of text", base64.urlsafe_b64encode(b"hello").decode()),
    ("base64 of bytes", base64.urlsafe_b64encode(b"\xff\xfe\x00").decode()),
    ("a JSON object", cursor_of({"a": 1, "b": 2})),
    ("a JSON number", cursor_of(7)),
    ("three items", cursor_of(["2024-03-15T12:00:00+00:00", 1, 2])),
    ("not a date", cursor_of(["yesterday", 1])),
    ("a naive date", cursor_of(["2024-03-15T12:00:00", 1])),
    ("a string id", cursor_of(["2024-03-15T12:00:00+00:00", "1"])),
    ("a boolean id", cursor_of(["2024-03-15T12:00:00+00:00", True])),
    ("a float id", cursor_of(["2024-03-15T12:00:00+00:00", 1.5])),
    ("an id past BIGINT", cursor_of(["2024-03-15T12:00:00+00:00", 10 ** 30])),
    ("a negative id", cursor_of(["2024-03-15T12:00:00+00:00", -5])),
    ("an id past INTEGER", cursor_of(["2024-03-15T12:00:00+00:00", 2**31])),
    ("a date past year 9999 in UTC", cursor_of(["9999-12-31T23:59:59-05:00", 1])),
    ("a date before year 1 in UTC", cursor_of(["0001-01-01T00:00:00+05:00", 1])),
]


def test_a_garbage_cursor_is_400_invalid_cursor(app, login, subtests):
    owner = make_user()
    make_recording(owner=owner)
    client = login(owner)

    for what, cursor in BAD_CURSORS:
        with subtests.test(what):
            response = client.get(f"/api/livekit/recordings?type=meet&cursor={cursor}")
            assert_json_error(response, 400, "invalid_cursor")


def test_a_cursor_from_another_zone_means_the_same_instant(app, login):
    owner = make_user()
    older = make_recording(owner=owner, created_at=NOW - timedelta(hours=1))
    newer = make_recording(owner=owner, created_at=NOW)
    same_instant = datetime(2024, 3, 15, 14, 0, tzinfo=timezone(timedelta(hours=2))).isoformat()

    response = login(owner).get(f"/api/livekit/recordings?type=meet&cursor={cursor_of([same_instant, newer.id])}")

    assert ids(response) == [older.id]
