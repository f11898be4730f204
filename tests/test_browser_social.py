"""Post for me in real Chromium, with the contract doubles as Meta and TikTok: connecting accounts from
the header and disconnecting, posting a ready clip to Instagram (Vertical 9:16), a Facebook Page, the
TikTok inbox and a direct TikTok post, a failure in words and Try again, a refused token asking to
reconnect, the keyboard, axe-core and a 375 px screen; and nothing of it when no platform is configured."""
import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import expect

from tests.conftest import log_in, run_queued_jobs
from tests.doubles.fixtures import meta_double, tiktok_double  # noqa: F401
from tests.factories import make_ready_clip, make_recording
from webapp.config import PROJECT_ROOT
from webapp.extensions import db
from webapp.media import probe, run_ffmpeg
from webapp.social import export, rules
from webapp.social.models import Publication, SocialExport
from webapp.storage import get_storage

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)]

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
KEY = Fernet.generate_key().decode()


@pytest.fixture
def app_config(request, meta_double, tiktok_double):
    """Both platforms configured (a test adds keys with indirect parametrization)."""
    return {**getattr(request, "param", {}),
            "META_APP_ID": meta_double.app_id, "META_APP_SECRET": meta_double.app_secret,
            "META_OAUTH_URL": meta_double.oauth_url, "META_GRAPH_URL": meta_double.graph_url,
            "TIKTOK_CLIENT_KEY": tiktok_double.client_key, "TIKTOK_CLIENT_SECRET": tiktok_double.client_secret,
            "TIKTOK_API_URL": tiktok_double.api_url, "TIKTOK_AUTH_URL": tiktok_double.auth_url,
            "TOKEN_ENCRYPTION_KEYS": [KEY], "SOCIAL_POLL_SECONDS": 0.05,
            "SOCIAL_RETRY_DELAY": 0}  # a retry runs at once, inside run_queued_jobs


@pytest.fixture
def platforms(app, live_server, meta_double, tiktok_double):
    """The doubles (Meta, TikTok) know Reclip's redirect URIs and can fetch its media links."""
    app.config["PUBLIC_BASE_URL"] = live_server.url
    for provider, double in (("meta", meta_double), ("tiktok", tiktok_double)):
        double.register_redirect_uri(f"{live_server.url}/settings/connections/{provider}/callback")
    return meta_double, tiktok_double


@pytest.fixture(scope="session")
def vertical_export(media_dir, tmp_path_factory):
    """The clip below as Vertical 9:16 on a blurred fill, made once with the export's own filter and encoding
    (an export takes seconds of CPU; the job making it is tested in test_social_publish.py)."""
    folder = tmp_path_factory.mktemp("social-export")
    cut, made = folder / "clip.mp4", folder / "vertical.mp4"
    run_ffmpeg(["-ss", "2", "-i", str(media_dir / "sample.mp4"), "-t", "4", "-c", "copy", str(cut)])
    run_ffmpeg(["-i", str(cut), "-filter_complex", export.video_filter("vertical", "blur"), "-map", "[v]",
                "-map", "0:a:0", *export.ENCODE, "-shortest", str(made)])
    return made


@pytest.fixture
def clip(standup, media_dir, vertical_export):
    """A ready 4 s clip of the member's 320x240 standup, with its Vertical 9:16 (blurred fill) export stored:
    only a post of that shape finds it ready, any other makes its own, so the platform receiving a 1080x1920
    video shows that the dialog asked for that shape."""
    clip = make_ready_clip(standup, media_dir / "sample.mp4", seconds=4)
    key = export.export_key("clip", clip.id, "vertical", "blur")
    with vertical_export.open("rb") as fh:
        get_storage().put(key, fh, content_type="video/mp4")
    info = probe(str(vertical_export))
    db.session.add(SocialExport(target_type="clip", target_id=clip.id, shape="vertical", fill="blur",
                                status="ready", storage_key=key, size_bytes=vertical_export.stat().st_size,
                                duration_seconds=info.duration_seconds, width=info.width, height=info.height))
    db.session.commit()
    return clip


@pytest.fixture
def member_page(page, live_server, member):
    """The member logged in; page.app_errors() gives the console errors of Reclip's own pages."""
    def app_errors():
        # Chromium asks the doubles' consent pages for /favicon.ico, which they do not serve.
        return [text for text, url in errors if not url.endswith("/favicon.ico")]
    errors = []
    page.on("console", lambda msg: errors.append((msg.text, msg.location["url"])) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append((str(exc), "")))
    page.app_errors = app_errors
    page.clock.install()  # time runs as usual; run_jobs moves it on to the page's next poll
    log_in(page, live_server, member.email)
    return page


# --- steps --------------------------------------------------------------------------------------

def open_connections(page):
    page.get_by_role("link", name="Connected accounts").click()
    expect(page.get_by_role("heading", name="Connected accounts", level=1)).to_be_visible()


def card(page, name):
    return page.locator("article.connection").filter(has=page.get_by_role("heading", name=name, exact=True))


def connect(page, provider):
    """Connect from the connections page through the double's consent page."""
    label, consent = {"meta": ("Facebook and Instagram", "Allow"), "tiktok": ("TikTok", "Authorize")}[provider]
    page.get_by_role("button", name=f"Connect {label}").click()
    page.get_by_role("button", name=consent).click()
    expect(page.get_by_role("alert").filter(has_text=f"Connected {label}")).to_be_visible()


def connected(page, *providers):
    """Connect those providers, then back to the recordings page."""
    open_connections(page)
    for provider in providers:
        connect(page, provider)
    page.get_by_role("link", name="Back to recordings").click()
    expect(page.locator("li.clip").first).to_be_visible()


def post_dialog(page):
    """Open Post to… on the (only) clip: the dialog, once its destinations are listed."""
    page.locator("li.clip").get_by_role("button", name="Post to…").click()
    dialog = page.get_by_role("dialog", name="Post to…")
    expect(dialog.get_by_role("group", name="Where")).not_to_contain_text("Loading")
    return dialog


def post(dialog):
    dialog.get_by_role("button", name="Post", exact=True).click()
    expect(dialog).to_be_hidden()


def run_jobs(page, app):
    """Run the queued posts here (the page polls meanwhile), then skip the page's wait for its next poll."""
    results = run_queued_jobs(app)
    page.clock.fast_forward(10_000)
    return results


def post_status(page):
    return page.locator("li.clip .post-state").first


def axe_violations(page, live_server):
    page.route(f"{live_server.url}/__axe.js", lambda route: route.fulfill(
        status=200, content_type="text/javascript", body=AXE.read_text()))
    page.add_script_tag(url=f"{live_server.url}/__axe.js")  # same-origin: the page's CSP allows it
    result = page.evaluate("async () => (await axe.run(document, { resultTypes: ['violations'] })).violations")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result]


# --- connected accounts -------------------------------------------------------------------------

def test_connect_both_platforms_list_their_accounts_and_disconnect(platforms, member_page, live_server):
    page = member_page
    open_connections(page)
    connect(page, "meta")
    meta = card(page, "Facebook and Instagram")
    expect(meta).to_contain_text("Connected as Ada Lovelace")
    expect(meta.get_by_role("listitem")).to_have_text(
        ["Facebook Page Reclip Test Page", "Instagram @reclip.test", "Facebook Page Side Project Page"],
        use_inner_text=True)
    connect(page, "tiktok")
    tiktok = card(page, "TikTok")
    expect(tiktok.get_by_role("listitem")).to_have_text(["TikTok Reclip Tester"], use_inner_text=True)
    assert axe_violations(page, live_server) == []

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    tiktok.get_by_role("button", name="Disconnect").click()
    assert asked == ["Disconnect TikTok? Reclip can no longer post there, and its access is taken back at TikTok."]
    # Dismissed: nothing happened (else the Disconnect button below would be gone).
    page.once("dialog", lambda dialog: dialog.accept())
    tiktok.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("alert")).to_contain_text("Disconnected TikTok")
    expect(tiktok.get_by_role("button", name="Connect TikTok")).to_be_visible()
    expect(tiktok.get_by_role("listitem")).to_have_count(0)
    assert platforms[1].grants[-1].revoked  # taken back at TikTok too
    assert page.app_errors() == []


# --- posting ------------------------------------------------------------------------------------

def test_post_a_clip_to_instagram_vertical_and_to_a_facebook_page_as_it_is(platforms, clip, member_page, app):
    meta, _ = platforms
    page = member_page
    connected(page, "meta")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)

    dialog = post_dialog(page)
    dialog.get_by_role("radio", name="@reclip.test").check()
    expect(dialog.get_by_role("radio", name="Vertical 9:16")).to_be_checked()  # Reels are 9:16
    caption = dialog.get_by_label("Caption")
    too_many_tags, too_long = " ".join(f"#tag{n}" for n in range(31)), "a" * 2201
    caption.fill(too_many_tags)
    expect(dialog.get_by_text("31 / 30 hashtags")).to_be_visible()
    dialog.get_by_role("button", name="Post", exact=True).click()
    # The form says it in the server's own words (webapp/social/rules.py), before sending anything.
    expect(dialog.get_by_text(rules.caption_problem("instagram", too_many_tags))).to_be_visible()
    expect(caption).to_be_focused()
    caption.fill(too_long)
    expect(dialog.get_by_text(rules.caption_problem("instagram", too_long))).to_have_text(
        "Instagram captions are at most 2,200 characters; this one has 2,201.")
    dialog.get_by_role("button", name="Post", exact=True).click()
    assert sent == []  # the form refused both itself

    caption.fill("Standup highlights #reclip")
    expect(dialog.get_by_text("26 / 2,200 characters · 1 / 30 hashtags")).to_be_visible()
    post(dialog)
    status = post_status(page)
    expect(status).to_contain_text("Waiting to publish to Instagram")
    assert run_jobs(page, app) == ["published"]

    expect(status).to_contain_text("Published on Instagram")
    expect(status.get_by_role("link", name="View post")).to_have_attribute(
        "href", meta.published[-1]["permalink"])
    published = meta.published[-1]
    assert (published["width"], published["height"]) == (1080, 1920)
    assert published["caption"] == "Standup highlights #reclip"

    dialog = post_dialog(page)  # the same clip to a Facebook Page: the frame as it is, unless asked
    dialog.get_by_role("radio", name="Reclip Test Page").check()
    expect(dialog.get_by_role("radio", name="Original")).to_be_checked()
    expect(dialog.get_by_text("0 / 63,206 characters")).to_be_visible()
    post(dialog)
    assert run_jobs(page, app) == ["published"]
    expect(post_status(page)).to_contain_text("Published on Facebook")
    expect(page.locator("li.clip .post-state")).to_have_count(2)
    published = meta.published[-1]
    assert (published["platform"], published["width"], published["height"]) == ("facebook", 320, 240)
    expect(post_status(page).get_by_role("link", name="View post")).to_have_attribute(
        "href", published["permalink"])
    assert page.app_errors() == []


def test_post_a_clip_to_the_tiktok_inbox(platforms, clip, member_page, app):
    _, tiktok = platforms
    page = member_page
    connected(page, "tiktok")

    dialog = post_dialog(page)
    account = dialog.get_by_role("radio", name="Reclip Tester")
    expect(account).to_be_checked()  # the only place to post to
    expect(dialog.get_by_text("The video goes to your TikTok inbox")).to_be_visible()
    expect(dialog.get_by_label("Caption")).to_be_hidden()  # written in TikTok
    expect(dialog.get_by_role("radio", name="Vertical 9:16")).to_be_checked()
    post(dialog)
    assert run_jobs(page, app) == ["inbox"]

    expect(post_status(page)).to_contain_text("In your TikTok inbox: open TikTok to finish your post")
    published = tiktok.published[-1]
    assert (published["mode"], published["width"], published["height"]) == ("inbox", 1080, 1920)
    assert page.app_errors() == []


@pytest.mark.parametrize("app_config", [{"TIKTOK_DIRECT_POST": True}], indirect=True, ids=["direct-post"])
def test_a_direct_tiktok_post_asks_who_can_see_it(platforms, clip, member_page, app):
    _, tiktok = platforms
    page = member_page
    connected(page, "tiktok")

    dialog = post_dialog(page)
    expect(dialog.get_by_text("Posting to TikTok as Reclip Tester")).to_be_visible()  # creator_info's nickname
    who = dialog.get_by_label("Who can see this video")
    expect(who.get_by_role("option")).to_have_text(  # the private account's options, none chosen for them
        ["Choose who can see it", "Followers", "Friends (followers you follow back)", "Only me"])
    dialog.get_by_label("Caption").fill("Standup #reclip")
    expect(dialog.get_by_text("15 / 2,200 characters")).to_be_visible()
    dialog.get_by_role("button", name="Post", exact=True).click()
    expect(dialog.get_by_role("alert")).to_have_text("Choose who can see the TikTok video.")
    expect(who).to_be_focused()
    who.select_option(label="Only me")  # an unaudited app may post only privately
    post(dialog)
    assert run_jobs(page, app) == ["published"]

    expect(post_status(page)).to_contain_text("Published on TikTok")
    published = tiktok.published[-1]
    assert (published["mode"], published["privacy_level"], published["caption"]) == ("direct", "SELF_ONLY",
                                                                                     "Standup #reclip")
    assert (published["width"], published["height"]) == (1080, 1920)
    assert page.app_errors() == []


def test_a_failed_post_says_why_and_try_again_publishes_it(platforms, clip, member_page, app):
    meta, _ = platforms
    page = member_page
    connected(page, "meta")
    meta.next_container_outcome("ERROR", "Error: The video's aspect ratio is not supported (2207026)")

    dialog = post_dialog(page)
    dialog.get_by_role("radio", name="@reclip.test").check()
    post(dialog)
    assert run_jobs(page, app) == ["failed"]
    status = post_status(page)
    expect(status).to_contain_text("Failed: Instagram could not use the video: Error: The video's aspect ratio "
                                   "is not supported (2207026).")

    status.get_by_role("button", name="Try again").click()
    expect(status).to_contain_text("Waiting to publish to Instagram")
    assert run_jobs(page, app) == ["published"]
    expect(status).to_contain_text("Published on Instagram")
    expect(status.get_by_role("button", name="Try again")).to_have_count(0)
    assert page.app_errors() == []


def test_a_refused_token_asks_to_reconnect(platforms, clip, member_page, app):
    meta, _ = platforms
    page = member_page
    connected(page, "meta")
    meta.revoke_grant()  # the person removed Reclip in Facebook's settings

    dialog = post_dialog(page)
    dialog.get_by_role("radio", name="@reclip.test").check()
    post(dialog)
    assert run_jobs(page, app) == ["failed"]
    status = post_status(page)
    expect(status).to_contain_text("Failed: Instagram refused the connection")
    expect(status.get_by_role("link", name="Reconnect")).to_be_visible()
    expect(status.get_by_role("button", name="Try again")).to_have_count(0)  # it would fail the same way
    page.screenshot(path="/tmp/shots/refused-row.png", full_page=True)

    dialog = post_dialog(page)
    expect(dialog.get_by_role("radio", name="@reclip.test")).to_be_disabled()
    expect(dialog.get_by_role("radio", name="@reclip.test")).to_have_accessible_description(
        "The connection stopped working.")
    expect(dialog.get_by_role("link", name="Reconnect").first).to_be_visible()
    page.keyboard.press("Escape")

    status.get_by_role("link", name="Reconnect").click()
    meta_card = card(page, "Facebook and Instagram")
    expect(meta_card.get_by_role("alert")).to_contain_text("Instagram refused the connection")
    page.screenshot(path="/tmp/shots/refused.png", full_page=True)
    meta_card.get_by_role("button", name="Reconnect").click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("alert")).to_have_text("Connected Facebook and Instagram: 3 places to post to.")

    page.get_by_role("link", name="Back to recordings").click()
    post_status(page).get_by_role("button", name="Try again").click()
    expect(post_status(page)).to_contain_text("Waiting to publish to Instagram")
    assert run_jobs(page, app) == ["published"]
    expect(post_status(page)).to_contain_text("Published on Instagram")
    assert page.app_errors() == []


# --- keyboard, accessibility, small screens -----------------------------------------------------

def no_horizontal_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_dialog_works_from_the_keyboard_passes_axe_and_fits_375px(platforms, clip, member_page, live_server):
    page = member_page
    dialog = post_dialog(page)  # nothing connected yet: the way to connect
    expect(dialog.get_by_text("No account is connected for posting yet.")).to_be_visible()
    expect(dialog.get_by_role("link", name="Connect an account")).to_be_focused()
    page.keyboard.press("Escape")
    connected(page, "meta", "tiktok")
    opener = page.locator("li.clip").get_by_role("button", name="Post to…")

    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Post to…")
    expect(dialog.get_by_role("radio", name="Reclip Test Page")).to_be_focused()  # the first place to post to
    page.keyboard.press("ArrowDown")  # radios of one name: the arrows move between them
    page.keyboard.press("ArrowDown")
    expect(dialog.get_by_role("radio", name="@reclip.test")).to_be_checked()
    expect(dialog.get_by_role("group", name="Fill the frame with")).to_be_visible()
    assert axe_violations(page, live_server) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    page.set_viewport_size({"width": 375, "height": 740})
    assert no_horizontal_scroll(page)
    dialog = post_dialog(page)
    dialog.get_by_role("radio", name="Reclip Tester").check()
    page.screenshot(path="/tmp/shots/dialog-375.png")
    assert no_horizontal_scroll(page)
    assert dialog.evaluate("$dialog => $dialog.scrollWidth <= $dialog.clientWidth")
    assert axe_violations(page, live_server) == []
    dialog.get_by_role("button", name="Cancel").click()
    expect(opener).to_be_focused()

    open_connections(page)
    page.screenshot(path="/tmp/shots/connections-375.png", full_page=True)
    assert no_horizontal_scroll(page)
    assert axe_violations(page, live_server) == []
    assert page.app_errors() == []


def test_past_posts_show_under_their_rows_from_one_request(platforms, member, standup, media_dir, page,
                                                            live_server):
    other = make_recording(owner=member, file=media_dir / "sample.mp4", title="Retro")
    clips = [make_ready_clip(recording, media_dir / "sample.mp4", seconds=4) for recording in (standup, other)]
    for clip, platform, name in zip(clips, ("instagram", "facebook"), ("@reclip.test", "Reclip Test Page")):
        db.session.add(Publication(user_id=member.id, target_type="clip", target_id=clip.id, platform=platform,
                                   destination_name=name, shape="vertical", status="published",
                                   permalink=f"https://example.com/{platform}"))
    db.session.commit()
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/api/social/publications" in request.url else None)

    log_in(page, live_server, member.email)

    for recording, words in (("Team standup", "Published on Instagram"), ("Retro", "Published on Facebook")):
        row = page.locator(".recording").filter(has=page.get_by_role("heading", name=recording))
        expect(row.locator(".post-state")).to_have_count(1)
        expect(row.locator(".post-state")).to_contain_text(words)
    assert len(asked) == 1, asked


# --- off by default -----------------------------------------------------------------------------

@pytest.mark.parametrize("app_config", [{}])  # the default configuration: no platform's keys
def test_without_a_configured_platform_nothing_of_it_shows(clip, member_page):
    page = member_page
    answers = []
    page.on("response", lambda response: answers.append((response.status, response.url))
            if "/api/social" in response.url else None)
    page.reload()
    expect(page.locator("li.clip")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    assert [status for status, _url in answers if status != 200] == []
    expect(page.get_by_role("button", name="Post to…")).to_have_count(0)
    expect(page.get_by_role("link", name="Connected accounts")).to_have_count(0)
    assert page.app_errors() == []
