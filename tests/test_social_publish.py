"""Post for me, end to end: the real app (its OAuth round trip, API, publishing job and CLI) against the
contract doubles of Meta and TikTok (tests/doubles), over real HTTP. Nothing of Reclip is mocked; the
doubles refuse what the platforms document that they refuse.

The app is served by `live_server` so that the doubles can fetch /social/media/<token>.mp4 from
PUBLIC_BASE_URL, as Instagram and Facebook fetch a video_url / file_url.
"""
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import text

from tests.consumer import Consumers, consumer_app_config, wait_for
from tests.doubles.fixtures import meta_double, tiktok_double  # noqa: F401 (fixtures)
from tests.factories import make_ready_clip, make_recording, make_user
from webapp.extensions import db
from webapp.media import run_ffmpeg
from webapp.social import crypto, publish, tiktok
from webapp.social.models import Publication, SocialConnection, SocialDestination

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()
STALE_SECONDS = 1  # a publishing job without a heartbeat (a poll, an uploaded chunk) for this long has stopped


@pytest.fixture
def tiktok_direct_post():
    """TIKTOK_DIRECT_POST (an audited TikTok app); a test turns it on with parametrize."""
    return False


@pytest.fixture
def app_config(meta_double, tiktok_double, tiktok_direct_post, tmp_path):
    # consumer_app_config: a real consumer process (the killed-worker test) can share the queue and storage.
    return {**consumer_app_config(tmp_path, CLIP_JOB_STALE_SECONDS=STALE_SECONDS),
            "META_APP_ID": meta_double.app_id, "META_APP_SECRET": meta_double.app_secret,
            "META_OAUTH_URL": meta_double.oauth_url, "META_GRAPH_URL": meta_double.graph_url,
            "TIKTOK_CLIENT_KEY": tiktok_double.client_key, "TIKTOK_CLIENT_SECRET": tiktok_double.client_secret,
            "TIKTOK_API_URL": tiktok_double.api_url, "TIKTOK_AUTH_URL": tiktok_double.auth_url,
            "TIKTOK_DIRECT_POST": tiktok_direct_post, "TOKEN_ENCRYPTION_KEYS": [OLD_KEY],
            # Short waits: the doubles answer at once; a poll or a backoff need not last seconds here.
            "SOCIAL_POLL_SECONDS": 0.05, "SOCIAL_POLL_TIMEOUT": 20, "SOCIAL_BACKOFF_SECONDS": 0.05,
            "SOCIAL_RETRY_DELAY": 0}


@pytest.fixture
def server(app, live_server, meta_double, tiktok_double):
    """The app over HTTP on PUBLIC_BASE_URL, its callback URLs registered at both doubles."""
    app.config["PUBLIC_BASE_URL"] = live_server.url
    meta_double.register_redirect_uri(f"{live_server.url}/settings/connections/meta/callback")
    tiktok_double.register_redirect_uri(f"{live_server.url}/settings/connections/tiktok/callback")
    return live_server


@pytest.fixture
def person(app):
    return make_user("poster@example.com")


@pytest.fixture
def web(server, login, person):
    """The person's logged-in test client."""
    return login(person)


@pytest.fixture(scope="module")
def meeting_video(tmp_path_factory):
    """A 640x360, 24 fps H.264/AAC meeting recording: small, so that each export takes little time,
    and within every platform's rules (TikTok wants 360 pixels a side, Reels 23 fps and 3 seconds)."""
    path = tmp_path_factory.mktemp("social-media") / "meeting.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24:duration=6", "-f", "lavfi", "-i",
                "sine=frequency=440:sample_rate=48000:duration=6", "-c:v", "libx264", "-preset", "ultrafast",
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart",
                str(path)])
    return path


@pytest.fixture
def clip(person, meeting_video):
    """A ready 4-second clip of the meeting."""
    recording = make_recording(owner=person, file=meeting_video, title="Team standup")
    return make_ready_clip(recording, meeting_video, start=1, seconds=4)


# --- helpers ------------------------------------------------------------------------------------------

def consent(web, provider, answer):
    """Start the connection in the app, answer the double's consent page like a person, and return the
    query of the double's redirect back to the app's callback (code and state, or an error)."""
    started = web.post(f"/settings/connections/{provider}/connect")
    assert started.status_code == 302, started.get_data(as_text=True)
    dialog_url = started.headers["Location"]
    dialog = requests.get(dialog_url, timeout=10)
    assert dialog.status_code == 200, dialog.text
    action = re.search(r'<form method="post" action="([^"]+)"', dialog.text).group(1)
    request_id = re.search(r'name="request_id" value="([^"]+)"', dialog.text).group(1)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(dialog_url))
    answered = requests.post(origin + action, data={"request_id": request_id, "action": answer},
                             allow_redirects=False, timeout=10)
    assert answered.status_code in (302, 303), answered.text
    back = urlsplit(answered.headers["Location"])
    assert back.path == f"/settings/connections/{provider}/callback"
    return dialog_url, back.query


def finish(web, provider, query):
    """The browser arriving at the app's callback with the double's answer; the page it lands on."""
    response = web.get(f"/settings/connections/{provider}/callback?{query}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/settings/connections")
    return web.get("/settings/connections").get_data(as_text=True)


def connect(web, provider):
    """Connect the provider through the whole consent round trip; the settings page after it."""
    _dialog, query = consent(web, provider, "allow" if provider == "meta" else "authorize")
    return finish(web, provider, query)


def destinations(web):
    response = web.get("/api/social/destinations")
    assert response.status_code == 200
    return response.get_json()["destinations"]


def destination_id(web, platform, name=None):
    return next(d["id"] for d in destinations(web) if d["platform"] == platform and name in (None, d["name"]))


def post(web, clip, platform, **options):
    body = {"target_type": "clip", "target_id": clip.id, "destination_id": destination_id(web, platform),
            "shape": "original", "caption": "Standup highlights #reclip", **options}
    response = web.post("/api/social/publications", json=body)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["publication"]["id"]


def publication(web, publication_id):
    response = web.get(f"/api/social/publications/{publication_id}")
    assert response.status_code == 200
    return response.get_json()["publication"]


def run_jobs(app):
    """Run the queued jobs here and now; the publishing jobs' results (posters and the like left out)."""
    queue = app.extensions["job_queue"]
    results = []
    while (task := queue.dequeue()) is not None:
        result = queue.execute(task)
        if task.name == "publish":
            results.append(result)
    return results


def stored_text(*tables):
    """Every value of every row of the tables, as one string (to look for plaintext tokens in)."""
    return " ".join(str(value) for table in tables for row in db.session.execute(text(f"SELECT * FROM {table}"))
                    for value in row)


def requests_to(double, path, method=None):
    """The requests the double saw whose path ends with `path` (and of that method)."""
    return [r for r in double.requests if r.path.endswith(path) and method in (None, r.method)]


def issued_tokens(double):
    """Every token the double handed out (Meta: user and Page tokens; TikTok: access and refresh tokens)."""
    return [*getattr(double, "tokens", {}), *getattr(double, "access_tokens", {}),
            *getattr(double, "refresh_tokens", {})]


def flashes(page):
    return " ".join(re.sub(r"\s+", " ", m) for m in re.findall(r'class="flash[^"]*"[^>]*>(.*?)<', page, re.S))


def publication_row(publication_id):
    db.session.expire_all()
    return db.session.get(Publication, publication_id)


def connection(provider):
    db.session.expire_all()
    return db.session.scalar(db.select(SocialConnection).where(SocialConnection.provider == provider))


# --- connecting -----------------------------------------------------------------------------------------

def test_meta_connect_asks_with_pkce_and_saves_pages_and_instagram_accounts(web, meta_double):
    dialog_url, query = consent(web, "meta", "allow")
    asked = parse_qs(urlsplit(dialog_url).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["code_challenge"][0]
    assert asked["state"][0] and asked["redirect_uri"] == [f"{web.flask.application.config['PUBLIC_BASE_URL']}"
                                                         "/settings/connections/meta/callback"]

    page = finish(web, "meta", query)

    assert "Connected Facebook and Instagram: 3 places to post to." in page
    assert {(d["platform"], d["name"]) for d in destinations(web)} == {
        ("facebook", "Reclip Test Page"), ("facebook", "Side Project Page"), ("instagram", "@reclip.test")}
    exchange = requests_to(meta_double, "/oauth/access_token")
    assert len(exchange) == 2 and all(r.status == 200 for r in exchange)  # the code, then fb_exchange_token
    saved = connection("meta")
    long_lived = next(t for t in meta_double.tokens.values() if t.kind == "user" and t.long_lived)
    assert crypto.decrypt(saved.access_token) == long_lived.value
    assert saved.status == "active" and saved.external_user_id == meta_double.user["id"]


def test_tiktok_connect_exchanges_the_code_and_reads_the_user(web, tiktok_double):
    dialog_url, query = consent(web, "tiktok", "authorize")
    assert parse_qs(urlsplit(dialog_url).query)["scope"] == ["user.info.basic,video.upload"]

    page = finish(web, "tiktok", query)

    assert "Connected TikTok: 1 place to post to." in page
    saved = connection("tiktok")
    assert saved.external_user_id == tiktok_double.user["open_id"] and saved.display_name == "Reclip Tester"
    assert crypto.decrypt(saved.access_token) in tiktok_double.access_tokens
    assert crypto.decrypt(saved.refresh_token) in tiktok_double.refresh_tokens
    assert [d["platform"] for d in destinations(web)] == ["tiktok"]


def test_tokens_are_encrypted_at_rest_and_never_in_an_answer(web, meta_double, tiktok_double, clip):
    connect(web, "meta")
    connect(web, "tiktok")
    tokens = issued_tokens(meta_double) + issued_tokens(tiktok_double)
    assert len(tokens) >= 5

    stored = stored_text("social_connections", "social_destinations")
    answers = " ".join(web.get(url).get_data(as_text=True) for url in (
        "/api/social/destinations", "/settings/connections",
        f"/api/social/publications?target_type=clip&target_id={clip.id}"))

    assert not [t for t in tokens if t in stored]
    assert not [t for t in tokens if t in answers]


@pytest.mark.parametrize("provider", ["meta", "tiktok"])
def test_cancelling_on_the_consent_page_saves_nothing(web, provider):
    _dialog, query = consent(web, provider, "cancel")

    page = finish(web, provider, query)

    assert "was not connected" in flashes(page)
    assert connection(provider) is None and destinations(web) == []


@pytest.mark.parametrize("provider", ["meta", "tiktok"])
def test_a_forged_state_is_refused_and_saves_nothing(web, provider, meta_double, tiktok_double):
    _dialog, query = consent(web, provider, "allow" if provider == "meta" else "authorize")
    forged = re.sub(r"state=[^&]+", "state=forged-by-someone-else", query)

    page = finish(web, provider, forged)

    assert "was not connected" in flashes(page)
    assert connection(provider) is None and destinations(web) == []
    double = meta_double if provider == "meta" else tiktok_double
    assert not requests_to(double, "/oauth/access_token") and not requests_to(double, "/v2/oauth/token/")


# --- publishing ------------------------------------------------------------------------------------------

def test_a_vertical_clip_is_published_as_an_instagram_reel(app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "instagram", shape="vertical")
    assert run_jobs(app) == ["published"]

    [reel] = meta_double.published
    assert reel["video_url"].startswith(f"{app.config['PUBLIC_BASE_URL']}/social/media/")
    assert reel["video_url"].endswith(".mp4")
    assert (reel["width"], reel["height"], reel["video_codec"], reel["audio_codec"]) == (1080, 1920, "h264", "aac")
    assert reel["caption"] == "Standup highlights #reclip"
    shown = publication(web, publication_id)
    assert shown["status"] == "published" and shown["permalink"] == reel["permalink"]
    assert shown["message"] == "Published on Instagram"


def test_a_clip_is_published_as_a_facebook_page_video_with_the_page_token(app, web, meta_double, clip):
    connect(web, "meta")
    page_id = meta_double.pages[0]["id"]
    publication_id = post(web, clip, "facebook", destination_id=destination_id(web, "facebook", "Reclip Test Page"))

    assert run_jobs(app) == ["published"]

    [video] = meta_double.published
    assert video["account_id"] == page_id and video["caption"] == "Standup highlights #reclip"
    upload = next(r for r in requests_to(meta_double, f"/{page_id}/videos", "POST"))
    assert upload.status == 200
    shown = publication(web, publication_id)
    assert shown["status"] == "published" and shown["permalink"] == video["permalink"]


def test_a_square_clip_goes_to_the_tiktok_inbox_in_declared_chunks(app, web, tiktok_double, clip):
    connect(web, "tiktok")
    publication_id = post(web, clip, "tiktok", shape="square")

    assert run_jobs(app) == ["inbox"]

    [draft] = tiktok_double.published
    assert draft["mode"] == "inbox" and (draft["width"], draft["height"]) == (1080, 1080)
    [init] = requests_to(tiktok_double, "/v2/post/publish/inbox/video/init/")
    assert init.status == 200
    assert [r.status for r in requests_to(tiktok_double, "/upload/video/")] == [201]  # under 5 MB: one chunk
    shown = publication(web, publication_id)
    assert shown["status"] == "inbox" and shown["message"].startswith("In your TikTok inbox")


@pytest.mark.parametrize("tiktok_direct_post", [True])
def test_a_direct_tiktok_post_uses_a_privacy_level_from_creator_info(app, web, tiktok_double, clip):
    connect(web, "tiktok")
    tiktok_id = destination_id(web, "tiktok")
    answer = web.get(f"/api/social/destinations/{tiktok_id}/creator-info")
    assert answer.status_code == 200, answer.get_json()
    options = answer.get_json()["creator_info"]
    assert options["privacy_level_options"] == tiktok_double.privacy_level_options
    publication_id = post(web, clip, "tiktok", privacy_level="SELF_ONLY", caption="Standup #reclip")

    assert run_jobs(app) == ["published"]

    [posted] = tiktok_double.published
    assert posted["mode"] == "direct" and posted["privacy_level"] == "SELF_ONLY"
    assert posted["caption"] == "Standup #reclip"
    assert publication(web, publication_id)["status"] == "published"


@pytest.mark.parametrize("megabytes", [4.5, 7, 23.5])
def test_tiktok_uploads_are_cut_as_the_media_transfer_guide_says(app, web, tiktok_double, megabytes):
    connect(web, "tiktok")
    size = int(megabytes * 1024 * 1024)
    video = bytes(range(256)) * (size // 256) + b"\0" * (size % 256)

    publish_id, upload_url = tiktok.init_upload(crypto.decrypt(connection("tiktok").access_token), size)
    parts = tiktok.chunks(size)
    for first, last in parts:
        tiktok.put_chunk(upload_url, video[first:last + 1], first, last, size)

    assert [r.status for r in requests_to(tiktok_double, "/upload/video/")] == [206] * (len(parts) - 1) + [201]
    assert bytes(tiktok_double.posts[publish_id].received) == video


# --- refused and expired tokens --------------------------------------------------------------------------

def test_a_revoked_meta_grant_fails_the_post_in_words_and_asks_to_reconnect(app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "instagram")
    meta_double.revoke_grant()  # the person removed Reclip in their Facebook settings

    assert run_jobs(app) == ["failed"]

    failed = publication(web, publication_id)
    assert failed["status"] == "failed" and "Instagram refused the connection" in failed["error"]
    assert "Reconnect" in failed["message"]
    assert {d["status"] for d in destinations(web)} == {"needs_reconnect"}
    assert connection("meta").status == "needs_reconnect"
    assert not meta_double.containers


def test_a_failed_post_goes_through_when_tried_again_after_reconnecting(app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "instagram")
    meta_double.revoke_grant()
    run_jobs(app)

    connect(web, "meta")  # a new grant: the connection is active again
    assert {d["status"] for d in destinations(web)} == {"active"}
    retried = web.post(f"/api/social/publications/{publication_id}/retry")
    assert retried.status_code == 202

    assert run_jobs(app) == ["published"]
    assert publication(web, publication_id)["status"] == "published" and len(meta_double.published) == 1


def test_an_expired_tiktok_access_token_is_refreshed_and_the_post_goes_through(app, web, tiktok_double, clip):
    connect(web, "tiktok")
    first_access, first_refresh = (crypto.decrypt(t) for t in (connection("tiktok").access_token,
                                                               connection("tiktok").refresh_token))
    publication_id = post(web, clip, "tiktok")
    tiktok_double.expire_access_tokens()

    assert run_jobs(app) == ["inbox"]

    assert publication(web, publication_id)["status"] == "inbox"
    refreshed = connection("tiktok")
    assert refreshed.status == "active"
    assert crypto.decrypt(refreshed.access_token) not in (first_access, None)
    assert crypto.decrypt(refreshed.refresh_token) != first_refresh  # TikTok rotates refresh tokens
    assert [r.status for r in requests_to(tiktok_double, "/v2/oauth/token/")] == [200, 200]  # code, then refresh


# --- the platforms refusing the video ---------------------------------------------------------------------

def test_a_container_instagram_could_not_use_fails_in_words_and_try_again_makes_a_new_one(
        app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "instagram")
    meta_double.next_container_outcome("ERROR", "Error: Injected failure (2207001)")

    assert run_jobs(app) == ["failed"]
    failed = publication(web, publication_id)
    assert failed["error"] == "Instagram could not use the video: Error: Injected failure (2207001)."

    assert web.post(f"/api/social/publications/{publication_id}/retry").status_code == 202
    assert run_jobs(app) == ["published"]
    assert len(meta_double.containers) == 2 and len(meta_double.published) == 1


def test_a_video_facebook_could_not_process_fails_in_words_and_try_again_uploads_it_anew(
        app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "facebook")
    meta_double.next_video_error("Injected processing failure")

    assert run_jobs(app) == ["failed"]
    failed = publication(web, publication_id)
    assert failed["error"] == "Facebook could not process the video: Injected processing failure"

    web.post(f"/api/social/publications/{publication_id}/retry")
    assert run_jobs(app) == ["published"]
    assert len(meta_double.videos) == 2 and len(meta_double.published) == 1


def test_try_again_after_facebook_took_the_video_does_not_upload_it_a_second_time(app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "facebook")
    meta_double.fail_next(25, status=500, retry_after=0, path=f"/{meta_double.version}/120")  # every status poll, every run

    assert run_jobs(app) == [None, None, None, None, "failed"]  # 5 runs of 5 tries each, then it gives up
    assert publication(web, publication_id)["status"] == "failed"

    web.post(f"/api/social/publications/{publication_id}/retry")
    assert run_jobs(app) == ["published"]
    assert len(meta_double.videos) == 1 and len(meta_double.published) == 1


def test_a_post_tiktok_failed_says_why_and_try_again_uploads_it_anew(app, web, tiktok_double, clip):
    connect(web, "tiktok")
    publication_id = post(web, clip, "tiktok")
    tiktok_double.next_post_failure("frame_rate_check_failed")

    assert run_jobs(app) == ["failed"]
    assert publication(web, publication_id)["message"] == "Failed: TikTok needs 23 to 60 frames a second."

    web.post(f"/api/social/publications/{publication_id}/retry")
    assert run_jobs(app) == ["inbox"]
    assert len(requests_to(tiktok_double, "/inbox/video/init/")) == 2 and len(tiktok_double.published) == 1


def test_a_tiktok_authorization_revoked_at_tiktok_asks_to_reconnect(app, web, tiktok_double, clip):
    connect(web, "tiktok")
    publication_id = post(web, clip, "tiktok")
    tiktok_double.revoke()  # the person removed Reclip in TikTok: the refresh token is dead too

    assert run_jobs(app) == ["failed"]

    assert "TikTok refused the connection" in publication(web, publication_id)["error"]
    assert connection("tiktok").status == "needs_reconnect"
    assert [d["status"] for d in destinations(web)] == ["needs_reconnect"]


def test_a_page_video_whose_answer_is_lost_is_not_sent_twice(app, web, meta_double, clip):
    connect(web, "meta")
    page_id = meta_double.pages[0]["id"]
    publication_id = post(web, clip, "facebook", destination_id=destination_id(web, "facebook", "Reclip Test Page"))
    meta_double.fail_next(1, status=502, retry_after=None, path=f"/{page_id}/videos", after=True)  # taken, answer lost

    assert run_jobs(app) == ["failed"]

    assert len(requests_to(meta_double, f"/{page_id}/videos", "POST")) == 1 and len(meta_double.videos) == 1
    assert "may have been posted all the same" in publication(web, publication_id)["message"]


def test_a_page_video_refused_with_503_is_sent_again(app, web, meta_double, clip):
    connect(web, "meta")
    page_id = meta_double.pages[0]["id"]
    post(web, clip, "facebook", destination_id=destination_id(web, "facebook", "Reclip Test Page"))
    meta_double.fail_next(1, status=503, retry_after=1, path=f"/{page_id}/videos")  # refused before doing it

    assert run_jobs(app) == ["published"]
    assert len(requests_to(meta_double, f"/{page_id}/videos", "POST")) == 2 and len(meta_double.published) == 1


# --- the platforms asking to wait -------------------------------------------------------------------------

def test_instagram_answering_503_with_retry_after_is_waited_out(app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "instagram")
    meta_double.fail_next(2, status=503, retry_after=1, path="/media")

    started = time.monotonic()
    assert run_jobs(app) == ["published"]

    assert time.monotonic() - started >= 2  # twice Retry-After: 1
    assert [r.status for r in requests_to(meta_double, "/17841400000000001/media", "POST")] == [503, 503, 200]
    assert len(meta_double.containers) == 1 and publication(web, publication_id)["status"] == "published"


def test_tiktok_answering_429_with_retry_after_is_waited_out(app, web, tiktok_double, clip):
    connect(web, "tiktok")
    publication_id = post(web, clip, "tiktok")
    tiktok_double.fail_next(1, status=429, retry_after=1, path="/inbox/video/init/")

    assert run_jobs(app) == ["inbox"]

    assert [r.status for r in requests_to(tiktok_double, "/inbox/video/init/")] == [429, 200]
    assert publication(web, publication_id)["status"] == "inbox" and len(tiktok_double.posts) == 1


def test_a_throttled_graph_call_is_tried_again_later_not_failed(app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "instagram")
    meta_double.throttle_next(1, code=4)  # Meta's documented shape: #4 with HTTP 400 and no Retry-After

    assert run_jobs(app) == [None, "published"]  # None: the first run asked the queue to try again later

    assert publication(web, publication_id)["status"] == "published" and len(meta_double.containers) == 1


# --- a job that stops half-way ----------------------------------------------------------------------------

def test_an_instagram_job_stopped_after_its_container_resumes_with_the_same_container(app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "instagram")
    # Every try of the container's status fails: the run gives up after its container was made...
    meta_double.fail_next(5, status=500, retry_after=0, path="/179")

    results = run_jobs(app)  # ...and the queue runs the job again, which goes on from the container

    assert results == [None, "published"]  # None: the first run raised to be retried
    assert len(requests_to(meta_double, "/17841400000000001/media", "POST")) == 1
    assert len(meta_double.containers) == 1 and len(meta_double.published) == 1
    assert publication(web, publication_id)["status"] == "published"


def test_a_tiktok_job_stopped_mid_upload_resumes_without_a_second_init(app, web, tiktok_double, clip):
    connect(web, "tiktok")
    publication_id = post(web, clip, "tiktok")
    tiktok_double.fail_next(5, status=500, retry_after=0, path="/upload/video/")

    assert run_jobs(app) == [None, "inbox"]

    assert len(requests_to(tiktok_double, "/inbox/video/init/")) == 1 and len(tiktok_double.posts) == 1
    assert [r.status for r in requests_to(tiktok_double, "/upload/video/")][-1] == 201
    assert len(tiktok_double.published) == 1 and publication(web, publication_id)["status"] == "inbox"


def test_a_worker_killed_while_instagram_processes_resumes_with_the_same_container(
        app, web, meta_double, clip, tmp_path, monkeypatch):
    connect(web, "meta")
    meta_double.processing_polls = 10 ** 6  # the container stays IN_PROGRESS while the worker polls it
    for name in ("META_APP_ID", "META_APP_SECRET", "META_GRAPH_URL", "META_OAUTH_URL", "SOCIAL_POLL_SECONDS"):
        monkeypatch.setenv(name, str(app.config[name]))  # the consumer builds its app from the environment
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", ",".join(app.config["TOKEN_ENCRYPTION_KEYS"]))
    consumers = Consumers(app, tmp_path)
    try:
        worker = consumers.start()
        publication_id = post(web, clip, "instagram")
        wait_for(lambda: requests_to(meta_double, "/" + next(iter(meta_double.containers), "none")), 60,
                 message=f"the worker to poll the container\n{consumers.logs()}")
        worker.kill()  # SIGKILL mid-job
    finally:
        consumers.stop_all()
    row = publication_row(publication_id)
    assert (row.status, row.step, row.attempts) == ("processing", "container", 1)

    meta_double.processing_polls = 0
    time.sleep(STALE_SECONDS + 0.5)  # no heartbeat for that long: the job counts as stalled
    assert publish.recover_stalled() == [publication_id]
    assert set(run_jobs(app)) == {"published", "skipped"}  # skipped: the killed run's copies in the queue

    assert len(requests_to(meta_double, "/17841400000000001/media", "POST")) == 1
    assert len(meta_double.containers) == 1 and len(meta_double.published) == 1
    assert publication_row(publication_id).attempts == 2


def test_a_lost_answer_to_media_publish_neither_fails_the_post_nor_publishes_twice(app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "instagram")
    # Instagram publishes the Reel, but its answer is lost on the way (a 503 in its place).
    meta_double.fail_next(1, status=503, retry_after=0, path="/media_publish", after=True)

    assert run_jobs(app) == ["published"]

    assert len(meta_double.published) == 1 and len(meta_double.containers) == 1
    assert publication(web, publication_id)["status"] == "published"


def test_running_a_published_job_again_does_nothing(app, web, meta_double, clip):
    from webapp.jobs import enqueue_publish
    connect(web, "meta")
    publication_id = post(web, clip, "instagram")
    run_jobs(app)
    seen = len(meta_double.requests)

    with app.test_request_context():
        enqueue_publish(publication_id)
    assert run_jobs(app) == ["skipped"]
    assert len(meta_double.requests) == seen and len(meta_double.published) == 1


# --- keys and disconnecting -------------------------------------------------------------------------------

def test_rotated_keys_keep_the_connection_working_and_the_old_key_can_go(app, runner, web, meta_double, clip):
    connect(web, "meta")
    app.config["TOKEN_ENCRYPTION_KEYS"] = [NEW_KEY, OLD_KEY]

    result = runner.invoke(args=["social", "rotate-keys"])

    assert result.exit_code == 0, result.output
    app.config["TOKEN_ENCRYPTION_KEYS"] = [NEW_KEY]
    for row in db.session.scalars(db.select(SocialDestination)):
        Fernet(NEW_KEY).decrypt(row.page_token.encode())  # readable with the new key alone
    publication_id = post(web, clip, "facebook")
    assert run_jobs(app) == ["published"]
    assert publication(web, publication_id)["status"] == "published"


def test_disconnecting_meta_revokes_the_grant_and_deletes_tokens_and_destinations(app, web, meta_double):
    connect(web, "meta")

    page = web.post(f"/settings/connections/{connection('meta').id}/disconnect")

    assert page.status_code == 302
    assert [r.status for r in requests_to(meta_double, "/me/permissions", "DELETE")] == [200]
    assert all(grant.revoked for grant in meta_double.grants)
    assert connection("meta") is None and db.session.scalars(db.select(SocialDestination)).all() == []
    assert destinations(web) == []


def test_disconnecting_tiktok_revokes_the_token_and_deletes_it(app, web, tiktok_double):
    connect(web, "tiktok")

    web.post(f"/settings/connections/{connection('tiktok').id}/disconnect")

    assert [r.status for r in requests_to(tiktok_double, "/v2/oauth/revoke/")] == [200]
    assert all(grant.revoked for grant in tiktok_double.grants)
    assert connection("tiktok") is None and destinations(web) == []


def test_a_post_waiting_when_its_account_is_disconnected_fails_in_words(app, web, meta_double, clip):
    connect(web, "meta")
    publication_id = post(web, clip, "instagram")

    web.post(f"/settings/connections/{connection('meta').id}/disconnect")

    assert run_jobs(app) == ["failed"]
    assert publication(web, publication_id)["error"] == "The Instagram account was disconnected."
    assert not meta_double.containers
