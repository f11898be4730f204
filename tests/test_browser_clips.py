"""Cutting clips in the browser with FFmpeg.wasm, in real headless Chromium, on local, S3 and Supabase storage
(moto's S3 and the fake of Supabase Storage's REST API, both over real HTTP on another origin)."""
import pytest
from playwright.sync_api import expect

from tests.conftest import log_in
from tests.factories import make_recording, make_user
from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.media import probe
from webapp.storage import get_storage

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)]

CLIP_TIMEOUT_MS = 60_000  # loading the core, fetching and cutting take a few seconds; slow CI machines more
CLIPS_API = "/api/livekit/recordings/clips"


@pytest.fixture
def app_config(request):
    """Local storage by default; `@pytest.mark.parametrize("app_config", ["s3"], indirect=True)` for moto's S3,
    ["supabase"] for the fake Supabase Storage (its signed PUT upload)."""
    backend = getattr(request, "param", "local")
    if backend in ("s3", "supabase"):
        return dict(request.getfixturevalue(f"{backend}_config"))
    return {}


every_storage = pytest.mark.parametrize("app_config", ["local", "s3", "supabase"], indirect=True)


def open_editor(page, title):
    """The recording's row with its clip editor open (and the player's metadata loaded)."""
    row = page.locator(".recording", has=page.get_by_role("heading", name=title))
    row.get_by_role("button", name="Create clip").click()
    expect(row.locator(".clip-editor")).to_be_visible()
    row.locator(".clip-editor-player").evaluate(
        "(media) => media.readyState >= 1 || new Promise((resolve) => media.addEventListener('loadedmetadata', resolve, { once: true }))")
    return row


def generate(row, start, end):
    row.get_by_label("Start", exact=True).fill(start)
    row.get_by_label("End", exact=True).fill(end)
    row.get_by_role("button", name="Generate clip").click()


def record_steps(row):
    """Keep every data-step the editor passes through and every step name it shows, in order."""
    row.locator(".clip-editor").evaluate("""($editor) => {
        // Each record's oldValue is the step before it, so batched records lose no step.
        const before = [];
        window.clipSteps = () => [...before, $editor.dataset.step]
            .filter((step, i, steps) => step && step !== steps[i - 1]);
        window.clipStepNames = [];
        new MutationObserver((records) => {
            for (const record of records) before.push(record.oldValue);
        }).observe($editor, { attributes: true, attributeFilter: ['data-step'], attributeOldValue: true });
        new MutationObserver((records) => {
            for (const record of records) for (const node of record.addedNodes) window.clipStepNames.push(node.textContent);
        }).observe($editor.querySelector('.clip-progress-step'), { childList: true, characterData: true, subtree: true });
    }""")


def download_clip(page, row, tmp_path):
    clip = row.locator(".clip").first
    expect(clip).to_have_attribute("data-status", "ready")
    with page.expect_download() as info:
        clip.get_by_role("link", name="Download").click()
    download = info.value
    assert download.failure() is None
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    return path


@every_storage
def test_meet_clip_is_cut_uploaded_and_downloaded(app, app_config, live_server, page, media_dir, tmp_path, request):
    owner = make_user()
    title = "Bob's Q&A #3 (final) + café"  # every backend's signed URL must carry this name to the download
    make_recording(owner=owner, file=media_dir / "sample.mp4", title=title)
    log_in(page, live_server, owner.email)
    row = open_editor(page, title)
    record_steps(row)

    generate(row, "3", "13")
    expect(row.get_by_text("Clip ready").first).to_be_visible(timeout=CLIP_TIMEOUT_MS)

    steps = page.evaluate("window.clipSteps()")
    assert steps == ["load", "fetch", "create", "trim", "upload", "complete", "ready"]
    names = page.evaluate("window.clipStepNames.filter((name, i, names) => name !== names[i - 1])")
    assert names == ["Loading FFmpeg", "Opening the recording", "Preparing the upload",
                     "Trimming (reading only the parts it needs)", "Uploading", "Checking the clip"]

    path = download_clip(page, row, tmp_path)
    assert path.name == f"{title} 0.03–0.13.mp4"
    media = probe(str(path))
    assert media.has_video and media.has_audio
    assert media.duration_seconds == pytest.approx(10, abs=2.5)
    db.session.expire_all()
    clip = db.session.query(RecordingClip).one()
    assert (clip.status, clip.mode) == ("ready", "browser")
    storage = get_storage()
    assert storage.name == app_config.get("STORAGE_BACKEND", "local")
    assert storage.head(clip.storage_key).size == path.stat().st_size  # what was downloaded is what was uploaded
    if storage.name == "supabase":  # the page PUT the clip to the signed URL and read the recording by ranges
        seen = [(method, path, headers.get("Origin"), headers.get("Range"))
                for method, path, headers in request.getfixturevalue("supabase_server").requests]
        uploads = [m for m, p, origin, _ in seen if "/object/upload/sign/" in p and clip.id in p and origin]
        assert uploads == ["OPTIONS", "PUT"]
        recording_key = storage.key_for_url(clip.recording_url)
        assert any(m == "GET" and f"/object/sign/{storage.bucket}/{recording_key}?" in p and origin and rng
                   for m, p, origin, rng in seen)
    assert page.console_errors == []


@every_storage
def test_voice_clip_is_audio_m4a(app, live_server, page, media_dir, tmp_path):
    admin = make_user(super_admin=True)
    make_recording("voice", file=media_dir / "sample.m4a", title="Support call")
    log_in(page, live_server, admin.email)
    # The page ignores a tab click while a list is loading: wait for the Meet list first.
    expect(page.locator('[data-state="loading"]')).to_be_hidden()
    page.get_by_role("tab", name="Voice").click()
    expect(page.get_by_role("tab", name="Voice")).to_have_attribute("aria-selected", "true")
    row = open_editor(page, "Support call")
    expect(row.locator("audio.clip-editor-player")).to_have_count(1)

    generate(row, "3", "13")
    expect(row.get_by_text("Clip ready").first).to_be_visible(timeout=CLIP_TIMEOUT_MS)

    path = download_clip(page, row, tmp_path)
    assert path.suffix == ".m4a"
    media = probe(str(path))
    assert media.has_audio and not media.has_video
    assert media.duration_seconds == pytest.approx(10, abs=2.5)
    assert page.console_errors == []


def test_presets_are_clamped_to_a_short_recording(app, live_server, page, media_dir):
    owner = make_user()
    make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
    log_in(page, live_server, owner.email)
    row = open_editor(page, "Standup")
    start, end = row.get_by_label("Start", exact=True), row.get_by_label("End", exact=True)

    start.fill("0:05")
    end.fill("0:07")
    row.get_by_role("button", name="First 60s").click()
    expect(start).to_have_value("0:00")
    expect(end).to_have_value("0:20")

    start.fill("0:05")
    end.fill("0:07")
    row.get_by_role("button", name="Last 60s").click()
    expect(start).to_have_value("0:00")
    expect(end).to_have_value("0:20")
    assert page.console_errors == []


def test_i_and_o_keys_set_start_and_end_at_the_playhead(app, live_server, page, media_dir):
    owner = make_user()
    make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
    log_in(page, live_server, owner.email)
    row = open_editor(page, "Standup")
    player = row.locator(".clip-editor-player")

    def seek(seconds):
        player.evaluate("""(media, at) => new Promise((resolve) => {
            media.addEventListener('seeked', resolve, { once: true });
            media.currentTime = at;
        })""", seconds)

    seek(4.5)
    page.get_by_role("heading", name="Recordings", exact=True).click()  # focus outside the inputs
    page.keyboard.press("i")
    seek(12)
    page.keyboard.press("o")
    expect(row.get_by_label("Start", exact=True)).to_have_value("0:04.5")
    expect(row.get_by_label("End", exact=True)).to_have_value("0:12")

    # Typing in an input types; it does not set a point.
    row.get_by_label("Start", exact=True).fill("")
    row.get_by_label("Start", exact=True).press("o")
    expect(row.get_by_label("Start", exact=True)).to_have_value("o")
    expect(row.get_by_label("End", exact=True)).to_have_value("0:12")
    assert page.console_errors == []


@pytest.mark.parametrize(("start", "end", "message"), [
    ("abc", "10", "Start is not a time"),
    ("10", "5", "End must be after Start"),
])
def test_invalid_times_show_an_error_and_send_nothing(app, live_server, page, media_dir, start, end, message):
    owner = make_user()
    make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
    log_in(page, live_server, owner.email)
    row = open_editor(page, "Standup")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method != "GET" else None)

    generate(row, start, end)
    expect(row.get_by_role("alert")).to_contain_text(message)
    expect(row.get_by_role("button", name="Generate clip")).to_be_enabled()
    assert posts == []
    expect(row.locator(".clip")).to_have_count(0)
    assert db.session.query(RecordingClip).count() == 0
    assert page.console_errors == []


@every_storage
def test_refused_upload_says_why_and_deletes_the_clip(app, live_server, page, media_dir, app_config):
    owner = make_user()
    make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup")
    log_in(page, live_server, owner.email)
    row = open_editor(page, "Standup")
    backend = app_config.get("STORAGE_BACKEND", "local")
    upload_url = {"local": f"{live_server.url}/storage/upload", "s3": app_config.get("S3_ENDPOINT_URL", "") + "/",
                  "supabase": f"{app_config.get('SUPABASE_URL')}/storage/v1/object/upload/sign/"}[backend]
    method = "PUT" if backend == "supabase" else "POST"
    refused = []

    def refuse(route):
        if route.request.method != method:
            return route.continue_()
        refused.append(route.request.url)
        if backend == "supabase":  # storage-api's answer: HTTP 400, the real status in the body
            return route.fulfill(status=400, content_type="application/json",
                                 headers={"Access-Control-Allow-Origin": "*"},
                                 body='{"statusCode":"400","code":"InvalidJWT","error":"InvalidJWT",'
                                      '"message":"jwt expired"}')
        route.fulfill(status=403, content_type="application/xml", headers={"Access-Control-Allow-Origin": "*"},
                      body="<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
                           "<Message>Invalid according to Policy: Policy expired.</Message></Error>")

    page.route(f"{upload_url}**", refuse)
    with page.expect_response(lambda r: r.request.method == "DELETE" and CLIPS_API in r.url,
                              timeout=CLIP_TIMEOUT_MS) as deleted:
        generate(row, "3", "13")
    assert deleted.value.status == 204
    assert len(refused) == 1

    alert = row.get_by_role("alert")
    expect(alert).to_contain_text("Uploading failed")
    expect(alert).to_contain_text("jwt expired" if backend == "supabase" else "Policy expired")
    expect(row.get_by_text("Clip ready")).to_have_count(0)
    expect(row.locator(".clip")).to_have_count(0)
    db.session.expire_all()
    assert db.session.query(RecordingClip).count() == 0
    # Chromium logs the refused request itself; nothing else may go wrong.
    assert [error for error in page.console_errors if "403" not in error and "400" not in error] == []

    page.unroute(f"{upload_url}**")  # the person tries again, and this time it works
    row.get_by_role("button", name="Generate clip").click()
    expect(row.get_by_text("Clip ready").first).to_be_visible(timeout=CLIP_TIMEOUT_MS)
    expect(row.locator(".clip")).to_have_count(1)


def test_editor_fits_a_phone_screen(app, live_server, page, media_dir):
    owner = make_user()
    make_recording(owner=owner, file=media_dir / "sample.mp4",
                   title="A weekly planning meeting with a rather long title that has to wrap somewhere")
    page.set_viewport_size({"width": 375, "height": 740})
    log_in(page, live_server, owner.email)
    row = page.locator(".recording").first
    row.get_by_role("button", name="Create clip").click()
    expect(row.get_by_role("button", name="Generate clip")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    for name in ("First 60s", "Last 60s", "Generate clip"):
        box = row.get_by_role("button", name=name).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, name
    assert page.console_errors == []
