"""Server mode in real Chromium: a phone never fetches the recording or FFmpeg.wasm, the server cuts."""
import pytest
from playwright.sync_api import expect

from tests.conftest import collect_console_errors, log_in
from tests.consumer import Consumers, consumer_app_config
from tests.factories import make_recording, make_user
from tests.test_browser_clips import open_editor
from webapp.clips.models import RecordingClip
from webapp.extensions import db

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)]

CLIP_TIMEOUT_MS = 60_000  # the consumer starts, then cuts; slow CI machines take a while
PHONE_WIDTH = 375
IPHONE_USER_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                     "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture
def app_config(tmp_path):
    return consumer_app_config(tmp_path)


@pytest.fixture
def consumer(app, tmp_path):
    """A real consumer for the live server's app, started before the test."""
    pool = Consumers(app, tmp_path)
    pool.start()
    yield pool
    pool.stop_all()


@pytest.fixture
def phone_page(browser):
    """An iPhone-sized touch page; console and page errors are kept in page.console_errors."""
    context = browser.new_context(user_agent=IPHONE_USER_AGENT, viewport={"width": PHONE_WIDTH, "height": 812},
                                  device_scale_factor=3, is_mobile=True, has_touch=True)
    yield collect_console_errors(context.new_page())
    context.close()


def expect_clip_ready(row, consumer):
    message = row.locator(".clip-message")
    try:
        expect(message).to_have_text("Clip ready", timeout=CLIP_TIMEOUT_MS)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{consumer.logs()}") from None
    expect(row.locator(".clip").first).to_have_attribute("data-status", "ready")


def only_clip():
    db.session.expire_all()
    clips = db.session.scalars(db.select(RecordingClip)).all()
    assert len(clips) == 1, clips
    return clips[0]


def test_a_phone_cuts_on_the_server_without_fetching_the_recording(app, live_server, consumer, phone_page, media_dir):
    page = phone_page
    owner = make_user()
    make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    log_in(page, live_server, owner.email)
    row = open_editor(page, "Standup")

    expect(row.get_by_text("Cutting on the server: this device is a phone.")).to_be_visible()
    row.get_by_role("button", name="First 60s").click()
    expect(row.get_by_label("End", exact=True)).to_have_value("0:20")  # the recording lasts 20 s
    row.get_by_role("button", name="Generate clip").click()
    expect_clip_ready(row, consumer)

    clip = only_clip()
    assert (clip.mode, clip.status, clip.precise) == ("server", "ready", False)
    assert (clip.start_seconds, clip.end_seconds) == (0, 20)
    source_fetches = [url for url in requested if "/play" in url and "format=json" in url]
    assert source_fetches == [], "the editor fetched the whole recording on a phone"
    assert [url for url in requested if "/wasm/" in url] == [], "the editor loaded FFmpeg.wasm on a phone"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert page.console_errors == []


def test_exact_cut_switches_a_desktop_browser_to_the_server(app, live_server, consumer, page, media_dir):
    owner = make_user()
    make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
    log_in(page, live_server, owner.email)
    row = open_editor(page, "Standup")
    mode_line = row.locator(".clip-mode")
    expect(mode_line).to_be_hidden()  # a desktop with WebAssembly cuts in the browser

    exact = row.get_by_label("Exact cut (slower, on the server)")
    exact.check()
    expect(mode_line).to_have_text("Cutting on the server: an exact cut is made on the server.")
    expect(mode_line).to_be_visible()
    exact.uncheck()
    expect(mode_line).to_be_hidden()
    exact.check()
    row.get_by_label("Start", exact=True).fill("3.3")
    row.get_by_label("End", exact=True).fill("8.7")
    row.get_by_role("button", name="Generate clip").click()
    expect_clip_ready(row, consumer)

    clip = only_clip()
    assert (clip.mode, clip.precise) == ("server", True)
    assert clip.duration_seconds == pytest.approx(5.4, abs=0.1)
    assert page.console_errors == []


def test_try_on_the_server_after_the_browser_failed(app, live_server, consumer, page, media_dir):
    owner = make_user()
    make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
    page.route("**/wasm/**/ffmpeg-core.wasm", lambda route: route.fulfill(status=503, body="down"))
    log_in(page, live_server, owner.email)
    row = open_editor(page, "Standup")
    row.get_by_label("Start", exact=True).fill("2")
    row.get_by_label("End", exact=True).fill("12")

    row.get_by_role("button", name="Generate clip").click()
    expect(row.locator(".clip-message")).to_contain_text("Loading FFmpeg failed")
    row.get_by_role("button", name="Try on the server").click()
    expect(row.get_by_text("Cutting on the server: the browser could not cut it.")).to_be_visible()
    expect_clip_ready(row, consumer)
    expect(row.get_by_role("button", name="Try on the server")).to_be_hidden()

    clip = only_clip()
    assert (clip.mode, clip.status) == ("server", "ready")
    assert clip.duration_seconds == pytest.approx(10, abs=2.5)
    unexpected = [text for text in page.console_errors if "503" not in text]
    assert unexpected == []
