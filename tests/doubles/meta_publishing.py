"""The publishing half of the Meta double: Instagram Reels containers and Facebook Page videos, as a mixin
of MetaDouble (meta.py, whose docstring lists the documented rules and their pages). Every method runs
under the double's lock; the fetch-and-probe of a video runs in a thread of its own."""
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from tests.doubles.base import json_response
from tests.doubles.graph import GraphError, no_object
from tests.doubles.media import FetchError, ProbeError, fetch, probe
from tests.doubles.rules import (
    PAGE_VIDEO_MAX_BYTES,
    REELS_MAX_BYTES,
    caption_problem,
    page_video_problems,
    reels_problems,
)

CONTAINER_LIFETIME = 24 * 3600
IG_PUBLISH_SCOPES = ("instagram_basic", "instagram_content_publish", "pages_read_engagement")
PAGE_VIDEO_SCOPES = ("pages_show_list", "pages_read_engagement", "pages_manage_posts")


@dataclass
class Container:
    id: str
    ig_user_id: str
    caption: str
    video_url: str
    created_at: float
    upload_type: str = None
    polls: int = 0
    done: bool = False
    probe: object = None
    error: str = None  # the ERROR status text
    forced: tuple = None  # (status_code, message) set by a knob
    published_media_id: str = None


@dataclass
class Media:
    id: str
    ig_user_id: str
    container_id: str
    caption: str
    shortcode: str
    timestamp: str
    published_at: float


@dataclass
class PageVideo:
    id: str
    page_id: str
    title: str
    description: str
    file_url: str
    created_at: float
    polls: int = 0
    done: bool = False
    probe: object = None
    error: str = None
    forced_error: str = None
    recorded: bool = False


class MetaPublishing:
    """POST /<ig-user-id>/media, media_publish, containers, content_publishing_limit; POST /<page-id>/videos."""

    def _require_ig_access(self, token, ig_user_id, scopes):
        page = self.page_of_ig_user(ig_user_id)
        if token.kind == "page" and token.page_id != page["id"]:
            raise no_object(ig_user_id)
        missing = [s for s in scopes if s not in token.grant.scopes]
        if missing:
            raise GraphError(10, "(#10) Application does not have permission for this action", status=403,
                             user_msg="Missing permissions: " + ", ".join(missing))
        return page

    def _ig_user_node(self, request, params, token, ig_user_id, edge, fields):
        method = request.method
        if edge is None and method == "GET":
            page = self._require_ig_access(token, ig_user_id, ("instagram_basic",))
            ig = page["instagram"]
            fields = fields or {"id": None}
            return json_response({k: ig[k] for k in fields if k in ig} | {"id": ig["id"]})
        if edge == "media" and method == "POST":
            self._require_ig_access(token, ig_user_id, IG_PUBLISH_SCOPES)
            return self._create_container(params, token, ig_user_id)
        if edge == "media" and method == "GET":
            self._require_ig_access(token, ig_user_id, ("instagram_basic",))
            items = [self._media_json(m, fields or {"id": None}) for m in self.media.values()
                     if m.ig_user_id == ig_user_id]
            return json_response({"data": list(reversed(items))})
        if edge == "media_publish" and method == "POST":
            self._require_ig_access(token, ig_user_id, IG_PUBLISH_SCOPES)
            return self._media_publish(params, ig_user_id)
        if edge == "content_publishing_limit" and method == "GET":
            self._require_ig_access(token, ig_user_id, IG_PUBLISH_SCOPES)
            return json_response(self._publishing_limit(ig_user_id, fields, params))
        raise no_object(ig_user_id, method.lower())

    def _create_container(self, params, token, ig_user_id):
        media_type = params.get("media_type")
        if media_type == "VIDEO":
            raise GraphError(100, "The VIDEO media_type is no longer supported: publish videos with "
                                  "media_type=REELS.", subcode=2207023)
        if media_type != "REELS":
            raise GraphError(100, f"This double publishes Reels only: media_type must be REELS (got {media_type!r}).",
                             subcode=2207023)
        caption = params.get("caption", "")
        problem = caption_problem(caption)
        if problem:
            raise GraphError(100, f"(#100) Invalid parameter: {problem}", user_title="Caption not accepted",
                             user_msg=problem)
        resumable = params.get("upload_type") == "resumable"
        video_url = params.get("video_url")
        if not resumable and not video_url:
            raise GraphError(100, "(#100) The parameter video_url is required")
        container = Container(self.new_id("179", 14), ig_user_id, caption, video_url, self.now(),
                              "resumable" if resumable else None)
        if self._next_container_outcome:
            container.forced, self._next_container_outcome = self._next_container_outcome, None
        self.containers[container.id] = container
        if resumable:
            uri = f"{self.base_url}/ig-api-upload/{self.version}/{container.id}"
            return json_response({"id": container.id, "uri": uri})
        self._start(self._process_container, container, None)
        return json_response({"id": container.id})

    def _rupload(self, request, version, container_id):
        if request.method != "POST":
            return json_response({"debug_info": {"type": "NotFound", "message": "Use POST"}}, 404)
        container = self.containers.get(container_id)
        header = request.headers.get("Authorization", "")
        token = self.tokens.get(header[6:].strip()) if header.startswith("OAuth ") else None
        if version != self.version or container is None or container.upload_type != "resumable":
            return json_response({"debug_info": {"type": "NotFound", "message": "Unknown upload session"}}, 404)
        if token is None:
            return json_response({"debug_info": {"type": "OAuthException",
                                                 "message": "Invalid OAuth access token."}}, 400)
        try:
            self._check_token(token)
            self._require_ig_access(token, container.ig_user_id, IG_PUBLISH_SCOPES)
        except GraphError as error:
            return json_response({"debug_info": {"type": "OAuthException", "message": error.message}}, 400)
        if request.headers.get("file_url"):
            container.video_url = request.headers["file_url"]
            self._start(self._process_container, container, None)
            return json_response({"success": True, "message": "Upload successful."})
        data = request.get_data()
        if request.headers.get("offset", "0") != "0" or request.headers.get("file_size") != str(len(data)):
            return json_response({"debug_info": {"type": "ProcessingFailedError",
                                                 "message": "offset must be 0 and file_size the body's length"}}, 400)
        self._start(self._process_container, container, data)
        return json_response({"success": True, "message": "Upload successful."})

    def _process_container(self, container, data):
        info, error = None, None
        try:
            if data is None:
                data = fetch(container.video_url, REELS_MAX_BYTES)
            info = probe(data)
            problems = reels_problems(info, self.strict_edit_lists)
            if problems:
                error = "Error: " + "; ".join(problems) + " (2207026: the video format is not supported)"
        except FetchError as exc:
            error = f"Error: The media could not be fetched from this URI: {exc} (2207052)"
        except ProbeError as exc:
            error = f"Error: The video format is not supported: {exc} (2207026)"
        with self._lock:
            container.probe, container.error, container.done = info, error, True

    def _container_code(self, container, count_poll):
        if container.published_media_id:
            return "PUBLISHED", "Published"
        if self.now() > container.created_at + CONTAINER_LIFETIME:
            return "EXPIRED", "Expired: the container was not published within 24 hours"
        if not container.done or container.polls < self.processing_polls:
            if count_poll:
                container.polls += 1
            return "IN_PROGRESS", "In Progress"
        if container.forced:
            return container.forced
        if container.error:
            return "ERROR", container.error
        return "FINISHED", "Finished: Media has been uploaded and it is ready to be published."

    def _container_status(self, token, container, fields):
        self._require_ig_access(token, container.ig_user_id, ("instagram_basic",))
        code, status = self._container_code(container, count_poll=True)
        fields = fields or {"id": None}
        body = {}
        for name in fields:
            if name == "status_code":
                body[name] = code
            elif name == "status":
                body[name] = status
            elif name == "id":
                body[name] = container.id
        body.setdefault("id", container.id)
        return json_response(body)

    def _media_publish(self, params, ig_user_id):
        creation_id = params.get("creation_id")
        container = self.containers.get(creation_id or "")
        if not creation_id:
            raise GraphError(100, "(#100) The parameter creation_id is required")
        if container is None or container.ig_user_id != ig_user_id:
            raise no_object(creation_id, "post")
        code, _status = self._container_code(container, count_poll=False)
        if code == "PUBLISHED":
            raise GraphError(100, "(#100) This container has already been published.",
                             user_msg=f"Media {container.published_media_id} was published from it.")
        if code == "EXPIRED":
            raise GraphError(-2, "The media you are trying to access has expired. Please try to upload again.",
                             subcode=2207020, user_title="Media expired")
        if code == "ERROR":
            raise GraphError(-1, "Create media fail, please try to re-create media", subcode=2207032,
                             user_msg=_status)
        if code != "FINISHED":
            raise GraphError(9007, "Media ID is not available", subcode=2207027, user_title="Media not ready",
                             user_msg="The media is not ready for publishing, please wait for a moment")
        if self._quota_usage(ig_user_id, self.now() - 86400) >= self.publish_quota:
            raise GraphError(9, "Application request limit reached", subcode=2207042,
                             user_title="Cannot publish more posts",
                             user_msg="You reached maximum number of posts that is allowed to be published by "
                                      "Content Publishing API.")
        media = Media(self.new_id("180", 14), ig_user_id, container.id, container.caption,
                      secrets.token_urlsafe(8).replace("-", "a").replace("_", "b"),
                      _graph_time(self.now()),
                      self.now())
        self.media[media.id] = media
        container.published_media_id = media.id
        record = {"platform": "instagram", "id": media.id, "container_id": container.id, "account_id": ig_user_id,
                  "caption": container.caption, "video_url": container.video_url,
                  "permalink": f"https://www.instagram.com/reel/{media.shortcode}/"}
        record.update(container.probe.as_record())
        self.published.append(record)
        return json_response({"id": media.id})

    def _quota_usage(self, ig_user_id, since):
        return sum(1 for m in self.media.values() if m.ig_user_id == ig_user_id and m.published_at > since)

    def _publishing_limit(self, ig_user_id, fields, params):
        since = float(params.get("since") or self.now() - 86400)
        fields = fields or {"quota_usage": None}
        body = {}
        for name in fields:
            if name == "quota_usage":
                body[name] = self._quota_usage(ig_user_id, max(since, self.now() - 86400))
            elif name == "config":
                body[name] = {"quota_total": self.publish_quota, "quota_duration": 86400}
        return {"data": [body]}

    def _media_json(self, media, fields):
        values = {"id": media.id, "media_type": "VIDEO", "media_product_type": "REELS",
                  "permalink": f"https://www.instagram.com/reel/{media.shortcode}/", "shortcode": media.shortcode,
                  "caption": media.caption, "timestamp": media.timestamp,
                  "username": self.page_of_ig_user(media.ig_user_id)["instagram"]["username"]}
        fields = fields or {"id": None}
        return {k: values[k] for k in fields if k in values} | {"id": media.id}

    # --- Page videos ---------------------------------------------------------------------------------
    def _create_page_video(self, request, params, token, page):
        if token.kind != "page":
            raise GraphError(200, "(#200) Publishing a video on a Page requires a Page access token of that Page",
                             status=403)
        if token.page_id != page["id"]:
            raise GraphError(200, "(#200) This Page access token belongs to another Page", status=403)
        missing = [s for s in PAGE_VIDEO_SCOPES if s not in token.grant.scopes]
        if missing:
            raise GraphError(200, "(#200) Requires " + " and ".join(missing) + " permission", status=403)
        if "CREATE_CONTENT" not in page["tasks"]:
            raise GraphError(200, "(#200) The user cannot perform the CREATE_CONTENT task on this Page", status=403)
        upload = request.files.get("source")
        file_url = params.get("file_url")
        if not file_url and upload is None:
            raise GraphError(100, "(#100) file_url, source or fbuploader_video_file_chunk is required")
        video = PageVideo(self.new_id("120", 14), page["id"], params.get("title", ""), params.get("description", ""),
                          file_url, self.now())
        if self._next_video_error:
            video.forced_error, self._next_video_error = self._next_video_error, None
        self.videos[video.id] = video
        self._start(self._process_video, video, upload.read() if upload is not None else None)
        return json_response({"id": video.id})

    def _process_video(self, video, data):
        info, error = None, None
        try:
            if data is None:
                data = fetch(video.file_url, PAGE_VIDEO_MAX_BYTES)
            info = probe(data)
            problems = page_video_problems(info)
            if problems:
                error = "; ".join(problems)
        except (FetchError, ProbeError) as exc:
            error = str(exc)
        with self._lock:
            video.probe, video.error, video.done = info, video.forced_error or error, True

    def _video_status(self, token, video, fields):
        self._require_page_access(token, self.page(video.page_id))
        if not video.done or video.polls < self.processing_polls:
            video.polls += 1
            status = {"video_status": "processing",
                      "uploading_phase": {"status": "complete" if video.done else "in_progress"},
                      "processing_phase": {"status": "in_progress"},
                      "publishing_phase": {"status": "not_started"}}
        elif video.error:
            status = {"video_status": "error", "uploading_phase": {"status": "complete"},
                      "processing_phase": {"status": "error", "errors": [{"code": 1363008, "message": video.error}]},
                      "publishing_phase": {"status": "not_started"}}
        else:
            status = {"video_status": "ready", "uploading_phase": {"status": "complete"},
                      "processing_phase": {"status": "complete"},
                      "publishing_phase": {"status": "complete", "publish_status": "published",
                                           "publish_time": int(video.created_at)}}
            if not video.recorded:
                video.recorded = True
                record = {"platform": "facebook", "id": video.id, "account_id": video.page_id,
                          "caption": video.description, "title": video.title, "video_url": video.file_url,
                          "permalink": f"https://www.facebook.com/{video.page_id}/videos/{video.id}/"}
                record.update(video.probe.as_record())
                self.published.append(record)
        values = {"id": video.id, "status": status, "description": video.description, "title": video.title,
                  "permalink_url": f"/{video.page_id}/videos/{video.id}/",
                  "published": status["video_status"] == "ready",
                  "length": round(video.probe.duration, 3) if video.probe else None,
                  "created_time": _graph_time(video.created_at)}
        fields = fields or {"id": None}
        return json_response({k: values[k] for k in fields if k in values} | {"id": video.id})

    def _start(self, target, *args):
        threading.Thread(target=target, args=args, daemon=True).start()


def _graph_time(timestamp):
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")
