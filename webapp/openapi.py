"""The OpenAPI description of the JSON API, served at /api/openapi.json.

Precise enough to fuzz (tests/test_fuzz.py): request bodies with their types and bounds, every error a route
can answer, response bodies, and links between operations (a created clip -> get, complete, share it)."""
from flask import Blueprint, jsonify

from webapp.clips.states import ClipStatus
from webapp.recordings.models import MEDIA_KINDS

bp = Blueprint("openapi", __name__)

MAX_ID = 2**31 - 1
ERROR = {"$ref": "#/components/schemas/Error"}
ERRORS = {
    "400": "Bad input: the error's message says which field and why",
    "401": "Not logged in (no session, or a missing, expired or invalid bearer token)",
    "403": "Logged in but not allowed",
    "404": "Not found, or not yours (the same answer, so ids reveal nothing)",
    "409": "Not in a state that allows this",
    "413": "Body larger than the endpoint accepts (64 KiB)",
    "416": "Range outside the file",
    "422": "Well formed but unusable",
    "429": "Too many requests (Retry-After says when to try again)",
    "502": "The upstream (a recording's external host, a platform) failed",
    "503": "The database, storage, the job queue or Supabase Auth is unreachable right now",
}


def _json(description, schema, links=None):
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if links:
        response["links"] = links
    return response


def _errors(*codes, **descriptions):
    """{"400": error response, ...}: the standard words, or a route's own (`_409="..."`). Every route may answer
    400 (a NUL character in the path or query, say) and 503 (the database unreachable)."""
    return {str(code): _json(descriptions.get(f"_{code}", ERRORS[str(code)]), ERROR)
            for code in sorted({400, 503, *codes})}


def _obj(required=(), **properties):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _link(operation_id, description, parameters=None, body=None):
    link = {"operationId": operation_id, "description": description}
    if parameters:
        link["parameters"] = parameters
    if body:
        # The whole body: a fuzzer following the link (Schemathesis) sends it as is, not mixed into random fields.
        link.update({"requestBody": body, "x-schemathesis": {"merge_body": False}})
    return link


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


STR, BOOL, INT = {"type": "string"}, {"type": "boolean"}, {"type": "integer"}
NULL_STR = {"type": ["string", "null"]}
DATE_TIME = {"type": "string", "format": "date-time"}
RECORDING_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
CLIP_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
TYPE_PARAM = {"name": "type", "in": "query", "required": True, "schema": {"type": "string", "enum": ["meet", "voice"]}}
ID_PARAM = {"name": "id", "in": "query", "required": True, "schema": RECORDING_ID}
CLIP_ID_PARAM = {"name": "clip_id", "in": "path", "required": True, "schema": CLIP_ID}
PUBLICATION_ID_PARAM = {"name": "publication_id", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
TOKEN_PARAM = {"name": "token", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
REDIRECT = {"302": {"description": "Redirect to a short-lived signed URL",
                    "headers": {"Location": {"required": True, "schema": {"type": "string", "format": "uri-reference"}}}}}
MEDIA = {"description": "The media, streamed (an external recording through the proxy); Range supported",
         "content": {"video/*": {}, "audio/*": {}, "application/octet-stream": {}}}
HTML_ERROR = {"content": {"text/html": {"schema": {"type": "string"}}}}
DOWNLOAD_FORMAT_PARAM = {
    "name": "format", "in": "query", "schema": {"enum": ["json"]},
    "description": "json: answer 200 {url, filename} instead of the redirect: the signed attachment URL to go to "
                   "(an external recording: this endpoint without format, the proxy), so that a page learns of a "
                   "refusal (503 storage_unavailable, 404 media_missing) as JSON before it navigates. "
                   "Any other value is 400 invalid_format."}
DOWNLOAD_JSON = {"application/json": {"schema": _obj(["url", "filename"], url=STR, filename=STR)}}
DOWNLOAD_WHERE = {"description": "Where the file is (format=json), or the media streamed",
                  "content": {**DOWNLOAD_JSON, **MEDIA["content"]}}
MEDIA_KIND = {"type": "string", "enum": list(MEDIA_KINDS), "description": "whether there is a picture"}
CLIP_BODY = _obj(["clip"], clip=_ref("Clip"))
THE_CLIP = {"clip_id": "$response.body#/clip/id"}

# Where a clip leads: itself, its completion, a share link of it.
CLIP_LINKS = {
    "GetClip": _link("getClip", "The clip just made", THE_CLIP),
    "CompleteClip": _link("completeClip", "Check its upload", THE_CLIP),
    "RenameClip": _link("renameClip", "Rename it", THE_CLIP),
    "ShareClip": _link("createShareLink", "Share it", body={"target_type": "clip",
                                                            "target_id": "$response.body#/clip/id"}),
    "DeleteClip": _link("deleteClip", "Delete it (then it is 404)", THE_CLIP),
}
FIRST_RECORDING = {"type": "$response.body#/recordings/0/type", "id": "$response.body#/recordings/0/id"}
SHARE_LINK_LINKS = {
    "RevokeShareLink": _link("revokeShareLink", "Revoke it", {"link_id": "$response.body#/share_link/id"}),
    "ListShareLinksOfTarget": _link("listShareLinks", "The links of the same target", {
        "target_type": "$response.body#/share_link/target_type",
        "target_id": "$response.body#/share_link/target_id"}),
}

SCHEMAS = {
    "Error": _obj(["error"], error={**_obj(["code", "message"], code=STR, message=STR),
                                    "additionalProperties": False}),
    "Recording": _obj(
        ["id", "type", "media_kind", "title", "product", "owner", "created_at", "duration_seconds", "size_bytes",
         "links"],
        id=INT, type={"type": "string", "enum": ["meet", "voice"]}, media_kind=MEDIA_KIND, title=STR,
        failure={**NULL_STR, "description": "why its Egress failed (super admins only see these)"},
        product=STR, owner=NULL_STR, created_at=DATE_TIME,
        duration_seconds={"type": ["number", "null"]}, size_bytes={"type": ["integer", "null"]},
        links=_obj(["download", "play", "timeline"], download=STR, play=STR, timeline=STR, owner=STR, poster=STR),
        clips={"type": "array", "items": _ref("Clip")}),
    "Clip": _obj(
        ["id", "type", "recording_id", "start_seconds", "end_seconds", "mode", "status", "size_bytes",
         "duration_seconds", "error", "created_at", "links"],
        id=CLIP_ID, type={"type": "string", "enum": ["meet", "voice"]}, recording_id=INT,
        media_kind={**MEDIA_KIND, "type": ["string", "null"], "enum": [*MEDIA_KINDS, None]},
        title={"type": ["string", "null"], "maxLength": 200},
        start_seconds={"type": "number"}, end_seconds={"type": "number"},
        mode={"type": "string", "enum": ["browser", "server"]}, precise=BOOL,
        status={"type": "string", "enum": [status.value for status in ClipStatus]},
        step=NULL_STR, size_bytes={"type": ["integer", "null"]}, duration_seconds={"type": ["number", "null"]},
        error=NULL_STR, created_at=DATE_TIME,
        links=_obj(["self", "complete"], self=STR, complete=STR, download=STR, play=STR)),
    "ClipRequest": {**_obj(
        ["type", "id", "start_seconds", "end_seconds"],
        type={"type": "string", "enum": ["meet", "voice"]}, id=RECORDING_ID,
        start_seconds={"type": "number", "minimum": 0, "maximum": 1e9},
        end_seconds={"type": "number", "minimum": 1, "maximum": 1e9,
                     "description": "at least 1 s after start_seconds, at most CLIP_MAX_SECONDS (600) after it"},
        mode={"type": "string", "enum": ["browser", "server"], "default": "browser"},
        title={"type": ["string", "null"], "maxLength": 200,
               "description": "default: the recording's title and the clip's times"},
        precise={"type": "boolean", "default": False, "description": "an exact cut (re-encoded): mode server only"}),
        "example": {"type": "meet", "id": 1, "start_seconds": 2, "end_seconds": 8, "mode": "browser"}},
    "Upload": {"description": "Where the browser sends the clip, then calls complete", "oneOf": [
        {"title": "Presigned POST (local, S3)", "type": "object", "required": ["url", "fields"],
         "description": "multipart/form-data: every field, then the file as `file`",
         "properties": {"url": STR, "fields": {"type": "object", "additionalProperties": STR}}},
        {"title": "Signed PUT (Supabase Storage)", "type": "object", "required": ["url", "method", "headers"],
         "description": "the file as the raw body, with these headers; size and type are checked by complete",
         "properties": {"url": STR, "method": {"const": "PUT"},
                        "headers": {"type": "object", "additionalProperties": STR}}}]},
    "ShareLink": _obj(
        ["id", "url", "target_type", "target_id", "expires_at", "revoked_at", "state", "allow_download",
         "has_password", "is_default", "view_count", "created_at"],
        id=INT, url={**NULL_STR, "description": "only when just made (the token is stored hashed)"},
        target_type={"type": "string", "enum": ["meet", "voice", "clip"]}, target_id=STR,
        expires_at={"type": ["string", "null"], "format": "date-time"},
        revoked_at={"type": ["string", "null"], "format": "date-time"},
        state={"type": "string", "enum": ["active", "revoked", "expired"]},
        allow_download=BOOL, has_password=BOOL, is_default=BOOL, view_count={"type": "integer", "minimum": 0},
        created_at=DATE_TIME),
    "ShareLinkRequest": {
        "description": "A recording (target_id its integer id) or a clip (target_id its 32-character id). "
                       "`default` asks for the reusable Copy-link link: it never expires, has no password and "
                       "allows download (anything else with it is 400).",
        "oneOf": [
            _obj(["target_type", "target_id"], target_type={"type": "string", "enum": ["meet", "voice"]},
                 target_id=RECORDING_ID),
            _obj(["target_type", "target_id"], target_type={"const": "clip"},
                 target_id={"type": "string", "minLength": 32, "maxLength": 32})],
        "properties": {
            "expires_in_seconds": {"type": ["integer", "null"], "minimum": 60, "maximum": 31536000},
            "allow_download": {"type": "boolean", "default": True},
            "password": {"type": ["string", "null"], "minLength": 8, "maxLength": 128,
                         "description": "none: null or the empty string"},
            "default": {"type": "boolean", "default": False}}},
    "Destination": _obj(
        ["id", "platform", "name", "label", "status"],
        id=INT, platform={"type": "string", "enum": ["facebook", "instagram", "tiktok"]}, name=STR, label=STR,
        status={"type": "string", "enum": ["active", "needs_reconnect"]}),
    "Publication": _obj(
        ["id", "platform", "target_type", "target_id", "status"],
        id=STR, platform=STR, destination=STR, target_type={"type": "string", "enum": ["clip", "meet", "voice"]},
        target_id=STR, shape={"type": "string", "enum": ["original", "vertical", "square"]},
        fill={"type": "string", "enum": ["blur", "crop"]},
        status={"type": "string", "enum": ["queued", "exporting", "uploading", "processing", "published", "inbox",
                                           "failed"]},
        message=STR, permalink=NULL_STR, error=NULL_STR, created_at=DATE_TIME, links={"type": "object"}),
    "EgressEvent": {
        "description": "LiveKit's WebhookEvent (int64 fields as strings, as LiveKit's JSON has them). Reclip acts on "
                       "egress_ended only; an ended egress without a playable file result is skipped (said so) "
                       "and one without any result at all is 400.",
        "type": "object", "required": ["event"], "oneOf": [
            {"required": ["event", "egressInfo"], "properties": {"event": {"const": "egress_ended"}}},
            {"properties": {"event": {"type": "string", "enum": [
                "egress_started", "egress_updated", "room_started", "room_finished", "participant_joined",
                "participant_left", "track_published", "track_unpublished"]}}}],
        "properties": {
            "id": STR, "createdAt": STR,
            "egressInfo": _obj(
                ["egressId"], egressId={"type": "string", "minLength": 1, "maxLength": 64},
                roomName={"type": "string", "maxLength": 255},
                status={"type": "string", "enum": ["EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING",
                                                   "EGRESS_COMPLETE", "EGRESS_FAILED", "EGRESS_ABORTED",
                                                   "EGRESS_LIMIT_REACHED"]},
                error=STR,
                fileResults={"type": "array", "items": _ref("EgressFile")},
                file=_ref("EgressFile"),
                segmentResults={"type": "array", "items": {"type": "object"}},
                streamResults={"type": "array", "items": {"type": "object"}},
                imageResults={"type": "array", "items": {"type": "object"}})},
        "example": {"event": "egress_ended", "id": "EV_1", "egressInfo": {
            "egressId": "EG_example", "roomName": "standup", "status": "EGRESS_COMPLETE",
            "fileResults": [{"filename": "recordings/standup.mp4", "location": "recordings/standup.mp4",
                             "duration": "61500000000", "size": "7340032"}]}}},
    "EgressFile": _obj(
        filename=STR, location={"type": "string", "description": "an object key, or an http(s)/s3 URL"},
        duration={"type": "string", "pattern": "^[0-9]{1,19}$", "description": "nanoseconds"},
        size={"type": "string", "pattern": "^[0-9]{1,19}$", "description": "bytes"}),
}

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Reclip API", "version": "1.0.0",
             "description": "Play, download, clip and share meeting and call recordings. Session cookie auth "
                            "(unsafe methods need the X-CSRFToken header: the page's meta csrf-token), or "
                            "Authorization: Bearer <Supabase access token> when Supabase Auth is configured "
                            "(no CSRF token then). Errors are {\"error\": {\"code\", \"message\"}}. Text never holds a NUL "
                            "character (U+0000): a path, query, form or JSON body with one anywhere is 400."},
    "components": {
        "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "session"},
                            "supabase": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                         "description": "The dashboard's Supabase Auth access token"}},
        "schemas": SCHEMAS,
    },
    "security": [{"session": []}, {"supabase": []}],
    "paths": {
        "/api/livekit/recordings": {"get": {
            "operationId": "listRecordings", "summary": "List recordings, newest first", "parameters": [
                {**TYPE_PARAM, "required": False},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
                {"name": "cursor", "in": "query", "description": "next_cursor of the page before (opaque: 400 for "
                                                                 "one this API did not give out)",
                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"}},
                {"name": "q", "in": "query", "description": "words that must all appear in the title, any case",
                 "schema": {"type": "string", "maxLength": 100}}],
            "responses": {"200": _json("A page", _obj(
                ["recordings", "next_cursor"], recordings={"type": "array", "items": _ref("Recording")},
                next_cursor=NULL_STR), links={
                    "ClipTheFirst": _link("createClip", "Clip the newest recording", body={
                        **FIRST_RECORDING, "start_seconds": 2, "end_seconds": 8, "mode": "browser"}),
                    "ClipsOfTheFirst": _link("listClips", "The clips of the newest recording", FIRST_RECORDING),
                    "DownloadTheFirst": _link("downloadRecording", "Download the newest recording", FIRST_RECORDING),
                    "PlayTheFirst": _link("playRecording", "Play the newest recording", FIRST_RECORDING),
                    "ShareTheFirst": _link("createShareLink", "Share the newest recording", body={
                        "target_type": "$response.body#/recordings/0/type",
                        "target_id": "$response.body#/recordings/0/id"}),
                    "NextPage": _link("listRecordings", "The next page", {
                        "cursor": "$response.body#/next_cursor"})}),
                **_errors(400, 401, _400="A bad type, limit or q, or a cursor this API did not give out")}}},
        "/api/livekit/recordings/download": {"get": {
            "operationId": "downloadRecording", "summary": "Download (attachment)",
            "parameters": [TYPE_PARAM, ID_PARAM, DOWNLOAD_FORMAT_PARAM],
            "responses": {**REDIRECT, "200": DOWNLOAD_WHERE, "206": {**MEDIA, "description": "Partial content"},
                          **_errors(400, 401, 404, 409, 416, 422, 502, 503, _409="The recording's Egress failed",
                                    _416="Range outside the file")}}},
        "/api/livekit/recordings/play": {"get": {
            "operationId": "playRecording",
            "summary": "Play (inline); format=json answers {url, size_bytes, expires_in, container} for the editor "
                       "(an mp4, m4a or mov container is read by Range requests)",
            "parameters": [TYPE_PARAM, ID_PARAM, {"name": "format", "in": "query", "schema": {"enum": ["json"]}}],
            "responses": {**REDIRECT, "200": {
                "description": "The JSON source (format=json), or the media streamed",
                "content": {"application/json": {"schema": _obj(
                    ["url", "size_bytes", "expires_in", "container"], url=STR, size_bytes={"type": ["integer", "null"]},
                    expires_in=INT, container=NULL_STR)}, **MEDIA["content"]}},
                "206": {**MEDIA, "description": "Partial content"},
                **_errors(400, 401, 404, 409, 416, 422, 502, 503, _409="The recording's Egress failed",
                          _416="Range outside the file")}}},
        "/api/livekit/recordings/owner": {"patch": {
            "operationId": "assignRecording",
            "summary": "Assign a recording to a user by email, or to nobody (super admins only)",
            "parameters": [TYPE_PARAM, ID_PARAM],
            "requestBody": _body(_obj(["owner"], owner={"type": ["string", "null"], "format": "email",
                                                        "maxLength": 255})),
            "responses": {"200": _json("Assigned", _obj(["recording"], recording=_ref("Recording"))),
                          **_errors(400, 401, 403, 404, 413, _403="Not a super admin")}}},
        "/api/livekit/recordings/timeline": {"get": {
            "operationId": "getTimeline",
            "summary": "The clip editor's timeline: {status: queued|ready|failed} and, once ready, signed URLs of the "
                       "thumbnail sprite, its WebVTT track, the peaks (waveform-data JSON) and the keyframe times",
            "parameters": [TYPE_PARAM, ID_PARAM],
            "responses": {"200": _json("The timeline's state and files", _obj(
                ["status"], status={"type": ["string", "null"], "enum": ["queued", "ready", "failed", None]},
                sprite=STR, thumbnails=STR, peaks=STR, keyframes=STR)), **_errors(400, 401, 404, 503)}}},
        "/api/livekit/recordings/poster": {"get": {
            "operationId": "getPoster",
            "summary": "The recording's poster image (a frame, or a waveform for audio), once its job made it",
            "parameters": [TYPE_PARAM, ID_PARAM],
            "responses": {**REDIRECT, **_errors(400, 401, 404, 503, _404="No such recording, or no poster (yet)")}}},
        "/api/livekit/recordings/clips": {
            "post": {"operationId": "createClip", "summary": "Create a clip", "requestBody": _body(_ref("ClipRequest")),
                     "responses": {
                         "201": _json("Browser clip: upload it, then complete", _obj(
                             ["clip", "source_url", "upload"], clip=_ref("Clip"), source_url=STR,
                             upload=_ref("Upload")), links=CLIP_LINKS),
                         "202": _json("Server clip queued", CLIP_BODY, links=CLIP_LINKS),
                         **_errors(400, 401, 404, 409, 413, 422, 429, 502, 503,
                                   _400="Bad input, or a range the recording or CLIP_MAX_SECONDS does not allow",
                                   _409="The recording's Egress failed",
                                   _422="An external recording that is not a plain MP4, M4A or WebM file",
                                   _429="Too many clips: the rate, pending uploads or server jobs (Retry-After)")}},
            "get": {"operationId": "listClips", "summary": "Clips of a recording", "parameters": [TYPE_PARAM, ID_PARAM],
                    "responses": {"200": _json("Clips", _obj(["clips"], clips={"type": "array", "items": _ref("Clip")})),
                                  **_errors(400, 401, 404)}}},
        "/api/livekit/recordings/clips/{clip_id}": {
            "parameters": [CLIP_ID_PARAM],
            "get": {"operationId": "getClip", "summary": "One clip",
                    "responses": {"200": _json("The clip", CLIP_BODY), **_errors(401, 404)}},
            "patch": {"operationId": "renameClip",
                      "summary": "Rename a clip (its creator, the recording's owner or a super admin)",
                      "requestBody": _body(_obj(["title"], title={
                          "type": ["string", "null"], "maxLength": 200,
                          "description": "null or blank: the default title"})),
                      "responses": {"200": _json("Renamed", CLIP_BODY),
                                    **_errors(400, 401, 403, 404, 413, _403="Not allowed to rename it")}},
            "delete": {"operationId": "deleteClip",
                       "summary": "Delete a clip and its file (its creator, the recording's owner or a super admin)",
                       "responses": {"204": {"description": "Deleted"},
                                     **_errors(401, 403, 404, 503, _403="Not allowed to delete it")}}},
        "/api/livekit/recordings/clips/{clip_id}/complete": {"parameters": [CLIP_ID_PARAM], "post": {
            "operationId": "completeClip", "summary": "Check the uploaded clip (only its creator)", "responses": {
                "200": _json("Ready", CLIP_BODY, links={
                    "ShareReadyClip": CLIP_LINKS["ShareClip"],
                    "DownloadReadyClip": _link("downloadClip", "Download it", THE_CLIP)}),
                "422": _json("Rejected: the clip failed", _obj(["error", "clip"], error=SCHEMAS["Error"]["properties"]["error"],
                                                              clip=_ref("Clip")),
                             links={"GetFailedClip": CLIP_LINKS["GetClip"]}),
                **_errors(401, 403, 404, 409, 503, _403="Not the clip's creator",
                          _409="Not waiting for an upload, or being checked already")}}},
        "/api/livekit/recordings/clips/{clip_id}/download": {"parameters": [CLIP_ID_PARAM], "get": {
            "operationId": "downloadClip", "summary": "Download a ready clip", "parameters": [DOWNLOAD_FORMAT_PARAM],
            "responses": {**REDIRECT,
                          "200": {"description": "Where the file is (format=json)", "content": DOWNLOAD_JSON},
                          **_errors(401, 404, 409, 503, _409="Not ready")}}},
        "/api/livekit/recordings/clips/{clip_id}/play": {"parameters": [CLIP_ID_PARAM], "get": {
            "operationId": "playClip", "summary": "Play a ready clip (inline)",
            "responses": {**REDIRECT, **_errors(401, 404, 409, 503, _409="Not ready")}}},
        "/api/share-links": {
            "post": {"operationId": "createShareLink",
                     "summary": "Create a share link (default: the reusable Copy-link link)",
                     "requestBody": _body(_ref("ShareLinkRequest")),
                     "responses": {
                         "201": _json("Created", _obj(["share_link"], share_link=_ref("ShareLink")),
                                      links=SHARE_LINK_LINKS),
                         "200": _json("The existing default link", _obj(["share_link"], share_link=_ref("ShareLink")),
                                      links=SHARE_LINK_LINKS),
                         **_errors(400, 401, 404, 409, 413, _409="The recording's Egress failed")}},
            "get": {"operationId": "listShareLinks", "summary": "Own share links (super admin: all)", "parameters": [
                {"name": "target_type", "in": "query", "schema": {"type": "string", "enum": ["meet", "voice", "clip"]},
                 "description": "with target_id: the links of one recording or clip"},
                {"name": "target_id", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _json("Links", _obj(
                    ["share_links"], share_links={"type": "array", "items": _ref("ShareLink")}), links={
                        "RevokeTheFirst": _link("revokeShareLink", "Revoke the newest",
                                                {"link_id": "$response.body#/share_links/0/id"})}),
                    **_errors(400, 401, _400="target_type without target_id, or an unknown target_type")}}},
        "/api/share-links/{link_id}": {"delete": {
            "operationId": "revokeShareLink", "summary": "Revoke",
            "parameters": [{"name": "link_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}],
            "responses": {"204": {"description": "Revoked (again: still 204)"}, **_errors(401, 404)}}},
        "/api/social/destinations": {"get": {
            "operationId": "listDestinations",
            "summary": "Where the person may post: the configured platforms and their connected destinations",
            "responses": {"200": _json("Destinations", _obj(
                ["platforms", "destinations", "connect_url", "tiktok_direct_post"],
                platforms={"type": "array", "items": STR},
                destinations={"type": "array", "items": _ref("Destination")},
                connect_url=STR, tiktok_direct_post=BOOL)), **_errors(401)}}},
        "/api/social/destinations/{destination_id}/creator-info": {"get": {
            "operationId": "getCreatorInfo",
            "summary": "TikTok's creator info for the Post form (privacy options, longest video, what is disabled)",
            "parameters": [{"name": "destination_id", "in": "path", "required": True,
                            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}],
            "responses": {"200": _json("Creator info", _obj(["creator_info", "direct_post"],
                                                            creator_info={"type": "object"}, direct_post=BOOL)),
                          **_errors(400, 401, 404, 409, 502,
                                    _400="Not a TikTok destination",
                                    _409="The connection must be reconnected, or TikTok posts go to the inbox here "
                                         "(inbox_only)", _502="TikTok failed")}}},
        "/api/social/publications": {
            "post": {"operationId": "createPublication",
                     "summary": "Post a ready clip (or a recording) to a connected destination, in a shape",
                     "requestBody": _body({
                         "oneOf": [
                             _obj(["target_type", "target_id", "destination_id"], target_type={"const": "clip"},
                                  target_id=CLIP_ID, destination_id=RECORDING_ID),
                             _obj(["target_type", "target_id", "destination_id"],
                                  target_type={"type": "string", "enum": ["meet", "voice"]},
                                  target_id=RECORDING_ID, destination_id=RECORDING_ID)],
                         "properties": {
                             "shape": {"type": "string", "enum": ["original", "vertical", "square"], "default": "original"},
                             "fill": {"type": "string", "enum": ["blur", "crop"], "default": "blur"},
                             "caption": {"type": ["string", "null"], "description": "within the platform's limits"},
                             "privacy_level": {"type": ["string", "null"], "maxLength": 40,
                                               "description": "one of the TikTok creator's options"}}}),
                     "responses": {"202": _json("Queued", _obj(["publication"], publication=_ref("Publication"))),
                                   **_errors(400, 401, 404, 409, 413, 429, 503,
                                             _400="Bad input, or a caption or video the platform does not allow",
                                             _409="Not ready, platform off, or the connection must be reconnected",
                                             _429="Too many posts on their way", _503="Queue unreachable")}},
            "get": {"operationId": "listPublications",
                    "summary": "The person's posts of a clip or recording; with neither parameter, their posts "
                               "of the last 30 days (at most 200)",
                    "parameters": [
                        {"name": "target_type", "in": "query",
                         "schema": {"type": "string", "enum": ["clip", "meet", "voice"]},
                         "description": "needed with target_id"},
                        {"name": "target_id", "in": "query", "schema": {"type": "string"},
                         "description": "the clip's or recording's id (none: no posts)"}],
                    "responses": {"200": _json("Posts", _obj(["publications"], publications={
                        "type": "array", "items": _ref("Publication")})), **_errors(400, 401)}}},
        "/api/social/publications/{publication_id}": {"parameters": [PUBLICATION_ID_PARAM], "get": {
            "operationId": "getPublication", "summary": "One post and its status",
            "responses": {"200": _json("The post", _obj(["publication"], publication=_ref("Publication"))),
                          **_errors(401, 404)}}},
        "/api/social/publications/{publication_id}/retry": {"parameters": [PUBLICATION_ID_PARAM], "post": {
            "operationId": "retryPublication", "summary": "Try a failed post again",
            "responses": {"202": _json("Queued again", _obj(["publication"], publication=_ref("Publication"))),
                          **_errors(401, 404, 409, 503, _409="Not failed", _503="Queue unreachable")}}},
        "/api/livekit/webhook": {"post": {
            "operationId": "livekitWebhook",
            "summary": "LiveKit Egress webhook: Authorization is a JWT (HS256, iss = LIVEKIT_API_KEY) whose sha256 "
                       "claim is the base64 SHA-256 of the body; egress_ended registers the recording",
            "security": [], "requestBody": {"required": True, "content": {
                "application/webhook+json": {"schema": _ref("EgressEvent")}}},
            "responses": {"200": _json("Handled", _obj(
                ["status"], status={"type": "string", "enum": ["ignored", "registered", "already_registered",
                                                              "nothing_playable", "failed_recorded"]},
                recording_id=INT, skipped={"type": "array", "items": STR})),
                **_errors(400, 401, 404, 413, 503, _400="Not JSON, or an egress_ended event without what it needs",
                          _401="Missing or bad signature, or a body that does not match it",
                          _404="Not configured (no LIVEKIT_API_KEY)", _413="Body over 1 MB")}}},
        "/auth/supabase": {
            "get": {"operationId": "supabaseSignInPage", "security": [],
                    "summary": "The page that signs the browser in with the dashboard's Supabase session, then goes "
                               "on to `next`",
                    "parameters": [{"name": "next", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "The page", **HTML_ERROR},
                                  "400": {"description": "A NUL character in the query", **HTML_ERROR},
                                  "404": {"description": "Supabase Auth not configured", **HTML_ERROR}}},
            "post": {
                "operationId": "supabaseExchange",
                "summary": "Exchange a Supabase access token (Authorization: Bearer, or JSON {access_token}) for a "
                           "session cookie", "security": [],
                "requestBody": {"required": False, "content": {"application/json": {"schema": _obj(
                    access_token=STR)}}},
                "responses": {"200": _json("Signed in", _obj(["user"], user=_obj(
                    ["email", "super_admin"], email=STR, super_admin=BOOL))),
                    **_errors(401, 404, 409, 413, 429, 503, _401="Missing, expired or invalid token",
                              _404="Supabase Auth not configured",
                              _409="The email belongs to another dashboard account",
                              _503="Supabase Auth's signing keys could not be fetched")}}},
        "/s/{token}/media": {"get": {
            "operationId": "sharedMedia", "summary": "Inline media of a share link (errors are pages: a browser "
                                                     "opens these)", "security": [], "parameters": [TOKEN_PARAM],
            "responses": {**REDIRECT, "200": MEDIA, "206": {**MEDIA, "description": "Partial content"},
                          **{code: {"description": words, **HTML_ERROR} for code, words in (
                              ("400", "A NUL character in the path or query"), ("403", "The link needs its password"),
                              ("404", "Unknown link, or its media is gone"),
                              ("410", "Revoked or expired"), ("416", "Range outside the file"),
                              ("422", "An external recording that cannot be played"),
                              ("502", "The recording's host failed"), ("503", "Storage unreachable"))}}}},
        "/s/{token}/download": {"get": {
            "operationId": "sharedDownload",
            "summary": "Download through a share link (errors are pages, JSON for a client that accepts only JSON)",
            "security": [], "parameters": [TOKEN_PARAM, DOWNLOAD_FORMAT_PARAM],
            "responses": {**REDIRECT, "200": DOWNLOAD_WHERE, "206": {**MEDIA, "description": "Partial content"},
                          **{code: {"description": words, **HTML_ERROR} for code, words in (
                              ("400", "A NUL character in the path or query"),
                              ("403", "Downloads not allowed, or the link needs its password"),
                              ("404", "Unknown link, or its media is gone"), ("410", "Revoked or expired"),
                              ("416", "Range outside the file"), ("422", "An external recording that cannot be played"),
                              ("502", "The recording's host failed"), ("503", "Storage unreachable"))}}}},
        "/healthz": {"get": {"operationId": "health", "summary": "Health", "security": [], "responses": {
            "200": _json("Healthy", _obj(["status", "checks"], status={"const": "ok"}, checks=_obj(
                ["db", "storage", "queue"], db=STR, storage=STR, queue=STR))),
            "503": _json("Unhealthy: each check says ok or error: <what>", _obj(
                ["status", "checks"], status={"const": "error"}, checks={"type": "object"})),
            "400": {"description": "A NUL character in the query", **HTML_ERROR}}}},
    },
}


@bp.get("/api/openapi.json")
def openapi():
    return jsonify(SPEC)
