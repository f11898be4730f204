"""Clip titles and recording search (issue 12, points 4 and 5), over the API and in Chromium."""
import pytest
from playwright.sync_api import expect

from tests.assertions import assert_json_error
from tests.clip_helpers import CLIPS_URL, clip_count, clip_row, create
from tests.conftest import log_in
from tests.factories import make_clip, make_ready_clip, make_recording, make_share_link, make_user
from tests.test_browser_clips import CLIP_TIMEOUT_MS, download_clip, open_editor

LIST = "/api/livekit/recordings"


def titles(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return [recording["title"] for recording in response.get_json()["recordings"]]


# --- clip titles ------------------------------------------------------------------------------

def test_a_clip_is_named_after_its_recording_and_times_unless_given_a_title(app, login, member, standup):
    client = login(member)
    default = create(client, standup, 3, 13).get_json()["clip"]
    named = create(client, standup, 3, 13, title="  The   launch\tdate  ").get_json()["clip"]
    assert default["title"] == "Team standup 0:03–0:13"
    assert named["title"] == "The launch date"  # one line, spaces tidied
    assert clip_row(named["id"]).title == "The launch date"


def test_past_an_hour_the_default_title_counts_hours(app, login, member, media_dir):
    long = make_recording(owner=member, file=media_dir / "sample.mp4", title="All-hands", duration_seconds=7200.0)
    assert create(login(member), long, 3725, 3785).get_json()["clip"]["title"] == "All-hands 1:02:05–1:03:05"


@pytest.mark.parametrize("title, code", [(5, "invalid_title"), (["a"], "invalid_title"), ("x" * 201, "invalid_title")])
def test_a_bad_title_is_400_and_makes_no_clip(app, login, member, standup, title, code):
    assert_json_error(create(login(member), standup, title=title), 400, code)
    assert clip_count() == 0


def test_a_clip_is_renamed_by_its_creator_the_owner_or_a_super_admin(app, login, member, admin, standup):
    by_admin = make_clip(standup, "ready", uploaded=False, user=admin, title="First")
    stranger = make_user("stranger@example.com")
    url = f"{CLIPS_URL}/{by_admin.id}"

    renamed = login(member).patch(url, json={"title": "Renamed by the owner"})  # the recording's owner
    assert renamed.status_code == 200 and renamed.get_json()["clip"]["title"] == "Renamed by the owner"
    assert login(admin).patch(url, json={"title": ""}).get_json()["clip"]["title"] == "Team standup 0:01–0:05"
    assert_json_error(login(stranger).patch(url, json={"title": "Mine"}), 404, "not_found")
    assert_json_error(login(member).patch(url, json={"name": "x"}), 400, "invalid_json")
    assert_json_error(login(member).patch(url, json={"title": 7}), 400, "invalid_title")


def test_a_clips_title_names_its_share_page_and_its_file(app, login, client, member, standup, media_dir):
    clip = make_ready_clip(standup, media_dir / "sample.mp4", member, start=3, seconds=5)
    assert login(member).patch(f"{CLIPS_URL}/{clip.id}", json={"title": "Q3: the “big” plan"}).status_code == 200
    token = make_share_link(member, clip)

    page = client.get(f"/s/{token}").get_data(as_text=True)
    assert '<meta property="og:title" content="Q3: the “big” plan">' in page
    download = client.get(f"/s/{token}/download")
    disposition = client.get(download.headers["Location"].replace("http://localhost", "")).headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Q3. the big plan.mp4"; filename*=UTF-8')


# --- search ---------------------------------------------------------------------------------------

@pytest.fixture
def library(member):
    for title in ("Weekly product sync", "Design review: café menu", "Quarterly planning", "100% done_right"):
        make_recording(owner=member, title=title)
    make_recording(owner=member, title="", room_name="standup-room")  # untitled: its room name is found
    make_recording(owner=make_user("other@example.com"), title="Weekly product sync (not yours)")


@pytest.mark.parametrize("q, expected", [
    ("sync", ["Weekly product sync"]),
    ("WEEKLY Sync", ["Weekly product sync"]),
    ("sync weekly", ["Weekly product sync"]),  # every word, in any order
    ("café", ["Design review: café menu"]),
    ("standup", ["standup-room"]),
    ("100%", ["100% done_right"]),  # % and _ are letters here, not wildcards
    ("e_r", ["100% done_right"]),
    ("nothing-like-this", []),
    ("", None),  # no search: everything
])
def test_the_list_searches_titles(app, login, member, library, q, expected):
    found = titles(login(member).get(LIST, query_string={"type": "meet", "q": q}))
    if expected is None:
        assert len(found) == 5
    else:
        assert found == expected


def test_search_keeps_its_cursor_paging(app, login, member):
    for index in range(5):
        make_recording(owner=member, title=f"Standup {index}")
    make_recording(owner=member, title="Retro")
    client = login(member)
    first = client.get(LIST, query_string={"type": "meet", "q": "standup", "limit": 3}).get_json()
    second = client.get(LIST, query_string={"type": "meet", "q": "standup", "limit": 3,
                                            "cursor": first["next_cursor"]}).get_json()
    assert [r["title"] for r in first["recordings"] + second["recordings"]] == [f"Standup {i}" for i in range(5)]
    assert second["next_cursor"] is None


def test_a_search_of_over_100_characters_is_400(app, login, member):
    assert_json_error(login(member).get(LIST, query_string={"type": "meet", "q": "x" * 101}), 400, "invalid_q")


# --- in the browser -------------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_search_finds_a_recording_and_says_when_nothing_matches(app, live_server, page, member, library):
    log_in(page, live_server, member.email)
    search = page.get_by_role("searchbox", name="Search recordings")
    search.fill("quarterly")
    expect(page.locator(".recording")).to_have_count(1)
    expect(page.get_by_role("heading", name="Quarterly planning")).to_be_visible()
    expect(page.locator("[data-search-count]")).to_have_text("1 recording match “quarterly”")
    search.fill("zebra")
    expect(page.get_by_role("heading", name="No recordings match")).to_be_visible()
    expect(page.get_by_text("Nothing is titled with “zebra”.")).to_be_visible()
    search.fill("")
    expect(page.locator(".recording")).to_have_count(5)
    assert page.console_errors == []


@pytest.mark.browser
@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_a_titled_clip_reaches_the_share_page_and_the_file_name(app, live_server, page, browser, member, media_dir,
                                                                 tmp_path):
    make_recording(owner=member, file=media_dir / "sample.mp4", title="Standup")
    log_in(page, live_server, member.email)
    row = open_editor(page, "Standup")
    expect(row.get_by_label("Clip title")).to_have_attribute("placeholder", "Standup 0:00–0:20")
    row.get_by_label("Start", exact=True).fill("3")
    row.get_by_label("End", exact=True).fill("13")
    expect(row.get_by_label("Clip title")).to_have_attribute("placeholder", "Standup 0:03–0:13")
    row.get_by_label("Clip title").fill("Roadmap decision")
    row.get_by_role("button", name="Generate clip").click()
    expect(row.get_by_text("Clip ready").first).to_be_visible(timeout=CLIP_TIMEOUT_MS)
    expect(row.locator(".clip-title")).to_have_text("Roadmap decision")

    path = download_clip(page, row, tmp_path)
    assert path.name == "Roadmap decision.mp4"
    clip = row.locator(".clip").first
    clip.get_by_role("button", name="Rename").click()
    clip.get_by_label("Clip title").fill("Roadmap, decided")
    clip.get_by_role("button", name="Save").click()
    expect(row.locator(".clip-title")).to_have_text("Roadmap, decided")

    from webapp.clips.models import RecordingClip
    from webapp.extensions import db
    db.session.expire_all()
    token = make_share_link(member, db.session.query(RecordingClip).one())
    stranger = browser.new_context().new_page()
    stranger.goto(f"{live_server.url}/s/{token}")
    assert stranger.locator('meta[property="og:title"]').get_attribute("content") == "Roadmap, decided"
    expect(stranger.get_by_role("heading", name="Roadmap, decided")).to_be_visible()
    stranger.context.close()
