"""The OpenAPI description of the JSON API, served at /api/openapi.json."""
from flask import Blueprint, jsonify

from webapp.clips.states import ClipStatus
from webapp.recordings.models import MEDIA_KINDS

bp = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description):
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _json(description, schema):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


TYPE_PARAM = {"name": "type", "in": "query", "required": True, "schema": {"type": "string", "enum": ["meet", "voice"]}}
ID_PARAM = {"name": "id", "in": "query", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
CLIP_ID_PARAM = {"name": "clip_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
TOKEN_PARAM = {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
COMMON_ERRORS = {"400": _error("Bad input"), "401": _error("Not logged in"), "404": _error("Not found or not yours"),
                 "413": _error("Body larger than the endpoint accepts")}
REDIRECT = {"302": {"description": "Redirect to a short-lived presigned URL",
                    "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}}}}

MEDIA_KIND = {"type": "string", "enum": list(MEDIA_KINDS), "description": "whether there is a picture"}

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Reclip API", "version": "1.0.0",
             "description": "Play, download, clip and share meeting and call recordings. Session cookie auth "
                            "(unsafe methods need the X-CSRFToken header: the page's meta csrf-token), or "
                            "Authorization: Bearer <Supabase access token> when Supabase Auth is configured "
                            "(no CSRF token then)."},
    "components": {
        "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"},
                            "supabase": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                         "description": "The dashboard's Supabase Auth access token"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
            "Recording": {"type": "object", "properties": {
                "id": {"type": "integer"}, "type": {"type": "string", "enum": ["meet", "voice"]},
                "media_kind": MEDIA_KIND, "title": {"type": "string"},
                "failure": {"type": ["string", "null"], "description": "why its Egress failed (super admins only see these)"},
                "product": {"type": "string"}, "owner": {"type": ["string", "null"]},
                "created_at": {"type": "string", "format": "date-time"},
                "duration_seconds": {"type": ["number", "null"]}, "size_bytes": {"type": ["integer", "null"]},
                "links": {"type": "object"}, "clips": {"type": "array", "items": {"$ref": "#/components/schemas/Clip"}}}},
            "Clip": {"type": "object", "properties": {
                "id": {"type": "string"}, "type": {"type": "string"}, "recording_id": {"type": "integer"},
                "media_kind": MEDIA_KIND, "title": {"type": ["string", "null"], "maxLength": 200},
                "start_seconds": {"type": "number"}, "end_seconds": {"type": "number"},
                "mode": {"type": "string", "enum": ["browser", "server"]}, "precise": {"type": "boolean"},
                "status": {"type": "string", "enum": [status.value for status in ClipStatus]},
                "step": {"type": ["string", "null"]}, "size_bytes": {"type": ["integer", "null"]},
                "duration_seconds": {"type": ["number", "null"]}, "error": {"type": ["string", "null"]},
                "created_at": {"type": "string", "format": "date-time"}, "links": {"type": "object"}}},
            "ClipRequest": {"type": "object", "required": ["type", "id", "start_seconds", "end_seconds"], "properties": {
                "type": {"type": "string", "enum": ["meet", "voice"]}, "id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                "start_seconds": {"type": "number", "minimum": 0}, "end_seconds": {"type": "number"},
                "mode": {"type": "string", "enum": ["browser", "server"], "default": "browser"},
                "title": {"type": ["string", "null"], "maxLength": 200,
                          "description": "default: the recording's title and the clip's times"},
                "precise": {"type": "boolean", "default": False}}},
            "Upload": {"description": "Where the browser sends the clip, then calls complete", "oneOf": [
                {"title": "Presigned POST (local, S3)", "type": "object", "required": ["url", "fields"],
                 "description": "multipart/form-data: every field, then the file as `file`",
                 "properties": {"url": {"type": "string"}, "fields": {"type": "object"}}},
                {"title": "Signed PUT (Supabase Storage)", "type": "object", "required": ["url", "method", "headers"],
                 "description": "the file as the raw body, with these headers; size and type are checked by complete",
                 "properties": {"url": {"type": "string"}, "method": {"const": "PUT"},
                                "headers": {"type": "object", "additionalProperties": {"type": "string"}}}}]},
            "ShareLink": {"type": "object", "properties": {
                "id": {"type": "integer"}, "url": {"type": ["string", "null"]},
                "target_type": {"type": "string", "enum": ["meet", "voice", "clip"]}, "target_id": {"type": "string"},
                "expires_at": {"type": ["string", "null"]}, "revoked_at": {"type": ["string", "null"]},
                "state": {"type": "string", "enum": ["active", "revoked", "expired"]},
                "allow_download": {"type": "boolean"}, "has_password": {"type": "boolean"},
                "is_default": {"type": "boolean"}, "view_count": {"type": "integer"}}},
            "Destination": {"type": "object", "properties": {
                "id": {"type": "integer"}, "platform": {"type": "string", "enum": ["facebook", "instagram", "tiktok"]},
                "name": {"type": "string"}, "label": {"type": "string"},
                "status": {"type": "string", "enum": ["active", "needs_reconnect"]}}},
            "Publication": {"type": "object", "properties": {
                "id": {"type": "string"}, "platform": {"type": "string"}, "destination": {"type": "string"},
                "target_type": {"type": "string", "enum": ["clip", "meet", "voice"]}, "target_id": {"type": "string"},
                "shape": {"type": "string", "enum": ["original", "vertical", "square"]},
                "fill": {"type": "string", "enum": ["blur", "crop"]},
                "status": {"type": "string", "enum": ["queued", "exporting", "uploading", "processing", "published",
                                                      "inbox", "failed"]},
                "message": {"type": "string"}, "permalink": {"type": ["string", "null"]},
                "error": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"},
                "links": {"type": "object"}}},
            "ShareLinkRequest": {"type": "object", "required": ["target_type", "target_id"], "properties": {
                "target_type": {"type": "string", "enum": ["meet", "voice", "clip"]},
                "target_id": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]},
                "expires_in_seconds": {"type": ["integer", "null"], "minimum": 60, "maximum": 31536000},
                "allow_download": {"type": "boolean", "default": True},
                "password": {"type": ["string", "null"], "minLength": 8, "maxLength": 128},
                "default": {"type": "boolean", "default": False}}},
        },
    },
    "security": [{"session": []}, {"supabase": []}],
    "paths": {
        "/api/livekit/recordings": {"get": {
            "summary": "List recordings, newest first", "parameters": [
                {**TYPE_PARAM, "required": False},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                {"name": "q", "in": "query", "description": "words that must all appear in the title, any case",
                 "schema": {"type": "string", "maxLength": 100}}],
            "responses": {"200": _json("A page", {"type": "object", "properties": {
                "recordings": {"type": "array", "items": {"$ref": "#/components/schemas/Recording"}},
                "next_cursor": {"type": ["string", "null"]}}}), **COMMON_ERRORS}}},
        "/api/livekit/recordings/download": {"get": {
            "summary": "Download (attachment)", "parameters": [TYPE_PARAM, ID_PARAM],
            "responses": {**REDIRECT, "200": {"description": "Streamed (external URL), Range supported"},
                          "206": {"description": "Partial content"}, **COMMON_ERRORS,
                          "502": _error("Upstream failed"), "503": _error("Storage unreachable")}}},
        "/api/livekit/recordings/play": {"get": {
            "summary": "Play (inline); format=json answers {url, size_bytes, expires_in, container} for the editor "
                       "(an mp4, m4a or mov container is read by Range requests)",
            "parameters": [TYPE_PARAM, ID_PARAM, {"name": "format", "in": "query", "schema": {"enum": ["json"]}}],
            "responses": {**REDIRECT, "200": {"description": "Streamed, or the JSON source"}, **COMMON_ERRORS}}},
        "/api/livekit/recordings/owner": {"patch": {
            "summary": "Assign a recording to a user by email, or to nobody (super admins only)",
            "parameters": [TYPE_PARAM, ID_PARAM],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["owner"],
                "properties": {"owner": {"type": ["string", "null"], "format": "email"}}}}}},
            "responses": {"200": _json("Assigned", {"type": "object", "properties": {
                "recording": {"$ref": "#/components/schemas/Recording"}}}),
                "403": _error("Not a super admin"), **COMMON_ERRORS}}},
        "/api/livekit/recordings/timeline": {"get": {
            "summary": "The clip editor's timeline: {status: queued|ready|failed} and, once ready, signed URLs of the "
                       "thumbnail sprite, its WebVTT track, the peaks (waveform-data JSON) and the keyframe times",
            "parameters": [TYPE_PARAM, ID_PARAM],
            "responses": {"200": _json("The timeline's state and files", {"type": "object", "properties": {
                "status": {"type": ["string", "null"], "enum": ["queued", "ready", "failed", None]},
                "sprite": {"type": "string"}, "thumbnails": {"type": "string"}, "peaks": {"type": "string"},
                "keyframes": {"type": "string"}}}), **COMMON_ERRORS}}},
        "/api/livekit/recordings/poster": {"get": {
            "summary": "The recording's poster image (a frame, or a waveform for audio), once its job made it",
            "parameters": [TYPE_PARAM, ID_PARAM], "responses": {**REDIRECT, **COMMON_ERRORS}}},
        "/api/livekit/recordings/clips": {
            "post": {"summary": "Create a clip", "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/ClipRequest"}}}},
                "responses": {"201": _json("Browser clip: upload it, then complete", {"type": "object", "properties": {
                    "clip": {"$ref": "#/components/schemas/Clip"}, "source_url": {"type": "string"},
                    "upload": {"$ref": "#/components/schemas/Upload"}}}),
                    "202": _json("Server clip queued", {"type": "object", "properties": {"clip": {"$ref": "#/components/schemas/Clip"}}}),
                    "422": _error("An external recording that is not a plain MP4, M4A or WebM file"),
                    "429": _error("Too many clips: the rate, pending uploads or server jobs (Retry-After)"),
                    **COMMON_ERRORS, "503": _error("Storage or queue unreachable")}},
            "get": {"summary": "Clips of a recording", "parameters": [TYPE_PARAM, ID_PARAM],
                    "responses": {"200": _json("Clips", {"type": "object", "properties": {
                        "clips": {"type": "array", "items": {"$ref": "#/components/schemas/Clip"}}}}), **COMMON_ERRORS}}},
        "/api/livekit/recordings/clips/{clip_id}": {
            "parameters": [CLIP_ID_PARAM],
            "get": {"summary": "One clip", "responses": {"200": _json("The clip", {"type": "object", "properties": {
                "clip": {"$ref": "#/components/schemas/Clip"}}}), **COMMON_ERRORS}},
            "patch": {"summary": "Rename a clip (its creator, the recording's owner or a super admin)",
                      "requestBody": {"required": True, "content": {"application/json": {"schema": {
                          "type": "object", "required": ["title"],
                          "properties": {"title": {"type": ["string", "null"], "maxLength": 200}}}}}},
                      "responses": {"200": _json("Renamed", {"type": "object", "properties": {
                          "clip": {"$ref": "#/components/schemas/Clip"}}}), "403": _error("Not allowed to rename it"),
                          **COMMON_ERRORS}},
            "delete": {"summary": "Delete a clip and its file (its creator, the recording's owner or a super admin)",
                       "responses": {"204": {"description": "Deleted"}, "403": _error("Not allowed to delete it"),
                                     **COMMON_ERRORS}}},
        "/api/livekit/recordings/clips/{clip_id}/complete": {"parameters": [CLIP_ID_PARAM], "post": {
            "summary": "Check the uploaded clip (only its creator)", "responses": {
                "200": _json("Ready", {"type": "object", "properties": {"clip": {"$ref": "#/components/schemas/Clip"}}}),
                "403": _error("Not the clip's creator"),
                "409": _error("Not waiting for an upload, or being checked already"),
                "422": _json("Rejected: the clip failed", {"type": "object", "properties": {
                    "error": ERROR, "clip": {"$ref": "#/components/schemas/Clip"}}}), **COMMON_ERRORS}}},
        "/api/livekit/recordings/clips/{clip_id}/download": {"parameters": [CLIP_ID_PARAM], "get": {
            "summary": "Download a ready clip", "responses": {**REDIRECT, "409": _error("Not ready"), **COMMON_ERRORS}}},
        "/api/livekit/recordings/clips/{clip_id}/play": {"parameters": [CLIP_ID_PARAM], "get": {
            "summary": "Play a ready clip (inline)", "responses": {**REDIRECT, "409": _error("Not ready"), **COMMON_ERRORS}}},
        "/api/share-links": {
            "post": {"summary": "Create a share link (default: the reusable Copy-link link)",
                     "requestBody": {"required": True, "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/ShareLinkRequest"}}}},
                     "responses": {"201": _json("Created", {"type": "object", "properties": {
                         "share_link": {"$ref": "#/components/schemas/ShareLink"}}}),
                         "200": _json("The existing default link", {"type": "object"}), **COMMON_ERRORS}},
            "get": {"summary": "Own share links (super admin: all)", "parameters": [
                {"name": "target_type", "in": "query", "schema": {"type": "string", "enum": ["meet", "voice", "clip"]}},
                {"name": "target_id", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _json("Links", {"type": "object", "properties": {
                    "share_links": {"type": "array", "items": {"$ref": "#/components/schemas/ShareLink"}}}}), **COMMON_ERRORS}}},
        "/api/share-links/{link_id}": {"delete": {
            "summary": "Revoke", "parameters": [{"name": "link_id", "in": "path", "required": True,
                                                 "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}],
            "responses": {"204": {"description": "Revoked"}, **COMMON_ERRORS}}},
        "/api/social/destinations": {"get": {
            "summary": "Where the person may post: the configured platforms and their connected destinations",
            "responses": {"200": _json("Destinations", {"type": "object", "properties": {
                "platforms": {"type": "array", "items": {"type": "string"}},
                "destinations": {"type": "array", "items": {"$ref": "#/components/schemas/Destination"}},
                "connect_url": {"type": "string"},
                "tiktok_direct_post": {"type": "boolean"}}}), **COMMON_ERRORS}}},
        "/api/social/destinations/{destination_id}/creator-info": {"get": {
            "summary": "TikTok's creator info for the Post form (privacy options, longest video, what is disabled)",
            "parameters": [{"name": "destination_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 1}}],
            "responses": {"200": _json("Creator info", {"type": "object"}),
                          "409": _error("The connection must be reconnected, or TikTok posts go to the inbox here "
                                        "(inbox_only)"), "502": _error("TikTok failed"),
                          **COMMON_ERRORS}}},
        "/api/social/publications": {
            "post": {"summary": "Post a ready clip (or a recording) to a connected destination, in a shape",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["target_type", "target_id", "destination_id"], "properties": {
                             "target_type": {"type": "string", "enum": ["clip", "meet", "voice"]},
                             "target_id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                             "destination_id": {"type": "integer"},
                             "shape": {"type": "string", "enum": ["original", "vertical", "square"], "default": "original"},
                             "fill": {"type": "string", "enum": ["blur", "crop"], "default": "blur"},
                             "caption": {"type": "string"}, "privacy_level": {"type": "string"}}}}}},
                     "responses": {"202": _json("Queued", {"type": "object", "properties": {
                         "publication": {"$ref": "#/components/schemas/Publication"}}}),
                         "409": _error("Not ready, platform off, or the connection must be reconnected"),
                         "429": _error("Too many posts on their way"), **COMMON_ERRORS,
                         "503": _error("Queue unreachable")}},
            "get": {"summary": "The person's posts of a clip or recording", "parameters": [
                {"name": "target_type", "in": "query", "required": True,
                 "schema": {"type": "string", "enum": ["clip", "meet", "voice"]}},
                {"name": "target_id", "in": "query", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json("Posts", {"type": "object", "properties": {"publications": {
                    "type": "array", "items": {"$ref": "#/components/schemas/Publication"}}}}), **COMMON_ERRORS}}},
        "/api/social/publications/{publication_id}": {"parameters": [{"name": "publication_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}], "get": {
            "summary": "One post and its status", "responses": {"200": _json("The post", {"type": "object", "properties": {
                "publication": {"$ref": "#/components/schemas/Publication"}}}), **COMMON_ERRORS}}},
        "/api/social/publications/{publication_id}/retry": {"parameters": [{"name": "publication_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}], "post": {
            "summary": "Try a failed post again", "responses": {"202": _json("Queued again", {"type": "object"}),
                                                               "409": _error("Not failed"), **COMMON_ERRORS}}},
        "/api/livekit/webhook": {"post": {
            "summary": "LiveKit Egress webhook: Authorization is a JWT (HS256, iss = LIVEKIT_API_KEY) whose sha256 "
                       "claim is the base64 SHA-256 of the body; egress_ended registers the recording",
            "security": [], "requestBody": {"required": True, "content": {"application/webhook+json": {"schema": {"type": "object"}}}},
            "responses": {"200": _json("Handled", {"type": "object", "properties": {
                "status": {"type": "string"}, "skipped": {"type": "array", "items": {"type": "object"}}}}),
                          "400": _error("Bad event"), "401": _error("Bad signature"), "404": _error("Not configured")}}},
        "/auth/supabase": {"post": {
            "summary": "Exchange a Supabase access token (Authorization: Bearer, or JSON {access_token}) for a "
                       "session cookie", "security": [],
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"access_token": {"type": "string"}}}}}},
            "responses": {"200": _json("Signed in", {"type": "object", "properties": {"user": {
                "type": "object", "properties": {"email": {"type": "string"}, "super_admin": {"type": "boolean"}}}}}),
                "401": _error("Missing, expired or invalid token"), "404": _error("Supabase Auth not configured"),
                "409": _error("The email belongs to another dashboard account")}}},
        "/s/{token}/media": {"get": {"summary": "Inline media of a share link", "security": [], "parameters": [TOKEN_PARAM],
                                     "responses": {**REDIRECT, "404": _error("Unknown"), "410": _error("Revoked or expired")}}},
        "/s/{token}/download": {"get": {"summary": "Download through a share link", "security": [], "parameters": [TOKEN_PARAM],
                                        "responses": {**REDIRECT, "403": _error("Downloads not allowed"), "410": _error("Revoked or expired")}}},
        "/healthz": {"get": {"summary": "Health", "security": [], "responses": {
            "200": _json("Healthy", {"type": "object"}), "503": _json("Unhealthy", {"type": "object"})}}},
    },
}


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(SPEC)
