"""The contract doubles of Meta and TikTok (tests/doubles/) over real HTTP with plain `requests`: that they
keep the documented rules the app's publishing tests rely on (OAuth code/state/PKCE, token expiry and
revocation, Instagram containers fetched and probed, TikTok's chunk rules and rate limit)."""
import base64
import hashlib
import os
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.doubles.media import probe
from tests.doubles.graph import parse_fields
from tests.doubles.meta import MetaDouble
from tests.doubles.rules import MB, caption_problem, chunk_problem
from tests.doubles.tiktok import TikTokDouble
from tests.range_server import RangeServer
from webapp.media import generate_test_media, run_ffmpeg

REDIRECT = "http://127.0.0.1:5999/connections/callback"
META_SCOPES = "pages_show_list,pages_read_engagement,pages_manage_posts,instagram_basic,instagram_content_publish"


# --- media and the server that hosts it (as the app's public share link would) ------------------------------
@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """Short real videos: vertical 1080x1920 H.264/AAC 4 s, 320x240 4 s, 320x240 1 s, MPEG-4 Part 2."""
    directory = tmp_path_factory.mktemp("doubles-media")
    generate_test_media(directory / "vertical.mp4", 4, size="1080x1920")
    generate_test_media(directory / "small.mp4", 4, size="320x240")
    generate_test_media(directory / "short.mp4", 1, size="320x240")
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=4", "-c:v", "mpeg4",
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(directory / "mpeg4.mp4")])
    return {path.stem: path.read_bytes() for path in directory.iterdir()}


@pytest.fixture(scope="module")
def host(media):
    with RangeServer() as server:
        for name, data in media.items():
            server.add_file(f"/{name}.mp4", data, "video/mp4")
        server.add_redirect("/share/vertical", "/vertical.mp4")
        yield server


@pytest.fixture
def meta():
    double = MetaDouble(redirect_uris=[REDIRECT], processing_polls=1).start()
    yield double
    double.stop()


@pytest.fixture
def tiktok():
    double = TikTokDouble(redirect_uris=[REDIRECT], processing_polls=1).start()
    yield double
    double.stop()


def until(check, timeout=15):
    """Call check() until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def consent(page_url, params, action):
    """Open a double's consent page and press a button; the redirect's (location, query)."""
    page = requests.get(page_url, params=params)
    assert page.status_code == 200, page.text
    form_action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.text).group(1)
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page_url))
    answer = requests.post(origin + form_action, data={"request_id": request_id, "action": action},
                           allow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


# --- Meta ------------------------------------------------------------------------------------------------
def meta_dialog_params(meta, **extra):
    return {"client_id": meta.app_id, "redirect_uri": REDIRECT, "state": "st-123", "response_type": "code",
            "scope": META_SCOPES, **extra}


def meta_code(meta, **extra):
    _location, query = consent(meta.oauth_url + "/dialog/oauth", meta_dialog_params(meta, **extra), "allow")
    return query["code"]


def meta_exchange(meta, code, **extra):
    return requests.get(meta.graph_url + "/oauth/access_token", params={
        "client_id": meta.app_id, "client_secret": meta.app_secret, "redirect_uri": REDIRECT, "code": code, **extra})


def meta_connect(meta):
    """The whole documented connect: dialog, code exchange, long-lived token, Pages; (user token, page)."""
    short = meta_exchange(meta, meta_code(meta)).json()["access_token"]
    long = requests.get(meta.graph_url + "/oauth/access_token", params={
        "grant_type": "fb_exchange_token", "client_id": meta.app_id, "client_secret": meta.app_secret,
        "fb_exchange_token": short}).json()
    pages = requests.get(meta.graph_url + "/me/accounts", params={
        "access_token": long["access_token"],
        "fields": "id,name,access_token,tasks,instagram_business_account{id,username}"}).json()["data"]
    return long["access_token"], next(p for p in pages if "instagram_business_account" in p)


def meta_error(response):
    return response.json()["error"]


def test_meta_consent_page_and_code_flow_pass_the_state_through(meta):
    page = requests.get(meta.oauth_url + "/dialog/oauth", params=meta_dialog_params(meta))
    assert page.status_code == 200
    assert "Reclip wants to access your Pages" in page.text
    assert ">Allow</button>" in page.text and ">Cancel</button>" in page.text
    assert "instagram_content_publish" in page.text

    location, query = consent(meta.oauth_url + "/dialog/oauth", meta_dialog_params(meta), "allow")
    assert location.startswith(REDIRECT + "?")
    assert query["state"] == "st-123" and query["code"]

    token = meta_exchange(meta, query["code"]).json()
    assert token["token_type"] == "bearer" and token["expires_in"] == 3600
    long = requests.post(meta.graph_url + "/oauth/access_token", data={
        "grant_type": "fb_exchange_token", "client_id": meta.app_id, "client_secret": meta.app_secret,
        "fb_exchange_token": token["access_token"]}).json()
    assert long["expires_in"] == 5183944  # about 60 days
    me = requests.get(meta.graph_url + "/me", params={"fields": "id,name"},
                      headers={"Authorization": "Bearer " + long["access_token"]}).json()
    assert me == {"id": meta.user["id"], "name": meta.user["name"]}

    accounts = requests.get(meta.graph_url + "/me/accounts", params={
        "access_token": long["access_token"],
        "fields": "id,name,access_token,tasks,instagram_business_account{id,username}"}).json()
    first, second = accounts["data"]
    assert first["instagram_business_account"] == {"id": "17841400000000001", "username": "reclip.test"}
    assert "CREATE_CONTENT" in first["tasks"] and first["access_token"] != long["access_token"]
    assert "instagram_business_account" not in second
    ig = requests.get(f"{meta.graph_url}/17841400000000001", params={
        "fields": "id,username", "access_token": long["access_token"]}).json()
    assert ig == {"id": "17841400000000001", "username": "reclip.test"}
    debug = requests.get(meta.graph_url + "/debug_token", params={
        "input_token": first["access_token"], "access_token": meta.app_token}).json()["data"]
    assert debug["is_valid"] and debug["type"] == "PAGE" and debug["expires_at"] == 0


def test_meta_cancel_redirects_with_user_denied(meta):
    _location, query = consent(meta.oauth_url + "/dialog/oauth", meta_dialog_params(meta), "cancel")
    assert query == {"error_reason": "user_denied", "error": "access_denied",
                     "error_description": "Permissions error.", "state": "st-123"}


def test_meta_dialog_refuses_an_unregistered_redirect_uri_or_app_id(meta):
    wrong_uri = requests.get(meta.oauth_url + "/dialog/oauth", allow_redirects=False,
                             params=meta_dialog_params(meta, redirect_uri=REDIRECT + "/"))
    assert wrong_uri.status_code == 400 and "URL blocked" in wrong_uri.text and "Location" not in wrong_uri.headers
    wrong_app = requests.get(meta.oauth_url + "/dialog/oauth", params=meta_dialog_params(meta, client_id="999"))
    assert wrong_app.status_code == 400 and "Invalid App ID" in wrong_app.text
    other_version = requests.get(meta.base_url + "/v19.0/me")
    assert meta_error(other_version)["code"] == 2500


def test_meta_code_is_single_use_bound_to_its_redirect_uri_and_short_lived(meta):
    code = meta_code(meta)
    mismatch = meta_exchange(meta, code, redirect_uri=REDIRECT + "?x=1")
    assert mismatch.status_code == 400 and meta_error(mismatch)["error_subcode"] == 36008
    assert meta_exchange(meta, code).status_code == 200
    reused = meta_exchange(meta, code)
    assert meta_error(reused)["error_subcode"] == 36009

    late = meta_code(meta)
    meta.advance(601)
    assert meta_error(meta_exchange(meta, late))["error_subcode"] == 36007
    assert meta_error(meta_exchange(meta, late, client_secret="nope"))["code"] == 1


def test_meta_pkce_verifier_must_match_the_challenge(meta):
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = meta_code(meta, code_challenge=challenge, code_challenge_method="S256")
    assert meta_error(meta_exchange(meta, code, code_verifier="w" * 50))["code"] == 100
    code = meta_code(meta, code_challenge=challenge, code_challenge_method="S256")
    assert meta_exchange(meta, code, code_verifier=verifier).json()["token_type"] == "bearer"


def test_meta_reel_is_fetched_probed_finished_and_published(meta, host):
    user_token, page = meta_connect(meta)
    ig_id = page["instagram_business_account"]["id"]
    created = requests.post(f"{meta.graph_url}/{ig_id}/media", data={
        "media_type": "REELS", "video_url": host.url("/share/vertical"), "caption": "Our meeting #reclip",
        "access_token": user_token})
    container = created.json()["id"]
    early = requests.post(f"{meta.graph_url}/{ig_id}/media_publish",
                          params={"creation_id": container, "access_token": user_token})
    assert early.status_code == 400
    assert (meta_error(early)["code"], meta_error(early)["error_subcode"]) == (9007, 2207027)

    def status():
        return requests.get(f"{meta.graph_url}/{container}", params={
            "fields": "status_code,status", "access_token": user_token}).json()

    seen = [status()["status_code"]]
    seen.append(until(lambda: (s := status()["status_code"]) != "IN_PROGRESS" and s))
    assert seen == ["IN_PROGRESS", "FINISHED"]
    assert "/vertical.mp4" in host.paths_requested()  # the redirect was followed, as curl -L would

    published = requests.post(f"{meta.graph_url}/{ig_id}/media_publish",
                              params={"creation_id": container, "access_token": user_token}).json()
    media = requests.get(f"{meta.graph_url}/{published['id']}", params={
        "fields": "permalink,media_product_type", "access_token": user_token}).json()
    assert re.fullmatch(r"https://www\.instagram\.com/reel/[\w-]+/", media["permalink"])
    assert media["media_product_type"] == "REELS"
    assert status()["status_code"] == "PUBLISHED"
    record = meta.published[-1]
    assert (record["width"], record["height"]) == (1080, 1920)
    assert (record["video_codec"], record["audio_codec"]) == ("h264", "aac")
    assert record["caption"] == "Our meeting #reclip" and abs(record["duration"] - 4) < 0.2
    limit = requests.get(f"{meta.graph_url}/{ig_id}/content_publishing_limit", params={
        "fields": "quota_usage,config", "access_token": user_token}).json()
    assert limit == {"data": [{"quota_usage": 1, "config": {"quota_total": 50, "quota_duration": 86400}}]}


@pytest.mark.parametrize("name, rule", [("short", "at least 3 seconds"), ("mpeg4", "H.264 or HEVC")])
def test_meta_reel_breaking_the_spec_ends_in_error_in_words(meta, host, name, rule):
    user_token, page = meta_connect(meta)
    ig_id = page["instagram_business_account"]["id"]
    container = requests.post(f"{meta.graph_url}/{ig_id}/media", params={
        "media_type": "REELS", "video_url": host.url(f"/{name}.mp4"), "access_token": user_token}).json()["id"]
    body = until(lambda: (b := requests.get(f"{meta.graph_url}/{container}", params={
        "fields": "status_code,status", "access_token": user_token}).json())["status_code"] != "IN_PROGRESS" and b)
    assert body["status_code"] == "ERROR" and rule in body["status"]
    refused = requests.post(f"{meta.graph_url}/{ig_id}/media_publish",
                            params={"creation_id": container, "access_token": user_token})
    assert meta_error(refused)["error_subcode"] == 2207032


def test_meta_caption_limits_are_refused_in_words(meta, host):
    user_token, page = meta_connect(meta)
    ig_id = page["instagram_business_account"]["id"]
    for caption, words in [("x" * 2201, "2,201 characters"), (" ".join(f"#t{i}" for i in range(31)), "31 hashtags")]:
        refused = requests.post(f"{meta.graph_url}/{ig_id}/media", data={
            "media_type": "REELS", "video_url": host.url("/vertical.mp4"), "caption": caption,
            "access_token": user_token})
        assert refused.status_code == 400
        assert meta_error(refused)["code"] == 100 and words in meta_error(refused)["error_user_msg"]
    assert caption_problem("x" * 2200) is None
    assert meta.containers == {}


def test_meta_publishing_limit_and_media_type(meta, host):
    meta.publish_quota = 1
    user_token, page = meta_connect(meta)
    ig_id = page["instagram_business_account"]["id"]
    video = requests.post(f"{meta.graph_url}/{ig_id}/media", data={
        "media_type": "VIDEO", "video_url": host.url("/small.mp4"), "access_token": user_token})
    assert meta_error(video)["code"] == 100
    meta.processing_polls = 0
    containers = [requests.post(f"{meta.graph_url}/{ig_id}/media", data={
        "media_type": "REELS", "video_url": host.url("/small.mp4"), "access_token": user_token}).json()["id"]
        for _ in range(2)]
    until(lambda: all(meta.containers[c].done for c in containers))
    first = requests.post(f"{meta.graph_url}/{ig_id}/media_publish",
                          data={"creation_id": containers[0], "access_token": user_token})
    assert first.status_code == 200
    second = requests.post(f"{meta.graph_url}/{ig_id}/media_publish",
                           data={"creation_id": containers[1], "access_token": user_token})
    assert (meta_error(second)["code"], meta_error(second)["error_subcode"]) == (9, 2207042)


def test_meta_page_video_needs_the_page_token_and_becomes_ready(meta, host):
    user_token, page = meta_connect(meta)
    with_user_token = requests.post(f"{meta.graph_url}/{page['id']}/videos", data={
        "file_url": host.url("/vertical.mp4"), "description": "Clip", "access_token": user_token})
    assert with_user_token.status_code == 403 and meta_error(with_user_token)["code"] == 200
    video_id = requests.post(f"{meta.graph_url}/{page['id']}/videos", data={
        "file_url": host.url("/vertical.mp4"), "description": "Clip",
        "access_token": page["access_token"]}).json()["id"]

    def state():
        return requests.get(f"{meta.graph_url}/{video_id}", params={
            "fields": "status,permalink_url", "access_token": page["access_token"]}).json()

    assert state()["status"]["video_status"] == "processing"
    final = until(lambda: (s := state())["status"]["video_status"] != "processing" and s)
    assert final["status"]["video_status"] == "ready"
    assert final["permalink_url"] == f"/{page['id']}/videos/{video_id}/"
    assert (meta.published[-1]["platform"], meta.published[-1]["height"]) == ("facebook", 1920)


def test_meta_revoked_expired_and_failing_tokens(meta):
    user_token, page = meta_connect(meta)
    revoked = requests.delete(meta.graph_url + "/me/permissions", params={"access_token": user_token})
    assert revoked.json() == {"success": True}
    for token in (user_token, page["access_token"]):
        refused = requests.get(meta.graph_url + "/me", params={"access_token": token})
        assert refused.status_code == 400
        assert (meta_error(refused)["code"], meta_error(refused)["error_subcode"]) == (190, 458)
        assert "invalid_token" in refused.headers["WWW-Authenticate"]

    short = meta_exchange(meta, meta_code(meta)).json()["access_token"]
    meta.advance(3601)
    assert meta_error(requests.get(meta.graph_url + "/me", params={"access_token": short}))["error_subcode"] == 463

    fresh = meta_exchange(meta, meta_code(meta)).json()["access_token"]
    meta.fail_next(1, status=503, retry_after=2)
    failed = requests.get(meta.graph_url + "/me", params={"access_token": fresh})
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "2"
    assert meta_error(failed)["is_transient"] is True
    meta.throttle_next(1, code=4)
    throttled = requests.get(meta.graph_url + "/me", params={"access_token": fresh})
    assert meta_error(throttled)["code"] == 4 and "X-App-Usage" in throttled.headers
    assert requests.get(meta.graph_url + "/me", params={"access_token": fresh}).status_code == 200


def test_meta_resumable_upload_expiry_and_a_lost_publish_answer(meta, media):
    user_token, page = meta_connect(meta)
    ig_id = page["instagram_business_account"]["id"]
    session = requests.post(f"{meta.graph_url}/{ig_id}/media", data={
        "media_type": "REELS", "upload_type": "resumable", "access_token": user_token}).json()
    video = media["vertical"]
    uploaded = requests.post(session["uri"], data=video, headers={
        "Authorization": "OAuth " + user_token, "offset": "0", "file_size": str(len(video))})
    assert uploaded.json() == {"success": True, "message": "Upload successful."}
    container = session["id"]
    until(lambda: requests.get(f"{meta.graph_url}/{container}", params={
        "fields": "status_code", "access_token": user_token}).json()["status_code"] == "FINISHED")

    meta.fail_next(1, status=502, retry_after=None, path="/media_publish", after=True)
    lost = requests.post(f"{meta.graph_url}/{ig_id}/media_publish",
                         data={"creation_id": container, "access_token": user_token})
    assert lost.status_code == 502 and "Retry-After" not in lost.headers
    listed = requests.get(f"{meta.graph_url}/{ig_id}/media", params={
        "fields": "id,permalink", "access_token": user_token}).json()["data"]
    assert len(listed) == 1 and listed[0]["permalink"].startswith("https://www.instagram.com/reel/")
    again = requests.post(f"{meta.graph_url}/{ig_id}/media_publish",
                          data={"creation_id": container, "access_token": user_token})
    assert meta_error(again)["code"] == 100  # published once, whatever the app did not hear

    meta.next_container_outcome("ERROR", "Error: Injected failure (2207001)")
    failing = requests.post(f"{meta.graph_url}/{ig_id}/media", data={
        "media_type": "REELS", "video_url": "http://127.0.0.1:9/none.mp4", "access_token": user_token}).json()["id"]
    stale = requests.post(f"{meta.graph_url}/{ig_id}/media", data={
        "media_type": "REELS", "video_url": "http://127.0.0.1:9/none.mp4", "access_token": user_token}).json()["id"]
    until(lambda: meta.containers[failing].done and meta.containers[stale].done)

    def code(container_id):
        return requests.get(f"{meta.graph_url}/{container_id}", params={
            "fields": "status_code,status", "access_token": user_token}).json()

    until(lambda: code(failing)["status_code"] != "IN_PROGRESS")
    assert code(failing) == {"status_code": "ERROR", "status": "Error: Injected failure (2207001)", "id": failing}
    assert "could not be fetched" in until(lambda: (c := code(stale))["status_code"] == "ERROR" and c)["status"]
    meta.advance(24 * 3600 + 1)
    assert code(stale)["status_code"] == "EXPIRED"


def test_meta_sessions_end_when_the_user_removes_the_app_or_changes_password(meta):
    user_token, _page = meta_connect(meta)
    meta.invalidate_sessions()
    assert meta_error(requests.get(meta.graph_url + "/me", params={"access_token": user_token}))["error_subcode"] == 460
    other, _page = meta_connect(meta)
    meta.revoke_grant()
    assert meta_error(requests.get(meta.graph_url + "/me", params={"access_token": other}))["error_subcode"] == 458


def test_meta_fields_syntax():
    assert parse_fields("id,name,instagram_business_account{id,username},tasks") == {
        "id": None, "name": None, "instagram_business_account": ["id", "username"], "tasks": None}


# --- TikTok ----------------------------------------------------------------------------------------------
def tiktok_params(tiktok, **extra):
    return {"client_key": tiktok.client_key, "scope": "user.info.basic,video.upload,video.publish",
            "redirect_uri": REDIRECT, "state": "tt-state", "response_type": "code", **extra}


def tiktok_code(tiktok, **extra):
    _location, query = consent(tiktok.auth_url, tiktok_params(tiktok, **extra), "authorize")
    return query["code"]


def tiktok_token(tiktok, code, **extra):
    return requests.post(tiktok.api_url + "/v2/oauth/token/", data={
        "client_key": tiktok.client_key, "client_secret": tiktok.client_secret, "code": code,
        "grant_type": "authorization_code", "redirect_uri": REDIRECT, **extra})


def tiktok_connect(tiktok):
    return tiktok_token(tiktok, tiktok_code(tiktok)).json()


def bearer(token):
    return {"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/json; charset=UTF-8"}


def init(tiktok, token, size, chunk_size=None, count=1, direct=False, **extra):
    path = "/v2/post/publish/video/init/" if direct else "/v2/post/publish/inbox/video/init/"
    body = {"source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk_size or size,
                            "total_chunk_count": count}, **extra}
    return requests.post(tiktok.api_url + path, json=body, headers=bearer(token))


def put_chunk(upload_url, data, first, total, content_type="video/mp4"):
    return requests.put(upload_url, data=data, headers={
        "Content-Type": content_type, "Content-Range": f"bytes {first}-{first + len(data) - 1}/{total}"})


def fetch_status(tiktok, token, publish_id):
    return requests.post(tiktok.api_url + "/v2/post/publish/status/fetch/", json={"publish_id": publish_id},
                         headers=bearer(token)).json()["data"]


def final_status(tiktok, token, publish_id):
    return until(lambda: (d := fetch_status(tiktok, token, publish_id))["status"] != "PROCESSING_UPLOAD" and d)


def test_tiktok_login_passes_state_and_gives_bearer_tokens(tiktok):
    page = requests.get(tiktok.auth_url, params=tiktok_params(tiktok))
    assert "Reclip wants to access your TikTok account" in page.text
    assert ">Authorize</button>" in page.text and ">Cancel</button>" in page.text
    _location, query = consent(tiktok.auth_url, tiktok_params(tiktok), "authorize")
    assert query["state"] == "tt-state" and query["scopes"] == "user.info.basic,video.upload,video.publish"
    token = tiktok_token(tiktok, query["code"]).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 7200
    assert token["open_id"] and token["refresh_token"].startswith("rft.") and token["refresh_expires_in"] > 0
    assert token["scope"] == "user.info.basic,video.upload,video.publish"
    user = requests.get(tiktok.api_url + "/v2/user/info/", headers=bearer(token),
                        params={"fields": "open_id,union_id,avatar_url,display_name"}).json()
    assert user["error"]["code"] == "ok"
    assert user["data"]["user"]["display_name"] == "Reclip Tester"

    _location, denied = consent(tiktok.auth_url, tiktok_params(tiktok), "cancel")
    assert denied["error"] == "access_denied" and denied["state"] == "tt-state"


def test_tiktok_authorize_refuses_client_id_unregistered_redirects_and_space_separated_scopes(tiktok):
    params = tiktok_params(tiktok)
    params["client_id"] = params.pop("client_key")
    assert requests.get(tiktok.auth_url, params=params).status_code == 400
    wrong = requests.get(tiktok.auth_url, params=tiktok_params(tiktok, redirect_uri="https://evil.example/cb"),
                         allow_redirects=False)
    assert wrong.status_code == 400 and "Location" not in wrong.headers
    spaced = requests.get(tiktok.auth_url, params=tiktok_params(tiktok, scope="user.info.basic video.upload"),
                          allow_redirects=False)
    assert spaced.status_code == 302 and "error=invalid_scope" in spaced.headers["Location"]


def test_tiktok_code_reuse_and_pkce_follow_the_documented_hex_challenge(tiktok):
    code = tiktok_code(tiktok)
    assert "access_token" in tiktok_token(tiktok, code).json()
    reused = tiktok_token(tiktok, code)
    assert reused.status_code == 200  # TikTok answers OAuth errors with 200: the body says what failed
    assert reused.json()["error"] == "invalid_grant" and reused.json()["log_id"]
    with_id = requests.post(tiktok.api_url + "/v2/oauth/token/", data={
        "client_id": tiktok.client_key, "client_secret": tiktok.client_secret, "code": tiktok_code(tiktok),
        "grant_type": "authorization_code", "redirect_uri": REDIRECT})
    assert with_id.json()["error"] == "invalid_client"

    verifier = "A" * 64
    hex_challenge = hashlib.sha256(verifier.encode()).hexdigest()
    rfc_challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    code = tiktok_code(tiktok, code_challenge=rfc_challenge, code_challenge_method="S256")
    assert tiktok_token(tiktok, code, code_verifier=verifier).json()["error"] == "invalid_request"
    code = tiktok_code(tiktok, code_challenge=hex_challenge, code_challenge_method="S256")
    assert tiktok_token(tiktok, code, code_verifier="B" * 64).json()["error"] == "invalid_request"
    code = tiktok_code(tiktok, code_challenge=hex_challenge, code_challenge_method="S256")
    assert "access_token" in tiktok_token(tiktok, code, code_verifier=verifier).json()


def test_tiktok_expired_token_is_refreshed_with_a_rotated_refresh_token(tiktok):
    token = tiktok_connect(tiktok)
    tiktok.expire_access_tokens()
    refused = requests.get(tiktok.api_url + "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(token))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "access_token_invalid"
    refreshed = requests.post(tiktok.api_url + "/v2/oauth/token/", data={
        "client_key": tiktok.client_key, "client_secret": tiktok.client_secret, "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"]}).json()
    assert refreshed["access_token"] != token["access_token"] and refreshed["refresh_token"] != token["refresh_token"]
    again = requests.post(tiktok.api_url + "/v2/oauth/token/", data={
        "client_key": tiktok.client_key, "client_secret": tiktok.client_secret, "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"]}).json()
    assert again["error"] == "invalid_grant"
    ok = requests.get(tiktok.api_url + "/v2/user/info/", params={"fields": "open_id"}, headers=bearer(refreshed))
    assert ok.status_code == 200


def test_tiktok_revoked_token_is_refused(tiktok):
    token = tiktok_connect(tiktok)
    revoked = requests.post(tiktok.api_url + "/v2/oauth/revoke/", data={
        "client_key": tiktok.client_key, "client_secret": tiktok.client_secret, "token": token["access_token"]})
    assert revoked.status_code == 200 and revoked.json() == {}
    refused = init(tiktok, token, 1000)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "access_token_invalid"
    refresh = requests.post(tiktok.api_url + "/v2/oauth/token/", data={
        "client_key": tiktok.client_key, "client_secret": tiktok.client_secret, "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"]}).json()
    assert refresh["error"] == "invalid_grant"


@pytest.mark.parametrize("size, chunk, count, ok", [
    (3 * MB, 3 * MB, 1, True),                  # under 5 MB: one chunk, the whole file
    (3 * MB, 1 * MB, 3, False),                 # ... not cut in pieces
    (50_000_123, 10_000_000, 5, True),          # the guide's example: the trailing bytes join the last chunk
    (50_000_123, 10_000_000, 6, False),         # total_chunk_count is floor(size / chunk)
    (20 * MB, 4 * MB, 5, False),                # chunks are at least 5 MB
    (200 * MB, 65 * MB, 3, False),              # ... and at most 64 MB
    (100 * MB, 64 * MB, 1, True),               # the final chunk may reach 128 MB
    (200 * MB, 100 * MB, 2, False),
    (5 * MB * 1001, 5 * MB, 1001, False),       # at most 1000 chunks
    (5 * 1024 * MB, 64 * MB, 80, False),        # at most 4 GB
])
def test_tiktok_chunk_rules(size, chunk, count, ok):
    assert (chunk_problem(size, chunk, count) is None) is ok


def test_tiktok_init_refuses_a_bad_chunk_size_in_words(tiktok):
    token = tiktok_connect(tiktok)
    refused = init(tiktok, token, 20 * MB, 1 * MB, 20)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_params" and "5 MB" in refused.json()["error"]["message"]


def test_tiktok_inbox_upload_of_one_chunk_reaches_the_inbox(tiktok, media):
    token = tiktok_connect(tiktok)
    video = media["vertical"]
    answer = init(tiktok, token, len(video)).json()
    assert answer["error"]["code"] == "ok" and answer["data"]["publish_id"].startswith("v_inbox_file~")
    upload_url = answer["data"]["upload_url"]
    assert fetch_status(tiktok, token, answer["data"]["publish_id"])["status"] == "PROCESSING_UPLOAD"
    assert put_chunk(upload_url, video, 0, len(video)).status_code == 201
    assert final_status(tiktok, token, answer["data"]["publish_id"])["status"] == "SEND_TO_USER_INBOX"
    record = tiktok.published[-1]
    assert (record["width"], record["height"], record["mode"]) == (1080, 1920, "inbox")


def test_tiktok_chunks_go_in_order_and_are_checked(tiktok):
    token = tiktok_connect(tiktok)
    size = 11 * MB
    data = os.urandom(size)  # not a video: the upload succeeds, the format check fails
    answer = init(tiktok, token, size, 5 * MB, 2).json()["data"]
    url, second = answer["upload_url"], 5 * MB
    assert put_chunk(url, data[second:], second, size).status_code == 416  # a gap
    assert put_chunk(url, data[:second], 0, size, content_type="text/plain").status_code == 400
    short = requests.put(url, data=data[:100], headers={"Content-Type": "video/mp4",
                                                       "Content-Range": f"bytes 0-{second - 1}/{size}"})
    assert short.status_code == 400  # Content-Length is not the range's length
    assert put_chunk(url, data[:second], 0, size).status_code == 206
    assert put_chunk(url, data[:second], 0, size).status_code == 206  # a repeat is acknowledged, not stored twice
    assert put_chunk(url, data[:3 * MB], 0, size).status_code == 416  # not a declared chunk
    assert put_chunk(url, data[second:], second, size).status_code == 201
    final = final_status(tiktok, token, answer["publish_id"])
    assert final == {"status": "FAILED", "fail_reason": "file_format_check_failed", "uploaded_bytes": size}


def test_tiktok_probe_refuses_a_picture_under_360_pixels(tiktok, media):
    token = tiktok_connect(tiktok)
    video = media["small"]  # 320x240
    answer = init(tiktok, token, len(video)).json()["data"]
    put_chunk(answer["upload_url"], video, 0, len(video))
    assert final_status(tiktok, token, answer["publish_id"])["fail_reason"] == "picture_size_check_failed"


def test_tiktok_init_is_limited_to_six_a_minute_per_token(tiktok):
    token = tiktok_connect(tiktok)
    answers = [init(tiktok, token, 1000).status_code for _ in range(7)]
    assert answers == [200] * 6 + [429]
    limited = init(tiktok, token, 1000)
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    other = tiktok_connect(tiktok)  # another access token has its own count
    assert init(tiktok, other, 1000).status_code == 200
    tiktok.advance(61)
    assert init(tiktok, token, 1000).status_code == 200


def test_tiktok_direct_post_keeps_to_creator_info_and_the_audit(tiktok, media):
    token = tiktok_connect(tiktok)
    info = requests.post(tiktok.api_url + "/v2/post/publish/creator_info/query/", headers=bearer(token)).json()["data"]
    assert info["privacy_level_options"] == ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
    assert info["creator_nickname"] == "Reclip Tester" and info["max_video_post_duration_sec"] == 600
    video = media["vertical"]
    mismatch = init(tiktok, token, len(video), direct=True, post_info={"privacy_level": "PUBLIC_TO_EVERYONE"})
    assert mismatch.json()["error"]["code"] == "privacy_level_option_mismatch"
    unaudited = init(tiktok, token, len(video), direct=True, post_info={"privacy_level": "FOLLOWER_OF_CREATOR"})
    assert unaudited.status_code == 403
    assert unaudited.json()["error"]["code"] == "unaudited_client_can_only_post_to_private_accounts"
    answer = init(tiktok, token, len(video), direct=True,
                  post_info={"privacy_level": "SELF_ONLY", "title": "Standup #reclip"}).json()["data"]
    put_chunk(answer["upload_url"], video, 0, len(video))
    final = final_status(tiktok, token, answer["publish_id"])
    assert final["status"] == "PUBLISH_COMPLETE" and final["publicaly_available_post_id"] == []
    assert tiktok.published[-1]["caption"] == "Standup #reclip"

    upload_only = TikTokDouble(redirect_uris=[REDIRECT], approved_scopes=("user.info.basic", "video.upload")).start()
    try:
        code = consent(upload_only.auth_url, tiktok_params(upload_only, scope="user.info.basic,video.upload"),
                       "authorize")[1]["code"]
        inbox_token = tiktok_token(upload_only, code).json()
        no_scope = requests.post(upload_only.api_url + "/v2/post/publish/creator_info/query/",
                                 headers=bearer(inbox_token))
        assert no_scope.status_code == 401 and no_scope.json()["error"]["code"] == "scope_not_authorized"
    finally:
        upload_only.stop()


def test_tiktok_inbox_keeps_at_most_five_pending_shares(tiktok, media):
    token = tiktok_connect(tiktok)
    video = media["vertical"]
    for _ in range(5):
        answer = init(tiktok, token, len(video)).json()["data"]
        assert put_chunk(answer["upload_url"], video, 0, len(video)).status_code == 201
        tiktok.advance(12)  # under six inits a minute
    refused = init(tiktok, token, len(video))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "spam_risk_too_many_pending_share"
    tiktok.finish_inbox_posts()
    assert init(tiktok, token, len(video)).status_code == 200


def test_tiktok_upload_url_lasts_one_hour(tiktok, media):
    token = tiktok_connect(tiktok)
    video = media["vertical"]
    answer = init(tiktok, token, len(video)).json()["data"]
    tiktok.advance(3601)
    assert put_chunk(answer["upload_url"], video, 0, len(video)).status_code == 403
    tiktok.expire_access_tokens()
    fresh = requests.post(tiktok.api_url + "/v2/oauth/token/", data={
        "client_key": tiktok.client_key, "client_secret": tiktok.client_secret, "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"]}).json()
    assert fetch_status(tiktok, fresh, answer["publish_id"]) == {
        "status": "FAILED", "fail_reason": "internal", "uploaded_bytes": 0}


def test_tiktok_injected_failures_carry_retry_after(tiktok):
    token = tiktok_connect(tiktok)
    tiktok.fail_next(1, status=429, retry_after=3, path="/inbox/video/init/")
    failed = init(tiktok, token, 1000)
    assert failed.status_code == 429 and failed.headers["Retry-After"] == "3"
    assert failed.json()["error"]["code"] == "rate_limit_exceeded"
    assert init(tiktok, token, 1000).status_code == 200


def test_probe_reports_what_the_platform_checks(media):
    info = probe(media["vertical"])
    assert (info.container, info.video_codec, info.width, info.height) == ("mp4", "h264", 1080, 1920)
    assert round(info.fps) == 30
    assert info.audio_codec == "aac" and info.moov_before_mdat is True
