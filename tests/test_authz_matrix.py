"""One authorization matrix over every route: who (anonymous, member A, member B, a super admin, a
dashboard bearer token of A) gets what from each (rule, method) of the URL map, for each object it can
name (A's and B's meet recordings, a voice call, a DJDash recording, their clips, share links, A's
connected account, destination and post). The expected status of every cell is in MATRIX below; a
(rule, method) of the app that has no row there fails test_every_route_and_method_has_a_row, so a new
route cannot escape the matrix: give it a row (and, when its URL has parts to fill in, an entry in URLS).

Each cell sends what a real caller sends: cookie sessions carry the page's CSRF token on unsafe methods,
bearer calls carry only `Authorization: Bearer <Supabase access token>`, and bodies are valid, so that a
cell shows who may act and never trips on validation. (test_recordings_access.py checks the bytes behind
download and play; test_supabase_auth.py what a bad token gets; this file checks who gets anything.)
"""
import base64
import hashlib
import io
import json
import re
import secrets
import time
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.fernet import Fernet

from webapp import posters
from webapp.extensions import db
from webapp.media import run_ffmpeg
from webapp.shares.models import ShareLink
from webapp.shares.service import hash_token
from webapp.social import publish, service as social
from webapp.social.models import Publication, PublicationStatus, SocialExport
from webapp.storage import get_storage
from webapp.wasm import wasm_version
from tests.factories import PASSWORD, make_clip, make_recording, make_share_link, make_user, put_object

JWT_SECRET = "authz-matrix-jwt-secret-of-at-least-32-characters"
LIVEKIT_KEY, LIVEKIT_SECRET = "APIauthz", "livekit-secret-of-at-least-32-characters!!"
CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens: Disconnect's revocation fails fast, never leaves the machine
CONFIG = {
    "SUPABASE_JWT_SECRET": JWT_SECRET,
    "LIVEKIT_API_KEY": LIVEKIT_KEY, "LIVEKIT_API_SECRET": LIVEKIT_SECRET,
    "META_APP_ID": "1234", "META_APP_SECRET": "meta-secret", "META_GRAPH_URL": CLOSED_PORT,
    "TIKTOK_CLIENT_KEY": "tt-key", "TIKTOK_CLIENT_SECRET": "tt-secret", "TIKTOK_API_URL": CLOSED_PORT,
    "TOKEN_ENCRYPTION_KEYS": [Fernet.generate_key().decode()], "SOCIAL_BACKOFF_SECONDS": 0,
}

ACTORS = ("anon", "A", "B", "admin", "bearer")

# Targets. a_meet, b_meet: meet recordings of members A and B. voice: a voice call (A's). djdash: A's meet
# recording of a product outside ALLOWED_PRODUCTS. a_clip, b_clip, voice_clip, djdash_clip: a clip of each
# (made by A, B, the super admin, A). a_link, b_link: A's link to a_meet, B's to b_meet; djdash_link: a link
# row that points at the DJDash recording. a_connection, a_destination (TikTok), a_post: A's connected
# account, a destination of it, a failed post of a_clip. signed / forged: a capability (signed URL, upload
# policy, LiveKit JWT, media token) made by the app, and a forged one. "-": the route names no object.
#
# Rules are written without their converters (`<link_id>` for `<int(max=2147483647):link_id>`); a row with
# several methods stands for one row each; the OPTIONS row holds for every rule (Flask answers it itself).
# Cells: a status; "login": 302 to /login?next=...; "200+" / "200-": 200 with the target in / not in the
# listing (HEAD: 200). Every 4xx under /api/ is a JSON error, every 404 there "not_found", as for a missing
# id. No cell may be a 5xx.
#
# Scope (SPEC "Who sees what"): a member sees their own meet recordings, a super admin every meet and voice
# recording of the allowed products; a clip and a share link follow their recording. Outside scope is 404,
# like a missing id. 403 only where the caller sees the object but may not do that to it: a member assigning
# an owner, the super admin completing an upload someone else started. Connected accounts and posts are
# personal: nobody else's, the super admin's neither. The bearer actor is A's access token.
MATRIX = """
methods        rule                                                    target         anon   A      B      admin  bearer
GET,HEAD       /                                                       -              302    302    302    302    302
GET,HEAD       /recordings                                             -              login  200    200    200    200
GET,HEAD       /login                                                  -              200    302    302    302    302
POST           /login                                                  -              302    302    302    302    302
POST           /logout                                                 -              login  302    302    302    302
GET,HEAD       /auth/supabase                                          -              200    200    200    200    200
POST           /auth/supabase                                          -              401    401    401    401    200
GET,HEAD       /healthz                                                -              200    200    200    200    200
GET,HEAD       /api/openapi.json                                       -              200    200    200    200    200
GET,HEAD       /static/<filename>                                      -              200    200    200    200    200
GET,HEAD       /wasm/<version>/<filename>                              -              200    200    200    200    200

GET,HEAD       /api/livekit/recordings                                 a_meet         401    200+   200-   200+   200+
GET,HEAD       /api/livekit/recordings                                 b_meet         401    200-   200+   200+   200-
GET,HEAD       /api/livekit/recordings                                 voice          401    200-   200-   200+   200-
GET,HEAD       /api/livekit/recordings                                 djdash         401    200-   200-   200-   200-
GET,HEAD       /api/livekit/recordings/download                        a_meet         401    302    404    302    302
GET,HEAD       /api/livekit/recordings/download                        b_meet         401    404    302    302    404
GET,HEAD       /api/livekit/recordings/download                        voice          401    404    404    302    404
GET,HEAD       /api/livekit/recordings/download                        djdash         401    404    404    404    404
GET,HEAD       /api/livekit/recordings/play                            a_meet         401    302    404    302    302
GET,HEAD       /api/livekit/recordings/play                            b_meet         401    404    302    302    404
GET,HEAD       /api/livekit/recordings/play                            voice          401    404    404    302    404
GET,HEAD       /api/livekit/recordings/play                            djdash         401    404    404    404    404
GET,HEAD       /api/livekit/recordings/poster                          a_meet         401    302    404    302    302
GET,HEAD       /api/livekit/recordings/poster                          b_meet         401    404    302    302    404
GET,HEAD       /api/livekit/recordings/poster                          voice          401    404    404    302    404
GET,HEAD       /api/livekit/recordings/poster                          djdash         401    404    404    404    404
GET,HEAD       /api/livekit/recordings/timeline                        a_meet         401    200    404    200    200
GET,HEAD       /api/livekit/recordings/timeline                        b_meet         401    404    200    200    404
GET,HEAD       /api/livekit/recordings/timeline                        voice          401    404    404    200    404
GET,HEAD       /api/livekit/recordings/timeline                        djdash         401    404    404    404    404
PATCH          /api/livekit/recordings/owner                           a_meet         401    403    404    200    403
PATCH          /api/livekit/recordings/owner                           b_meet         401    404    403    200    404
PATCH          /api/livekit/recordings/owner                           voice          401    404    404    200    404
PATCH          /api/livekit/recordings/owner                           djdash         401    404    404    404    404
POST           /api/livekit/recordings/clips                           a_meet         401    201    404    201    201
POST           /api/livekit/recordings/clips                           b_meet         401    404    201    201    404
POST           /api/livekit/recordings/clips                           voice          401    404    404    201    404
POST           /api/livekit/recordings/clips                           djdash         401    404    404    404    404

GET,HEAD       /api/livekit/recordings/clips                           a_clip         401    200+   404    200+   200+
GET,HEAD       /api/livekit/recordings/clips                           b_clip         401    404    200+   200+   404
GET,HEAD       /api/livekit/recordings/clips                           voice_clip     401    404    404    200+   404
GET,HEAD       /api/livekit/recordings/clips                           djdash_clip    401    404    404    404    404
GET,HEAD       /api/livekit/recordings/clips/<clip_id>                 a_clip         401    200    404    200    200
GET,HEAD       /api/livekit/recordings/clips/<clip_id>                 b_clip         401    404    200    200    404
GET,HEAD       /api/livekit/recordings/clips/<clip_id>                 voice_clip     401    404    404    200    404
GET,HEAD       /api/livekit/recordings/clips/<clip_id>                 djdash_clip    401    404    404    404    404
PATCH          /api/livekit/recordings/clips/<clip_id>                 a_clip         401    200    404    200    200
PATCH          /api/livekit/recordings/clips/<clip_id>                 b_clip         401    404    200    200    404
PATCH          /api/livekit/recordings/clips/<clip_id>                 voice_clip     401    404    404    200    404
PATCH          /api/livekit/recordings/clips/<clip_id>                 djdash_clip    401    404    404    404    404
DELETE         /api/livekit/recordings/clips/<clip_id>                 a_clip         401    204    404    204    204
DELETE         /api/livekit/recordings/clips/<clip_id>                 b_clip         401    404    204    204    404
DELETE         /api/livekit/recordings/clips/<clip_id>                 voice_clip     401    404    404    204    404
DELETE         /api/livekit/recordings/clips/<clip_id>                 djdash_clip    401    404    404    404    404
POST           /api/livekit/recordings/clips/<clip_id>/complete        a_clip         401    200    404    403    200
POST           /api/livekit/recordings/clips/<clip_id>/complete        b_clip         401    404    200    403    404
POST           /api/livekit/recordings/clips/<clip_id>/complete        voice_clip     401    404    404    200    404
POST           /api/livekit/recordings/clips/<clip_id>/complete        djdash_clip    401    404    404    404    404
GET,HEAD       /api/livekit/recordings/clips/<clip_id>/download        a_clip         401    302    404    302    302
GET,HEAD       /api/livekit/recordings/clips/<clip_id>/download        b_clip         401    404    302    302    404
GET,HEAD       /api/livekit/recordings/clips/<clip_id>/download        voice_clip     401    404    404    302    404
GET,HEAD       /api/livekit/recordings/clips/<clip_id>/download        djdash_clip    401    404    404    404    404
GET,HEAD       /api/livekit/recordings/clips/<clip_id>/play            a_clip         401    302    404    302    302
GET,HEAD       /api/livekit/recordings/clips/<clip_id>/play            b_clip         401    404    302    302    404
GET,HEAD       /api/livekit/recordings/clips/<clip_id>/play            voice_clip     401    404    404    302    404
GET,HEAD       /api/livekit/recordings/clips/<clip_id>/play            djdash_clip    401    404    404    404    404

POST           /api/share-links                                        a_meet         401    201    404    201    201
POST           /api/share-links                                        b_meet         401    404    201    201    404
POST           /api/share-links                                        voice          401    404    404    201    404
POST           /api/share-links                                        djdash         401    404    404    404    404
POST           /api/share-links                                        a_clip         401    201    404    201    201
POST           /api/share-links                                        b_clip         401    404    201    201    404
POST           /api/share-links                                        voice_clip     401    404    404    201    404
POST           /api/share-links                                        djdash_clip    401    404    404    404    404
GET,HEAD       /api/share-links                                        a_link         401    200+   200-   200+   200+
GET,HEAD       /api/share-links                                        b_link         401    200-   200+   200+   200-
DELETE         /api/share-links/<link_id>                              a_link         401    204    404    204    204
DELETE         /api/share-links/<link_id>                              b_link         401    404    204    204    404
GET,HEAD       /s/<token>                                              a_link         200    200    200    200    200
GET,HEAD,POST  /s/<token>                                              djdash_link    410    410    410    410    410
POST           /s/<token>                                              a_link         302    302    302    302    302
GET,HEAD       /s/<token>/media                                        a_link         302    302    302    302    302
GET,HEAD       /s/<token>/media                                        djdash_link    410    410    410    410    410
GET,HEAD       /s/<token>/download                                     a_link         302    302    302    302    302
GET,HEAD       /s/<token>/download                                     djdash_link    410    410    410    410    410
GET,HEAD       /s/<token>/poster.jpg                                   a_link         302    302    302    302    302
GET,HEAD       /s/<token>/poster.jpg                                   djdash_link    410    410    410    410    410

GET,HEAD       /settings/connections                                   -              login  200    200    200    200
POST           /settings/connections/<provider>/connect                -              login  302    302    302    302
GET,HEAD       /settings/connections/<provider>/callback               -              login  302    302    302    302
POST           /settings/connections/<connection_id>/disconnect        a_connection   login  302    404    404    302
GET,HEAD       /api/social/destinations                                a_destination  401    200+   200-   200-   200+
GET,HEAD       /api/social/destinations/<destination_id>/creator-info  a_destination  401    409    404    404    409
POST           /api/social/publications                                a_clip         401    202    404    404    202
POST           /api/social/publications                                b_clip         401    404    404    404    404
POST           /api/social/publications                                voice_clip     401    404    404    404    404
POST           /api/social/publications                                djdash_clip    401    404    404    404    404
GET,HEAD       /api/social/publications                                a_post         401    200+   200-   200-   200+
GET,HEAD       /api/social/publications/<publication_id>               a_post         401    200    404    404    200
POST           /api/social/publications/<publication_id>/retry         a_post         401    202    404    404    202

POST           /api/livekit/webhook                                    signed         200    200    200    200    200
POST           /api/livekit/webhook                                    forged         401    401    401    401    401
GET,HEAD       /social/media/<token>.mp4                               signed         302    302    302    302    302
GET,HEAD       /social/media/<token>.mp4                               forged         404    404    404    404    404
GET,HEAD       /storage/o/<token>                                      signed         200    200    200    200    200
GET,HEAD       /storage/o/<token>                                      forged         403    403    403    403    403
POST           /storage/upload                                         signed         204    204    204    204    204
POST           /storage/upload                                         forged         403    403    403    403    403

OPTIONS        *                                                       -              200    200    200    200    200
"""

# How each rule is called: the URL (placeholders filled from the target) and, for POST/PATCH, a valid body.
# The publication body posts the target clip to A's Facebook Page; the owner body keeps the owner as it is.
URLS = {
    "/static/<filename>": "/static/css/app.css",
    "/wasm/<version>/<filename>": "/wasm/{wasm_version}/ffmpeg/index.js",
    "/api/livekit/recordings": "/api/livekit/recordings?type={type}&limit=100",
    "/api/livekit/recordings/download": "/api/livekit/recordings/download?type={type}&id={id}",
    "/api/livekit/recordings/play": "/api/livekit/recordings/play?type={type}&id={id}",
    "/api/livekit/recordings/poster": "/api/livekit/recordings/poster?type={type}&id={id}",
    "/api/livekit/recordings/timeline": "/api/livekit/recordings/timeline?type={type}&id={id}",
    "/api/livekit/recordings/owner": "/api/livekit/recordings/owner?type={type}&id={id}",
    ("GET", "/api/livekit/recordings/clips"): "/api/livekit/recordings/clips?type={type}&id={id}",
    "/api/livekit/recordings/clips/<clip_id>": "/api/livekit/recordings/clips/{clip}",
    "/api/livekit/recordings/clips/<clip_id>/complete": "/api/livekit/recordings/clips/{clip}/complete",
    "/api/livekit/recordings/clips/<clip_id>/download": "/api/livekit/recordings/clips/{clip}/download",
    "/api/livekit/recordings/clips/<clip_id>/play": "/api/livekit/recordings/clips/{clip}/play",
    "/api/share-links/<link_id>": "/api/share-links/{link_id}",
    "/s/<token>": "/s/{link_token}",
    "/s/<token>/media": "/s/{link_token}/media",
    "/s/<token>/download": "/s/{link_token}/download",
    "/s/<token>/poster.jpg": "/s/{link_token}/poster.jpg",
    "/settings/connections/<provider>/connect": "/settings/connections/meta/connect",
    "/settings/connections/<provider>/callback": "/settings/connections/meta/callback?error=access_denied",
    "/settings/connections/<connection_id>/disconnect":
        "/settings/connections/{connection}/disconnect",
    "/api/social/destinations/<destination_id>/creator-info":
        "/api/social/destinations/{destination}/creator-info",
    ("GET", "/api/social/publications"): "/api/social/publications?target_type=clip&target_id={clip}",
    "/api/social/publications/<publication_id>": "/api/social/publications/{post}",
    "/api/social/publications/<publication_id>/retry": "/api/social/publications/{post}/retry",
    "/social/media/<token>.mp4": "/social/media/{media_token}.mp4",
    "/storage/o/<token>": "/storage/o/{object_token}",
    "/storage/upload": "/storage/upload?{upload_query}",
}
BODIES = {  # JSON; "{name}" alone is replaced by the target's value itself (an int stays an int)
    ("PATCH", "/api/livekit/recordings/owner"): {"owner": "{owner}"},
    ("POST", "/api/livekit/recordings/clips"): {"type": "{type}", "id": "{id}", "start_seconds": 1,
                                                "end_seconds": 3, "mode": "browser"},
    ("PATCH", "/api/livekit/recordings/clips/<clip_id>"): {"title": "Renamed"},
    ("POST", "/api/share-links"): {"target_type": "{share_type}", "target_id": "{share_id}", "default": False},
    ("POST", "/api/social/publications"): {"target_type": "clip", "target_id": "{clip}",
                                           "destination_id": "{facebook}", "caption": "Hello"},
}
FORMS = {  # form posts: the login form with A's password, a share page's password form
    ("POST", "/login"): {"email": "a@example.com", "password": PASSWORD},
    ("POST", "/s/<token>"): {"password": "not needed"},
}
# Cells that change what later cells see get an object of their own (a fresh clip, link, post...), and those
# that change the session (log in, log out, the token exchange) a client of their own.
FRESH = {("DELETE", "/api/livekit/recordings/clips/<clip_id>"),
         ("POST", "/api/livekit/recordings/clips/<clip_id>/complete"),
         ("DELETE", "/api/share-links/<link_id>"),
         ("POST", "/settings/connections/<connection_id>/disconnect"),
         ("POST", "/api/social/publications/<publication_id>/retry"), ("POST", "/storage/upload")}
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Unsafe routes that a cookie session may call without the CSRF token: each is authorised by a signature of its
# own (LiveKit's JWT, the upload policy) or takes only what a cross-site form cannot send (a bearer header or a
# JSON body, /auth/supabase). Every other unsafe route refuses a cookie call without the token.
CSRF_EXEMPT = {("POST", "/api/livekit/webhook"), ("POST", "/storage/upload"), ("POST", "/auth/supabase")}
# The only rules with a 403 cell: assigning an owner (super admins only), completing an upload that someone else
# started, and a forged signature on the local storage routes.
SEEN_BUT_NOT_ALLOWED = {"/api/livekit/recordings/owner", "/api/livekit/recordings/clips/<clip_id>/complete",
                        "/storage/o/<token>", "/storage/upload"}
OWN_CLIENT = {("POST", "/login"), ("POST", "/logout"), ("POST", "/auth/supabase")}
# Which ids a listing holds, and which of the target's fields to look for there.
LISTED = {
    "/api/livekit/recordings": (lambda body: {r["id"] for r in body["recordings"]}, "id"),
    "/api/livekit/recordings/clips": (lambda body: {c["id"] for c in body["clips"]}, "clip"),
    "/api/share-links": (lambda body: {link["id"] for link in body["share_links"]}, "link_id"),
    "/api/social/destinations": (lambda body: {d["id"] for d in body["destinations"]}, "destination"),
    "/api/social/publications": (lambda body: {p["id"] for p in body["publications"]}, "post"),
}


def short(rule):
    """A rule as MATRIX writes it: converters left out (`<int(max=2147483647):link_id>` is `<link_id>`)."""
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"<\1>", rule)


def parse_matrix(text):
    """[(method, rule, target, {actor: expected})] from MATRIX, one entry per method of a row."""
    lines = [line.split() for line in text.strip().splitlines()[1:] if line.strip()]
    cells = []
    for methods, rule, target, *expected in lines:
        assert len(expected) == len(ACTORS), f"{rule} {target}: {len(expected)} columns"
        for method in methods.split(","):
            cells.append((method, rule, target, dict(zip(ACTORS, expected))))
    return cells


CELLS = parse_matrix(MATRIX)


# --- the world: people, recordings, clips, links, a connected account ---------------------------------

@pytest.fixture(scope="module")
def uploads(tmp_path_factory, media_dir):
    """What a browser uploads for a 2..8 s clip: a stream-copy cut of the sample video and of the audio."""
    directory = tmp_path_factory.mktemp("authz-uploads")
    cuts = {}
    for kind, name in (("video", "sample.mp4"), ("audio", "sample.m4a")):
        out = directory / f"cut-{name}"
        run_ffmpeg(["-ss", "2", "-i", str(media_dir / name), "-t", "6", "-c", "copy", "-movflags", "+faststart",
                    str(out)])
        cuts[kind] = out.read_bytes()
    return cuts


def access_token(email, sub):
    now = int(time.time())
    return jwt.encode({"aud": "authenticated", "exp": now + 3600, "iat": now, "sub": sub, "email": email,
                       "role": "authenticated", "app_metadata": {"provider": "email"}, "user_metadata": {}},
                      JWT_SECRET, algorithm="HS256")


class World:
    """Everything the matrix names, made in the test's app context; fields(target) for URLs and bodies."""

    WEBHOOK_BODY = json.dumps({"event": "room_started", "id": "EV_matrix"}).encode()

    def __init__(self, app, media_dir, uploads):
        self.app, self.uploads = app, uploads
        self.users = {"A": make_user("a@example.com"), "B": make_user("b@example.com"),
                      "admin": make_user("admin@example.com", super_admin=True)}
        a, b, admin = self.users["A"], self.users["B"], self.users["admin"]
        video, audio = media_dir / "sample.mp4", media_dir / "sample.m4a"
        self.recordings = {
            "a_meet": make_recording(owner=a, file=video, title="A standup"),
            "b_meet": make_recording(owner=b, file=video, title="B standup"),
            "voice": make_recording("voice", owner=a, file=audio, title="A call"),
            "djdash": make_recording(owner=a, product="djdash", file=video, title="DJ set"),
        }
        for recording in self.recordings.values():  # each has its poster, so a poster cell shows who may see it
            put_object(posters.poster_key(recording), data=b"\xff\xd8\xff\xe0 poster", content_type="image/jpeg")
            recording.poster_status = posters.READY
        db.session.commit()
        self.clip_of = {"a_clip": ("a_meet", a), "b_clip": ("b_meet", b), "voice_clip": ("voice", admin),
                        "djdash_clip": ("djdash", a)}
        self.clips = {name: self.make_clip(name) for name in self.clip_of}
        self.links = {"a_link": make_share_link(a, self.recordings["a_meet"]),
                      "b_link": make_share_link(b, self.recordings["b_meet"]),
                      "djdash_link": self._forged_link(a, self.recordings["djdash"])}
        self.tiktok = social.save_connection(
            a, "tiktok", external_user_id="open-1", display_name="acme", token={"access_token": "tt-token"},
            destinations=[("tiktok", "open-1", "acme", None)]).destinations[0].id
        self.export = SocialExport(target_type="clip", target_id=self.clips["a_clip"].id, shape="original",
                                   fill="blur", status="ready", storage_key="exports/matrix.mp4")
        db.session.add(self.export)
        db.session.commit()
        put_object(self.export.storage_key)
        self.post = self.make_post()
        self.bearer = access_token("a@example.com", "6f0c2a9e-0000-4000-8000-00000000000a")

    def make_clip(self, name, awaiting_upload=False):
        recording_name, user = self.clip_of[name]
        recording = self.recordings[recording_name]
        if not awaiting_upload:
            return make_clip(recording, "ready", user=user)
        clip = make_clip(recording, "awaiting_upload", uploaded=False, user=user, start=2.0, end=8.0)
        kind = "audio" if recording.source_type == "voice" else "video"
        put_object(clip.storage_key, data=self.uploads[kind], content_type=f"{kind}/mp4")
        return clip

    def meta_connection(self):
        """A's Meta connection with one Facebook Page: the same one again, or a new one after a Disconnect cell."""
        return social.save_connection(self.users["A"], "meta", external_user_id="u-1", display_name="Acme",
                                      token={"access_token": "user-token"},
                                      destinations=[("facebook", "p1", "Acme Page", "page-token")])

    def make_post(self):
        post = Publication(user_id=self.users["A"].id, target_type="clip", target_id=self.clips["a_clip"].id,
                           destination_id=self.meta_connection().destinations[0].id, platform="facebook",
                           destination_name="Acme Page",
                           shape="original", fill="blur", status=PublicationStatus.FAILED, error="refused",
                           export_id=self.export.id)
        db.session.add(post)
        db.session.commit()
        return post

    @staticmethod
    def _forged_link(user, recording):
        """A link row to a recording outside ALLOWED_PRODUCTS (no API makes one; a database could hold one)."""
        token = secrets.token_urlsafe(32)
        db.session.add(ShareLink(token_hash=hash_token(token), target_type=recording.source_type,
                                 target_id=str(recording.id), created_by_id=user.id))
        db.session.commit()
        return token

    def fields(self, target, rule, fresh):
        """The values a URL template or body takes for this target (a fresh object when asked)."""
        values = {"wasm_version": wasm_version()}
        if target in self.recordings:
            recording = self.recordings[target]
            owner = db.session.get(type(self.users["A"]), recording.owner_id)
            values.update(type=recording.source_type, id=recording.id, owner=owner.email if owner else None,
                          share_type=recording.source_type, share_id=recording.id)
        if target in self.clip_of:
            clip = self.make_clip(target, awaiting_upload=rule.endswith("/complete")) if fresh else self.clips[target]
            values.update(clip=clip.id, type=clip.source_type, id=clip.source_id, share_type="clip", share_id=clip.id)
            if rule == "/api/social/publications":
                values.update(facebook=self.meta_connection().destinations[0].id)
        if target in self.links:
            token = self.links[target]
            if fresh:
                owner = self.users["A" if target == "a_link" else "B"]
                token = make_share_link(owner, self.recordings["a_meet" if target == "a_link" else "b_meet"])
            link = db.session.query(ShareLink).filter_by(token_hash=hash_token(token)).one()
            values.update(link_token=token, link_id=link.id)
        if target == "a_connection":
            values.update(connection=self.meta_connection().id)
        if target == "a_destination":
            values.update(destination=self.tiktok)
        if target == "a_post":
            values.update(post=(self.make_post() if fresh else self.post).id, clip=self.clips["a_clip"].id)
        if target in ("signed", "forged"):
            values.update(self._capabilities(target == "signed"))
        return values

    def _capabilities(self, genuine):
        if not genuine:
            return {"object_token": "eyJrIjoiZm9yZ2VkIn0.forged.signature", "upload_query": "policy=forged",
                    "media_token": "eyJmb3JnZWQiOnRydWV9.forged.signature", "webhook_auth": "forged.jwt.token"}
        storage = get_storage()
        with self.app.test_request_context():
            object_url = storage.signed_download_url(self.recordings["a_meet"].recording_url, filename="a.mp4",
                                                     ttl=600)
            upload = storage.signed_upload(f"clips/uploads/{secrets.token_hex(16)}.mp4", content_type="video/mp4",
                                           max_bytes=10_000, ttl=600)
            media_token = urlsplit(publish._signer().dumps(self.post.id)).path
        claims = {"iss": LIVEKIT_KEY, "nbf": int(time.time()) - 5, "exp": int(time.time()) + 600,
                  "sha256": base64.b64encode(hashlib.sha256(self.WEBHOOK_BODY).digest()).decode()}
        return {"object_token": urlsplit(object_url).path.rsplit("/", 1)[1],
                "upload_query": urlsplit(upload.url).query, "upload_fields": upload.fields,
                "media_token": media_token, "webhook_auth": jwt.encode(claims, LIVEKIT_SECRET, algorithm="HS256")}


@pytest.fixture
def app_config():
    return dict(CONFIG)


@pytest.fixture
def world(app, media_dir, uploads):
    return World(app, media_dir, uploads)


# --- callers ------------------------------------------------------------------------------------

class Caller:
    """One actor's way of calling: a cookie session with its CSRF token, a bearer token, or nothing."""

    def __init__(self, app, world, actor, login):
        self.app, self.world, self.actor, self._login = app, world, actor, login
        self._client = None

    def client(self, own=False):
        """(flask test client, headers for unsafe methods, headers for every call); `own`: a new one."""
        if own or self._client is None:
            if self.actor == "bearer":
                # Keeps cookies, as a page on Reclip's own origin would: the login form's CSRF token is in its
                # session cookie (which once made Flask-Login refuse the valid token: webapp/extensions.py).
                browser = self.app.test_client()
                browser.get("/login")
                made = (browser, {}, {"Authorization": f"Bearer {self.world.bearer}"})
            elif self.actor == "anon":
                from tests.conftest import Client
                anonymous = Client(self.app)
                made = (anonymous.flask, {"X-CSRFToken": anonymous.csrf_token}, {})
            else:
                logged_in = self._login(self.world.users[self.actor])
                made = (logged_in.flask, {"X-CSRFToken": logged_in.csrf_token}, {})
            if own:
                return made
            self._client = made
        return self._client

    def forget(self):
        """A logout ends every session of the person: the next cell logs in again."""
        self._client = None


def fill(template, values):
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, str) and template.startswith("{") and template.endswith("}") and \
            template[1:-1] in values:
        return values[template[1:-1]]
    return template.format(**values) if isinstance(template, str) else template


def request_for(method, rule, target, world, fresh):
    """(url, keyword arguments for the test client) of one cell."""
    values = world.fields(target, rule, fresh)
    as_get = "GET" if method == "HEAD" else method  # HEAD is GET without the body
    url = fill(URLS.get((as_get, rule), URLS.get(rule, rule)), values)
    kwargs = {}
    if (method, rule) in BODIES and BODIES[(method, rule)] is not None:
        kwargs["json"] = fill(BODIES[(method, rule)], values)
    elif (method, rule) in FORMS:
        kwargs["data"] = dict(FORMS[(method, rule)])
    elif rule == "/storage/upload":
        kwargs["data"] = {**values.get("upload_fields", {"key": "clips/uploads/x.mp4", "Content-Type": "video/mp4"}),
                          "file": (io.BytesIO(b"\0" * 100), "clip.mp4")}
    elif rule == "/api/livekit/webhook":
        kwargs["data"] = World.WEBHOOK_BODY
        kwargs["headers"] = {"Content-Type": "application/webhook+json", "Authorization": values["webhook_auth"]}
    return url, kwargs


def call(caller, method, rule, target, world, csrf=True):
    """(url, response) of one cell; csrf=False leaves the CSRF token out."""
    flask_client, unsafe_headers, headers = caller.client(own=(method, rule) in OWN_CLIENT)
    url, kwargs = request_for(method, rule, target, world, fresh=(method, rule) in FRESH)
    headers = {**headers, **(unsafe_headers if csrf and method in UNSAFE else {}), **kwargs.pop("headers", {})}
    response = flask_client.open(url, method=method, headers=headers, **kwargs)
    if (method, rule) == ("POST", "/logout"):
        caller.forget()
    return url, response


def check(response, method, rule, target, expected, world, path):
    status = response.status_code
    assert status < 500, f"a {status}: {response.get_data(as_text=True)[:300]}"
    location = urlsplit(response.headers.get("Location", ""))
    to_log_in = location.path == "/login" and "next=" in location.query  # login_required's redirect
    if expected == "login":
        assert status == 302 and to_log_in, f"{status} {response.headers.get('Location')}"
        return
    if expected in ("200+", "200-"):
        assert status == 200, response.get_data(as_text=True)[:300]
        if method != "HEAD":
            listed, field = LISTED[rule]
            wanted = world.fields(target, rule, fresh=False)[field]
            assert (wanted in listed(response.get_json())) is (expected == "200+"), response.get_json()
        return
    assert status == int(expected), f"{status}: {response.get_data(as_text=True)[:300]}"
    assert not to_log_in, f"sent to log in: {response.headers['Location']}"
    if path.startswith("/api/") and status >= 400 and method != "HEAD":
        assert response.mimetype == "application/json" and set(response.get_json()) == {"error"}
        if status == 404:  # the very answer of a missing id: nothing tells that the object exists
            assert response.get_json()["error"]["code"] == "not_found", response.get_json()


# --- the tests ----------------------------------------------------------------------------------

def test_every_route_and_method_has_a_row(app):
    """A (rule, method) of the URL map without a row fails here: a new route cannot escape the matrix."""
    rows = {(method, rule) for method, rule, _target, _expected in CELLS}
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert len({short(rule) for rule in rules}) == len(rules), "two rules differ only in converters: write them out"
    served = {(method, short(rule.rule)) for rule in app.url_map.iter_rules() for method in rule.methods
              if method != "OPTIONS"}
    assert sorted(served - rows) == [], "routes with no row in MATRIX"
    assert sorted(rows - served - {("OPTIONS", "*")}) == [], "rows for routes that do not exist"


def test_every_row_is_well_formed():
    targets = {"-", "a_meet", "b_meet", "voice", "djdash", "a_clip", "b_clip", "voice_clip", "djdash_clip",
               "a_link", "b_link", "djdash_link", "a_connection", "a_destination", "a_post", "signed", "forged"}
    for method, rule, target, expected in CELLS:
        assert target in targets, (method, rule, target)
        for value in expected.values():
            assert value in ("login", "200+", "200-") or value.isdigit(), (method, rule, target, value)
        assert ("200+" in expected.values() or "200-" in expected.values()) <= (rule in LISTED), (method, rule)
        # Someone else's object is 404, never 403: 403 only where the caller sees the object but may not act.
        assert "403" not in expected.values() or rule in SEEN_BUT_NOT_ALLOWED, (method, rule, target)


@pytest.mark.parametrize("actor", ACTORS)
def test_matrix(actor, app, world, login, subtests):
    caller = Caller(app, world, actor, login)
    for method, rule, target, expected in CELLS:
        if rule == "*":
            continue
        with subtests.test(f"{actor} {method} {rule} [{target}]"):
            path, response = call(caller, method, rule, target, world)
            check(response, method, rule, target, expected[actor], world, urlsplit(path).path)

    # OPTIONS is answered by Flask itself (the methods that the URL allows), before any view: the same for all.
    (_method, _rule, _target, expected), = [cell for cell in CELLS if cell[0] == "OPTIONS"]
    flask_client, _unsafe, headers = caller.client()
    example = {rule: (method, target) for method, rule, target, _expected in CELLS}
    for rule in app.url_map.iter_rules():
        with subtests.test(f"{actor} OPTIONS {rule.rule}"):
            method, target = example[short(rule.rule)]
            url, _kwargs = request_for(method, short(rule.rule), target, world, fresh=False)
            response = flask_client.options(url, headers=headers)
            assert response.status_code == int(expected[actor]), response.get_data(as_text=True)[:300]
            assert rule.methods <= set(response.headers["Allow"].split(", "))


@pytest.mark.parametrize("actor", ["anon", "A"])
def test_cookie_calls_without_the_csrf_token_are_refused(actor, app, world, login, subtests):
    """Every unsafe (rule, method) of the matrix refuses a cookie call that lacks the CSRF token (400), before it
    looks at who is asking, except the CSRF_EXEMPT ones, which answer as in the matrix."""
    caller = Caller(app, world, actor, login)
    for method, rule, target, expected in CELLS:
        if method not in UNSAFE:
            continue
        with subtests.test(f"{actor} {method} {rule} [{target}] without the CSRF token"):
            path, response = call(caller, method, rule, target, world, csrf=False)
            if (method, rule) in CSRF_EXEMPT:
                check(response, method, rule, target, expected[actor], world, urlsplit(path).path)
                continue
            assert response.status_code == 400, response.get_data(as_text=True)[:300]
            if urlsplit(path).path.startswith("/api/"):
                assert response.get_json()["error"]["code"] == "csrf_failed"
