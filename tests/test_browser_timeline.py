"""The clip editor's timeline in real Chromium (issue 12): handles by mouse, touch and keyboard, zoom to a
tenth of a second, Play selection, thumbnails and waveform once the job has run, and no accessibility
violation (axe-core from npm, served same-origin) on desktop and at 375 px."""
import json

import pytest
from playwright.sync_api import expect

from tests.conftest import log_in, run_queued_jobs
from tests.factories import make_recording
from tests.test_browser_clips import open_editor
from webapp.config import PROJECT_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)]

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def sample(member, media_dir):
    return make_recording(owner=member, file=media_dir / "sample.mp4", title="Standup", duration_seconds=20.0)


def sliders(row):
    return row.get_by_role("slider", name="Clip start"), row.get_by_role("slider", name="Clip end")


def field(row, name):
    return row.get_by_role("textbox", name=name, exact=True)


def test_the_handles_move_by_keyboard_and_say_where_they_are(app, live_server, page, member, sample):
    log_in(page, live_server, member.email)
    row = open_editor(page, "Standup")
    start, end = sliders(row)
    expect(start).to_have_attribute("aria-valuetext", "0:00")
    expect(end).to_have_attribute("aria-valuetext", "0:20")  # the first 60 s, of a 20 s recording

    start.focus()
    for key, now, text in [("ArrowRight", "1", "0:01"), ("Shift+ArrowRight", "1.1", "0:01.1"),
                           ("PageUp", "11.1", "0:11.1"), ("ArrowLeft", "10.1", "0:10.1"),
                           ("Home", "0", "0:00"), ("End", "19", "0:19")]:
        page.keyboard.press(key)
        expect(start).to_have_attribute("aria-valuenow", now)
        expect(start).to_have_attribute("aria-valuetext", text)
    expect(field(row, "Start")).to_have_value("0:19")  # the field follows the handle
    end.focus()
    page.keyboard.press("PageDown")  # the end cannot come within a second of the start
    expect(end).to_have_attribute("aria-valuenow", "20")
    field(row, "Start").fill("0:02")  # and the handles follow the fields
    field(row, "End").fill("0:15")
    expect(start).to_have_attribute("aria-valuetext", "0:02")
    expect(end).to_have_attribute("aria-valuetext", "0:15")
    expect(start).to_have_attribute("aria-valuemax", "14")


def drag(page, handle, track, to_fraction, touch=False):
    track.scroll_into_view_if_needed()
    box, target = handle.bounding_box(), track.locator(".timeline-lane").bounding_box()
    x0, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    x1 = target["x"] + target["width"] * to_fraction
    if touch:  # a finger on a touch screen, through Chromium's own input pipeline
        session = page.context.new_cdp_session(page)
        def touch_event(kind, x):
            points = [] if kind == "touchEnd" else [{"x": x, "y": y, "id": 1}]
            session.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
        touch_event("touchStart", x0)
        for step in range(1, 9):
            touch_event("touchMove", x0 + (x1 - x0) * step / 8)
        touch_event("touchEnd", x1)
        return
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(x1, y, steps=8)
    page.mouse.up()


def test_the_handles_are_dragged_with_the_mouse(app, live_server, page, member, sample):
    log_in(page, live_server, member.email)
    row = open_editor(page, "Standup")
    start, end = sliders(row)
    track = row.locator(".timeline-track")
    drag(page, start, track, 0.25)
    drag(page, end, track, 0.75)
    assert float(start.get_attribute("aria-valuenow")) == pytest.approx(5, abs=0.6)
    assert float(end.get_attribute("aria-valuenow")) == pytest.approx(15, abs=0.6)
    assert field(row, "Start").input_value().startswith("0:0")
    assert field(row, "End").input_value().startswith("0:1")


def test_the_handles_are_dragged_by_touch_on_a_phone(app, live_server, browser, member, sample):
    context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, member.email)
        row = open_editor(page, "Standup")
        start, _end = sliders(row)
        assert start.bounding_box()["width"] >= 44  # a finger's target
        expect(row.get_by_role("button", name="Zoom in")).to_have_css("min-height", "44px")
        drag(page, start, row.locator(".timeline-track"), 0.5, touch=True)
        assert float(start.get_attribute("aria-valuenow")) == pytest.approx(10, abs=0.6)
    finally:
        context.close()


def view_seconds(row):
    first, last = row.locator(".timeline-view").text_content().split("–")
    seconds = [sum(float(part) * 60 ** i for i, part in enumerate(reversed(text.split(":")))) for text in (first, last)]
    return seconds[0], seconds[1]


def test_zoom_places_start_to_a_tenth_of_a_second_on_six_hours(app, live_server, page, member, six_hour_recording):
    make_recording(owner=member, file=six_hour_recording, title="Long", duration_seconds=21600.0)
    log_in(page, live_server, member.email)
    row = open_editor(page, "Long")
    expect(row.locator(".timeline-view")).to_have_text("0:00–6:00:00")
    for _ in range(11):
        row.get_by_role("button", name="Zoom in").click()
    first, last = view_seconds(row)
    assert last - first == pytest.approx(20, abs=0.01)  # 20 s across: a tenth of a second is pixels wide
    assert first == 0  # around the start handle, the one in use
    start, _end = sliders(row)
    drag(page, start, row.locator(".timeline-track"), 0.75)
    value = float(start.get_attribute("aria-valuenow"))
    assert value == pytest.approx(first + 0.75 * (last - first), abs=0.3) and round(value, 1) == value
    start.focus()
    page.keyboard.press("Shift+ArrowRight")
    assert float(start.get_attribute("aria-valuenow")) == pytest.approx(value + 0.1, abs=0.001)
    row.get_by_role("button", name="Zoom out").click()
    first, last = view_seconds(row)
    assert last - first == pytest.approx(40, abs=0.01)


def test_play_selection_plays_start_to_end_and_loops(app, live_server, page, member, sample):
    log_in(page, live_server, member.email)
    row = open_editor(page, "Standup")
    field(row, "Start").fill("4")
    field(row, "End").fill("6")
    player = row.locator(".clip-editor-player")
    player.evaluate("media => { media.muted = true; window.seen = []; "
                    "media.addEventListener('timeupdate', () => window.seen.push(media.currentTime)); }")
    row.get_by_role("button", name="Play selection").click()
    expect(row.get_by_role("button", name="Stop")).to_have_attribute("aria-pressed", "true")
    page.wait_for_timeout(4500)  # long enough to pass End twice
    seen = page.evaluate("window.seen")
    row.get_by_role("button", name="Stop").click()
    expect(row.get_by_role("button", name="Play selection")).to_be_visible()
    assert player.evaluate("media => media.paused")
    playing = [t for t in seen if t > 0]
    assert playing and min(playing) >= 3.9 and max(playing) <= 6.3  # never past End
    assert any(later < earlier - 1 for earlier, later in zip(playing, playing[1:]))  # it went back to Start


def test_thumbnails_and_waveform_appear_once_the_job_has_run(app, live_server, page, member, sample):
    log_in(page, live_server, member.email)
    row = open_editor(page, "Standup")
    expect(row.locator(".timeline-tile")).to_have_count(0)  # queued: the editor works meanwhile
    assert run_queued_jobs(app) == ["ready"]
    expect(row.locator(".timeline-tile").first).to_be_visible(timeout=10_000)  # the editor polls
    tile = row.locator(".timeline-tile").first.evaluate("t => getComputedStyle(t).backgroundImage")
    assert "/storage/o/" in tile  # the sprite sheet, by a signed URL
    painted = row.locator(".timeline-wave").evaluate(
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }")
    assert painted > 100
    assert page.console_errors == []


def test_the_editor_works_when_there_is_no_timeline_data(app, live_server, page, member, tmp_path, media_dir):
    recording = make_recording(owner=member, file=media_dir / "sample.mp4", title="Standup")
    recording.timeline_status = "failed"
    from webapp.extensions import db
    db.session.commit()
    log_in(page, live_server, member.email)
    row = open_editor(page, "Standup")
    start, _end = sliders(row)
    start.focus()
    page.keyboard.press("PageUp")
    expect(field(row, "Start")).to_have_value("0:10")
    row.get_by_role("button", name="First 60s").click()
    expect(start).to_have_attribute("aria-valuenow", "0")
    expect(row.locator(".timeline-tile")).to_have_count(0)


def test_the_keyframe_a_copy_starts_on_is_shown(app, live_server, page, member, sample):
    run_queued_jobs(app) if sample.timeline_status else None
    from webapp import timeline
    assert timeline.make_timeline(sample) == "ready"  # keyframes every 2 s
    log_in(page, live_server, member.email)
    row = open_editor(page, "Standup")
    notice = row.locator(".clip-keyframe")
    field(row, "Start").fill("5.5")
    expect(notice).to_have_text("The clip will start at 0:04, on the keyframe before Start: a copy starts on one. "
                                "Exact cut starts at 0:05.5.")
    field(row, "Start").fill("6.2")
    expect(notice).to_be_hidden()  # 0.2 s after a keyframe: close enough
    field(row, "Start").fill("5.5")
    row.get_by_label("Exact cut").check()
    expect(notice).to_be_hidden()


def axe_violations(page, live_server):
    page.route(f"{live_server.url}/__axe.js", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body=AXE.read_text()))
    page.add_script_tag(url=f"{live_server.url}/__axe.js")  # same-origin: the page's CSP allows it
    result = page.evaluate("async () => (await axe.run(document, { resultTypes: ['violations'] })).violations")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 375, "height": 812}],
                         ids=["desktop", "375px"])
def test_no_accessibility_violation_with_the_editor_open(app, live_server, browser, member, sample, viewport):
    assert timeline_ready(app, sample)
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        log_in(page, live_server, member.email)
        row = open_editor(page, "Standup")
        expect(row.locator(".timeline-tile").first).to_be_visible(timeout=10_000)
        violations = axe_violations(page, live_server)
        assert violations == [], json.dumps(violations, indent=1)
    finally:
        context.close()


def timeline_ready(app, recording):
    from webapp import timeline
    return timeline.make_timeline(recording) == "ready"
