"""The recordings page in real Chromium: log in, see the rows, download, play, switch, phone width."""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import log_in
from tests.factories import make_recording, make_user

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)]

CREATED = datetime(2024, 3, 15, 12, 0, tzinfo=timezone.utc)
SHOTS = Path("/tmp/shots")


def row(page, title):
    return page.locator("li.recording").filter(has=page.get_by_role("heading", name=title, exact=True))


def size_text(size_bytes):
    """What the page shows for a file of 1 to 10 MB."""
    assert 1_000_000 <= size_bytes < 10_000_000
    return f"{size_bytes / 1_000_000:.1f} MB"


@pytest.fixture
def standup(app, member, media_dir):
    return make_recording(owner=member, file=media_dir / "sample.mp4", title="Team standup", created_at=CREATED,
                          duration_seconds=20.0)


def test_a_row_shows_title_date_duration_and_size(page, live_server, member, standup, media_dir):
    log_in(page, live_server, member.email)
    standup_row = row(page, "Team standup")

    standup_row.wait_for()
    assert standup_row.locator("time").get_attribute("datetime") == "2024-03-15T12:00:00+00:00"
    assert "2024" in standup_row.locator("time").inner_text()
    meta = standup_row.locator(".recording-meta").inner_text()
    assert "0:20" in meta
    assert size_text((media_dir / "sample.mp4").stat().st_size) in meta
    assert standup_row.get_by_role("button", name="Play").is_visible()
    assert standup_row.get_by_role("link", name="Download", exact=True).is_visible()
    assert page.console_errors == []


def test_download_saves_the_file_under_its_title_and_date(page, live_server, member, standup, media_dir, tmp_path):
    log_in(page, live_server, member.email)

    with page.expect_download() as download_info:
        row(page, "Team standup").get_by_role("link", name="Download", exact=True).click()
    download = download_info.value
    saved = tmp_path / "saved.mp4"
    download.save_as(saved)

    assert download.failure() is None
    assert download.suggested_filename == "Team standup-2024-03-15.mp4"
    assert saved.read_bytes() == (media_dir / "sample.mp4").read_bytes()
    assert page.console_errors == []


def test_play_loads_the_video_in_place(page, live_server, member, standup):
    log_in(page, live_server, member.email)
    standup_row = row(page, "Team standup")

    standup_row.get_by_role("button", name="Play").click()
    video = standup_row.locator("video")
    video.wait_for()
    page.wait_for_function(
        "video => video.readyState >= 1 || video.error !== null", arg=video.element_handle(), timeout=15_000)

    error = video.evaluate("video => video.error && video.error.message")
    assert error is None, f"Chromium could not play the H.264/AAC sample: {error}"
    assert video.evaluate("video => video.readyState") >= 1
    assert video.evaluate("video => Math.round(video.duration)") == 20
    assert standup_row.get_by_role("button", name="Close player").is_visible()
    assert not standup_row.locator(".player-error").is_visible()
    assert page.console_errors == []


def test_a_user_without_recordings_sees_the_empty_state(page, live_server, app):
    someone = make_user("nobody@example.com")
    log_in(page, live_server, someone.email)

    empty = page.get_by_role("heading", name="No recordings yet")

    empty.wait_for()
    assert page.locator("li.recording").count() == 0
    assert page.get_by_role("tab", name="Voice").count() == 0  # no Meet / Voice switch for members
    assert page.console_errors == []


def test_a_super_admin_switches_between_meet_and_voice(page, live_server, app, member, standup, media_dir):
    admin = make_user("admin@example.com", super_admin=True)
    make_recording("voice", file=media_dir / "sample.m4a", title="Call with a supplier", created_at=CREATED)
    log_in(page, live_server, admin.email)

    row(page, "Team standup").wait_for()
    assert row(page, "Team standup").locator(".recording-owner").inner_text() == member.email
    assert row(page, "Call with a supplier").count() == 0
    page.get_by_role("tab", name="Voice").click()
    row(page, "Call with a supplier").wait_for()

    assert page.get_by_role("tab", name="Voice").get_attribute("aria-selected") == "true"
    assert row(page, "Team standup").count() == 0
    row(page, "Call with a supplier").get_by_role("button", name="Play").click()
    audio = row(page, "Call with a supplier").locator("audio")
    page.wait_for_function("audio => audio.readyState >= 1 || audio.error !== null",
                           arg=audio.element_handle(), timeout=15_000)
    assert audio.evaluate("audio => audio.error && audio.error.message") is None
    page.get_by_role("tab", name="Meet").click()
    row(page, "Team standup").wait_for()
    assert page.console_errors == []


@pytest.mark.parametrize("width", [375, 1280])
def test_nothing_overflows_and_a_screenshot_is_taken(page, live_server, member, standup, media_dir, width):
    make_recording(owner=member, file=media_dir / "sample.mp4", created_at=CREATED,
                   title="A very long recording title that goes on and on about the quarterly planning offsite")
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server, member.email)
    row(page, "Team standup").wait_for()
    row(page, "Team standup").get_by_role("button", name="Play").click()
    row(page, "Team standup").locator("video").wait_for()

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"recordings-{width}.png"), full_page=True)

    assert scroll_width <= width
    if width == 375:
        log_out = page.get_by_role("button", name="Log out").bounding_box()
        assert log_out["height"] < 48, "the Log out button wraps onto two lines"
        for action in ("Play", "Close player", "Download"):
            buttons = page.get_by_text(action, exact=True)
            for index in range(buttons.count()):
                box = buttons.nth(index).bounding_box()
                assert box is None or box["x"] + box["width"] <= width, action
    assert page.console_errors == []
