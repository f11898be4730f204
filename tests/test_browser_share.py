"""Sharing in real Chromium: Copy link, the share page playing anonymously, Share to, Manage links."""
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import collect_console_errors, log_in
from tests.factories import make_ready_clip, make_recording, make_share_link
from webapp.extensions import db
from webapp.shares.models import ShareLink

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)]

OUTSIDE = ("https://www.facebook.com/**", "https://www.instagram.com/**", "https://www.tiktok.com/**")


def row(page, title):
    return page.locator("li.recording").filter(has=page.get_by_role("heading", name=title, exact=True))


def copy_link(page, actions):
    """Click Copy link in that group of actions; the URL that landed on the clipboard."""
    toast = page.locator(".toast")
    toast.evaluate("$toast => { $toast.hidden = true; $toast.textContent = ''; }")
    actions.get_by_role("button", name="Copy link").click()
    expect(toast).to_be_visible()
    expect(toast).to_have_text("Link copied")
    page.bring_to_front()
    return page.evaluate("navigator.clipboard.readText()")


def play(page):
    """Start the share page's player (muted, so autoplay rules allow it) and wait for real frames."""
    video = page.locator("video.share-player")
    video.evaluate("v => { v.muted = true; return v.play(); }")
    # A function, not an expression string: the page's CSP forbids eval.
    page.wait_for_function("() => { const v = document.querySelector('video.share-player');"
                           " return v.readyState >= 2 && v.currentTime > 0; }", timeout=15_000)


@pytest.fixture
def owner_page(page, live_server, member, standup):
    """The member's logged-in recordings page (standup listed), the clipboard allowed, social sites stubbed."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    for pattern in OUTSIDE:
        page.context.route(pattern, lambda route: route.fulfill(status=200, content_type="text/html",
                                                                body="<!doctype html><title>stub</title>"))
    log_in(page, live_server, member.email)
    return page


@pytest.fixture
def stranger(browser):
    """A separate, anonymous browser context and its page (console errors collected)."""
    context = browser.new_context()
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
    yield page
    context.close()


def default_links():
    db.session.expire_all()
    return db.session.scalars(select(ShareLink).where(ShareLink.is_default.is_(True))).all()


def test_copy_link_of_a_recording_plays_for_anyone_and_shares_to(owner_page, stranger, live_server, standup):
    page = owner_page
    actions = row(page, "Team standup").locator(".recording-actions")

    url = copy_link(page, actions)
    assert url.startswith(f"{live_server.url}/s/") and len(url) >= len(live_server.url) + 3 + 43
    assert [(link.target_type, link.target_id) for link in default_links()] == [("meet", str(standup.id))]
    assert copy_link(page, actions) == url  # the same link again, not a new one
    assert len(default_links()) == 1

    response = stranger.goto(url)
    assert response.status == 200 and response.headers["referrer-policy"] == "no-referrer"
    expect(stranger.get_by_role("heading", name="Team standup")).to_be_visible()
    play(stranger)
    expect(stranger.get_by_role("link", name="Download")).to_be_visible()
    assert stranger.console_errors == []

    actions.get_by_role("button", name="Share").click()
    panel = actions.locator(".share-panel")
    for name in ("Facebook", "Instagram", "TikTok"):
        expect(panel.get_by_role("button", name=name)).to_be_visible()

    with page.context.expect_page() as popup_info:
        panel.get_by_role("button", name="Facebook").click()
    facebook = popup_info.value
    facebook.wait_for_url("https://www.facebook.com/**")
    assert facebook.url.startswith("https://www.facebook.com/sharer/sharer.php?u=")
    assert f"u={quote(url, safe='')}" in facebook.url
    facebook.close()

    with page.context.expect_page() as popup_info:
        panel.get_by_role("button", name="Instagram").click()
    instagram = popup_info.value
    instagram.wait_for_url("https://www.instagram.com/**")
    instagram.close()
    hint = actions.locator(".share-hint")
    expect(hint).to_contain_text("Download the clip, then upload it in the Instagram app.")
    download = hint.get_by_role("link", name="Download")
    expect(download).to_be_visible()
    assert download.get_attribute("href") == f"/api/livekit/recordings/download?type=meet&id={standup.id}"

    with page.context.expect_page() as popup_info:
        panel.get_by_role("button", name="TikTok").click()
    tiktok = popup_info.value
    tiktok.wait_for_url("https://www.tiktok.com/**")
    tiktok.close()
    expect(hint).to_contain_text("Download the clip, then upload it in the TikTok app.")
    assert page.console_errors == []


def test_copy_link_of_a_clip_plays_the_clip(owner_page, stranger, live_server, member, standup, media_dir):
    clip = make_ready_clip(standup, media_dir / "sample.mp4", member, start=3, seconds=5)
    page = owner_page
    page.reload()
    clip_row = row(page, "Team standup").locator(f'li.clip[data-clip-id="{clip.id}"]')
    expect(clip_row).to_contain_text("Clip ready")

    url = copy_link(page, clip_row)
    recording_url = copy_link(page, row(page, "Team standup").locator(".recording-actions"))
    assert url.startswith(f"{live_server.url}/s/") and url != recording_url
    assert {(link.target_type, link.target_id) for link in default_links()} \
        == {("clip", clip.id), ("meet", str(standup.id))}

    assert stranger.goto(url).status == 200
    expect(stranger.get_by_role("heading", name="Team standup 0:03–0:08")).to_be_visible()
    play(stranger)
    duration = stranger.locator("video.share-player").evaluate("v => v.duration")
    assert 4 < duration < 6.5
    assert stranger.console_errors == []
    assert page.console_errors == []


def test_manage_links_lists_revokes_and_creates_with_a_password(owner_page, stranger, live_server, standup):
    page = owner_page
    actions = row(page, "Team standup").locator(".recording-actions")
    url = copy_link(page, actions)
    assert stranger.goto(url).status == 200

    actions.get_by_role("button", name="Share").click()
    actions.get_by_role("button", name="Manage links").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    item = dialog.locator("li.manage-link")
    expect(item).to_have_count(1)
    for text in ("Copy-link link", "Never expires", "1 view", "Password: no", "Download allowed"):
        expect(item).to_contain_text(text)

    item.get_by_role("button", name="Revoke").click()
    expect(page.locator(".toast")).to_have_text("Link revoked")
    expect(item).to_contain_text("Revoked")
    expect(item.get_by_role("button", name="Revoke")).to_have_count(0)
    gone = stranger.goto(url)
    assert gone.status == 410
    expect(stranger.get_by_role("heading", name="This link has ended")).to_be_visible()

    dialog.get_by_label("Password").fill("open sesame")
    dialog.get_by_role("button", name="Create link").click()
    created = dialog.locator(".manage-links-created")
    expect(created).to_contain_text(f"{live_server.url}/s/")
    protected = created.inner_text().strip()
    expect(dialog.locator("li.manage-link")).to_have_count(2)
    newest = dialog.locator("li.manage-link").first
    for text in ("Expires", "0 views", "Password: yes"):
        expect(newest).to_contain_text(text)

    stranger.goto(protected)
    expect(stranger.get_by_role("heading", name="This link has a password")).to_be_visible()
    assert stranger.locator("video").count() == 0
    stranger.get_by_label("Password").fill("open sesame")
    stranger.get_by_role("button", name="Open").click()
    expect(stranger.get_by_role("heading", name="Team standup")).to_be_visible()
    play(stranger)

    # Back on the recordings page, Copy link hands out a fresh link instead of the revoked one.
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    fresh = copy_link(page, actions)
    assert fresh.startswith(f"{live_server.url}/s/") and fresh not in (url, protected)
    assert stranger.goto(fresh).status == 200
    assert page.console_errors == []


def test_the_share_menu_stays_on_a_phone_sized_screen(app, live_server, browser, member, standup):
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        log_in(page, live_server, member.email)
        actions = row(page, "Team standup").locator(".recording-actions")
        actions.get_by_role("button", name="Share", exact=True).click()
        panel = actions.locator(".share-panel")
        expect(panel.get_by_role("button", name="Facebook")).to_be_visible()
        box = panel.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
    finally:
        context.close()


@pytest.fixture(scope="module")
def long_meeting(tmp_path_factory):
    """Two minutes of 720p: more than a player buffers ahead, so a seek far in needs a new request."""
    from webapp.media import generate_test_media
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    generate_test_media(path, 120)
    return path


@pytest.mark.parametrize("app_config", [{"SHARE_MEDIA_TTL": 3}])
def test_the_player_asks_the_link_again_when_its_signed_url_has_run_out(app, live_server, browser, member,
                                                                         long_meeting):
    """Share media URLs are short-lived (here 2 to 3 s): when the player's range request meets an expired
    URL, the page asks /s/<token>/media again and plays on from where it was."""
    meeting = make_recording(owner=member, file=long_meeting, title="Long meeting", duration_seconds=120.0)
    token = make_share_link(member, meeting)
    context = browser.new_context()
    stranger = collect_console_errors(context.new_page())
    asked = []
    stranger.on("request", lambda request: asked.append(request.url) if request.url.endswith("/media") else None)
    try:
        stranger.goto(f"{live_server.url}/s/{token}")
        play(stranger)
        stranger.wait_for_timeout(4000)  # the signed URL the player holds has run out
        stranger.locator("video.share-player").evaluate("v => { v.currentTime = 110; }")
        stranger.wait_for_function("() => { const v = document.querySelector('video.share-player');"
                                   " return !v.error && v.currentTime > 110.2; }", timeout=15_000)
        assert len(asked) >= 2
    finally:
        context.close()


def document_click_listeners(page):
    session = page.context.new_cdp_session(page)
    document = session.send("Runtime.evaluate", {"expression": "document"})["result"]["objectId"]
    listeners = session.send("DOMDebugger.getEventListeners", {"objectId": document})["listeners"]
    return sum(listener["type"] == "click" for listener in listeners)


def test_a_share_menu_listens_to_the_page_only_while_it_is_open(owner_page, member, media_dir):
    page = owner_page
    before = document_click_listeners(page)  # every row's menu is closed: none of them listens
    actions = row(page, "Team standup").locator(".recording-actions")
    actions.get_by_role("button", name="Share").click()
    expect(actions.locator(".share-panel")).to_be_visible()
    assert document_click_listeners(page) == before + 1

    page.get_by_role("heading", name="Recordings", exact=True).click()  # a click elsewhere closes it
    expect(actions.locator(".share-panel")).to_be_hidden()
    assert document_click_listeners(page) == before
