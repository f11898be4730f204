"""The public share page: password, rate limit, headers, Open Graph tags, segments, no download."""
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.conftest import run_queued_jobs
from tests.factories import make_ready_clip, make_recording, make_user
from tests.clip_helpers import local_path
from tests.test_shares_api import JPEG_MAGIC, created_link, follow, new_token, share, token_of

PASSWORD_FORM = "This link has a password"


class PageParser(HTMLParser):
    """The <meta> tags (by property or name), the player and the share article of a page."""

    def __init__(self):
        super().__init__()
        self.meta = {}
        self.players = []
        self.article = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            self.meta.setdefault(attrs.get("property") or attrs.get("name"), attrs.get("content"))
        elif tag in ("video", "audio"):
            self.players.append((tag, attrs))
        elif tag == "article" and attrs.get("data-module") == "share-page":
            self.article = attrs


def parse(response):
    parser = PageParser()
    parser.feed(response.get_data(as_text=True))
    return parser


@pytest.fixture
def as_member(login, member):
    return login(member)


def unlock(client, token, password, **kwargs):
    return client.post(f"/s/{token}", data={"password": password}, **kwargs)


# --- password -----------------------------------------------------------------------------------

def test_a_password_link_asks_for_it_before_anything_plays(as_member, client, app, standup, media_dir):
    token = new_token(as_member, standup, password="open sesame")

    asked = client.get(f"/s/{token}")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and PASSWORD_FORM in html
    assert 'type="password"' in html and 'name="csrf_token"' in html
    assert "<video" not in html and "<audio" not in html
    assert f"/s/{token}/media" not in html and "og:video" not in html and "Team standup" not in html
    assert client.get(f"/s/{token}/media").status_code == 403
    assert client.get(f"/s/{token}/download").status_code == 403
    assert client.get(f"/s/{token}/poster.jpg").status_code == 403

    wrong = unlock(client, token, "open sesame!")
    assert wrong.status_code == 401
    assert "That password is not right." in wrong.get_data(as_text=True)
    assert "<video" not in wrong.get_data(as_text=True)
    assert client.get(f"/s/{token}/media").status_code == 403

    right = unlock(client, token, "open sesame")
    assert right.status_code == 302 and right.headers["Location"] == f"/s/{token}"
    page = client.get(f"/s/{token}")
    players = parse(page).players
    assert page.status_code == 200 and players[0][0] == "video"
    assert players[0][1]["src"] == f"/s/{token}/media"
    played = follow(client, client.get(f"/s/{token}/media"))
    assert played.status_code == 200 and played.get_data() == (media_dir / "sample.mp4").read_bytes()

    # The unlock belongs to that browser's session only.
    stranger = app.test_client()
    assert PASSWORD_FORM in stranger.get(f"/s/{token}").get_data(as_text=True)
    assert stranger.get(f"/s/{token}/media").status_code == 403


def test_unlocking_keeps_the_segment(as_member, client, standup):
    token = new_token(as_member, standup, password="open sesame")
    right = client.post(f"/s/{token}?t=3,8", data={"password": "open sesame"})
    assert right.status_code == 302 and right.headers["Location"] == f"/s/{token}?t=3,8"
    assert parse(client.get(right.headers["Location"])).players[0][1]["src"].endswith("#t=3,8")


def test_a_password_post_needs_the_csrf_token(as_member, client, standup):
    token = new_token(as_member, standup, password="open sesame")
    response = client.flask.post(f"/s/{token}", data={"password": "open sesame"})
    assert response.status_code == 400
    assert client.get(f"/s/{token}/media").status_code == 403


def test_guessing_a_password_is_rate_limited(as_member, client, standup):
    token = new_token(as_member, standup, password="open sesame")
    other_token = new_token(as_member, standup, password="another one")

    for _ in range(4):
        assert unlock(client, token, "guess").status_code == 401
    assert unlock(client, token, "open sesame").status_code == 302  # the right one is not counted
    assert unlock(client, token, "guess").status_code == 401  # the fifth wrong try

    limited = unlock(client, token, "guess")
    assert limited.status_code == 429
    assert "Too many attempts" in limited.get_data(as_text=True)
    assert unlock(client, token, "open sesame").status_code == 429  # even the right one, for a minute
    # Per IP and link: another link, or another address, still gets its own tries.
    assert unlock(client, other_token, "guess").status_code == 401
    assert unlock(client, token, "guess", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code == 401
    # Viewing is not limited.
    assert client.get(f"/s/{token}").status_code == 200


# --- allow_download=false ---------------------------------------------------------------------------

def test_the_page_offers_download_only_when_allowed(as_member, client, standup):
    allowed = new_token(as_member, standup)
    refused = new_token(as_member, standup, allow_download=False)

    assert parse(client.get(f"/s/{allowed}")).article["data-download-url"] == f"/s/{allowed}/download"
    page = client.get(f"/s/{refused}")
    assert page.status_code == 200
    assert "data-download-url" not in parse(page).article
    assert "Download" not in page.get_data(as_text=True)
    assert client.get(f"/s/{refused}/download").status_code == 403
    assert follow(client, client.get(f"/s/{refused}/media")).status_code == 200


# --- headers -----------------------------------------------------------------------------------------

def test_share_responses_are_not_indexed_and_send_no_referrer(as_member, client, standup):
    token = new_token(as_member, standup)
    locked = new_token(as_member, standup, password="open sesame")
    revoked = created_link(share(as_member, standup))
    assert as_member.delete(f"/api/share-links/{revoked['id']}").status_code == 204

    responses = {
        "page": client.get(f"/s/{token}"),
        "media": client.get(f"/s/{token}/media"),
        "download": client.get(f"/s/{token}/download"),
        "poster": client.get(f"/s/{token}/poster.jpg"),
        "password form": client.get(f"/s/{locked}"),
        "gone": client.get(urlsplit(revoked["url"]).path),
        "unknown": client.get("/s/" + "A" * 43),
    }
    # The poster is 404 until the job that the page view queued has made it.
    assert [r.status_code for r in responses.values()] == [200, 302, 302, 404, 200, 410, 404]
    for name, response in responses.items():
        assert response.headers["Referrer-Policy"] == "no-referrer", name
        assert "noindex" in response.headers["X-Robots-Tag"], name
    for name in ("page", "password form"):
        html = responses[name].get_data(as_text=True)
        assert '<meta name="robots" content="noindex, nofollow">' in html, name
    assert parse(responses["page"]).meta["referrer"] == "no-referrer"
    # The owner's own pages are not touched.
    assert "X-Robots-Tag" not in as_member.get("/recordings").headers


# --- Open Graph ---------------------------------------------------------------------------------------

def test_open_graph_and_twitter_tags_describe_the_video(as_member, client, standup):
    link = created_link(share(as_member, standup))
    token = token_of(link["url"])

    meta = parse(client.get(f"/s/{token}")).meta
    assert meta["og:title"] == "Team standup"
    assert meta["og:description"] == "0:20 · Meeting recording shared with Reclip"
    assert meta["og:type"] == "video.other"
    assert meta["og:url"] == link["url"] == f"http://localhost/s/{token}"
    assert meta["og:image"] == f"http://localhost/s/{token}/poster.jpg"
    assert meta["og:video"] == f"http://localhost/s/{token}/media"
    assert "og:video:secure_url" not in meta  # only for https
    assert meta["og:video:type"] == "video/mp4"
    assert (meta["og:video:width"], meta["og:video:height"]) == ("320", "240")
    # No twitter:player: it would have to be a page made to be framed (every page here refuses frames).
    assert meta["twitter:card"] == "summary_large_image"
    assert not any(name.startswith("twitter:player") for name in meta)
    assert meta["twitter:image"] == meta["og:image"]

    assert client.get(urlsplit(meta["og:image"]).path).status_code == 404  # the poster job has not run yet
    assert run_queued_jobs(as_member.flask.application) == ["ready"]
    image = client.get(urlsplit(meta["og:image"]).path)
    assert image.status_code == 302
    image = follow(client, image)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert image.get_data().startswith(JPEG_MAGIC)

    video = client.get(urlsplit(meta["og:video"]).path)
    assert video.status_code == 302
    video = follow(client, video)
    assert video.status_code == 200 and video.mimetype == "video/mp4"
    assert video.get_data()[4:8] == b"ftyp"


def test_a_title_is_escaped_in_tags_and_page(as_member, client, member, media_dir):
    title = 'Q&A "launch" <b>now</b>'
    recording = make_recording(owner=member, file=media_dir / "sample.mp4", title=title)
    page = client.get(f"/s/{new_token(as_member, recording)}")
    parsed = parse(page)

    assert parsed.meta["og:title"] == parsed.meta["twitter:title"] == title
    assert parsed.article["data-title"] == title
    assert "<b>now</b>" not in page.get_data(as_text=True)


def test_open_graph_of_a_clip_and_a_voice_call(login, as_member, client, member, standup, media_dir):
    clip = make_ready_clip(standup, media_dir / "sample.mp4", member, start=3, seconds=5)
    clip_meta = parse(client.get(f"/s/{new_token(as_member, clip)}")).meta
    assert clip_meta["og:title"] == "Team standup 0:03–0:08"  # the clip's title: by default, its times
    assert clip_meta["og:description"].endswith("Clip shared with Reclip")
    assert (clip_meta["og:video:width"], clip_meta["og:video:height"]) == ("320", "240")

    admin = make_user("admin@example.com", super_admin=True)
    call = make_recording("voice", owner=member, file=media_dir / "sample.m4a", title="Support call")
    voice_meta = parse(client.get(f"/s/{new_token(login(admin), call)}")).meta
    assert voice_meta["og:audio:type"] == "audio/mp4"
    assert voice_meta["og:audio"].endswith("/media")
    assert "og:video" not in voice_meta and "og:video:width" not in voice_meta
    assert voice_meta["og:description"] == "0:20 · Voice call shared with Reclip"


def test_a_recording_outside_the_bucket_still_has_a_page(as_member, client, member):
    """An external URL that the proxy may not fetch: the page shows, without video dimensions."""
    external = make_recording(owner=member, url="https://cdn.example.com/recordings/standup.mp4", title="On the CDN")
    token = new_token(as_member, external)

    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    meta = parse(page).meta
    assert meta["og:title"] == "On the CDN" and "og:video:width" not in meta


class TestPublicBaseUrl:
    @pytest.fixture
    def app_config(self):
        # The test client calls itself localhost; the public host is what links are built on.
        return {"PUBLIC_BASE_URL": "https://reclip.example", "TRUSTED_HOSTS": ["reclip.example", "localhost"]}

    def test_links_and_tags_use_the_public_base_url(self, as_member, client, standup):
        link = created_link(share(as_member, standup))
        token = token_of(link["url"])
        assert link["url"] == f"https://reclip.example/s/{token}"

        meta = parse(client.get(f"/s/{token}")).meta
        assert meta["og:url"] == link["url"]
        assert meta["og:image"] == f"https://reclip.example/s/{token}/poster.jpg"
        assert meta["og:video"] == f"https://reclip.example/s/{token}/media"
        assert meta["og:video:secure_url"] == meta["og:video"]
        video = client.get(urlsplit(meta["og:video"]).path)
        assert video.status_code == 302
        assert video.headers["Location"].startswith("https://reclip.example/storage/o/")
        assert follow(client, video).status_code == 200


# --- segments -------------------------------------------------------------------------------------------

def test_a_segment_plays_only_that_part(as_member, client, standup):
    token = new_token(as_member, standup)

    page = client.get(f"/s/{token}", query_string={"t": "3,8"})
    html = page.get_data(as_text=True)
    parsed = parse(page)
    assert page.status_code == 200
    assert parsed.players[0][1]["src"] == f"/s/{token}/media#t=3,8"
    assert "Playing 0:03–0:08" in html
    assert (parsed.article["data-segment-start"], parsed.article["data-segment-end"]) == ("3.0", "8.0")

    page = client.get(f"/s/{token}", query_string={"t": "1.5,75"})
    assert parse(page).players[0][1]["src"].endswith("#t=1.5,75")
    assert "Playing 0:01–1:15" in page.get_data(as_text=True)


def test_a_malformed_segment_is_ignored(as_member, client, standup):
    token = new_token(as_member, standup)
    for raw in ("abc", "8,3", "-1,2", "3", "3,3", "1,2,3", "nan,5", "1,inf", ",", "3,8x"):
        page = client.get(f"/s/{token}", query_string={"t": raw})
        html = page.get_data(as_text=True)
        parsed = parse(page)
        assert page.status_code == 200, raw
        assert parsed.players[0][1]["src"] == f"/s/{token}/media", raw
        assert "#t=" not in html and "Playing" not in html, raw
        assert "data-segment-start" not in parsed.article, raw


def test_the_gone_page_is_friendly(as_member, client, standup):
    link = created_link(share(as_member, standup))
    as_member.delete(f"/api/share-links/{link['id']}")

    gone = client.get(local_path(link["url"]))
    html = gone.get_data(as_text=True)
    assert gone.status_code == 410 and gone.mimetype == "text/html"
    assert "<h1>This link has ended</h1>" in html
    assert "This link was revoked by its owner." in html
    assert "<video" not in html
