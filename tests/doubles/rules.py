"""The platforms' documented limits as plain functions, each naming the page it comes from, so that the
servers (meta.py, tiktok.py) only keep state and speak HTTP, and the rules can be read and tested alone.
"""
import base64
import hashlib
import secrets

# Instagram Reels (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media,
# "Reels specifications"). The file size is 300 MB there; some copies of the page say 1 GB.
REELS_MAX_BYTES = 300 * 1000 * 1000
REELS_MIN_SECONDS, REELS_MAX_SECONDS = 3, 15 * 60
# Facebook Page video (https://developers.facebook.com/docs/video-api/guides/publishing and Meta's video
# requirements): up to 10 GB and 240 minutes.
PAGE_VIDEO_MAX_BYTES = 10 * 1000 * 1000 * 1000
PAGE_VIDEO_MAX_SECONDS = 240 * 60

# TikTok Media Transfer Guide (https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide).
# "MB" is read as MiB, the unit TikTok's client libraries use.
MB = 1024 * 1024
CHUNK_MIN = 5 * MB
CHUNK_MAX = 64 * MB
FINAL_CHUNK_MAX = 128 * MB
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024 * MB


def caption_problem(caption):
    """Why an Instagram caption is refused, or None: at most 2,200 characters, 30 hashtags and 20 @ tags
    (IG User Media reference, `caption` parameter)."""
    if len(caption) > 2200:
        return f"The caption has {len(caption):,} characters; Instagram allows at most 2,200."
    hashtags = sum(1 for word in caption.split() if word.startswith("#") and len(word) > 1)
    if hashtags > 30:
        return f"The caption has {hashtags} hashtags; Instagram allows at most 30."
    mentions = sum(1 for word in caption.split() if word.startswith("@") and len(word) > 1)
    if mentions > 20:
        return f"The caption has {mentions} @ tags; Instagram allows at most 20."
    return None


def reels_problems(info, strict_edit_lists=False):
    """The Reels specification rules a probed video breaks, in words (empty when it passes)."""
    problems = []
    if info.container not in ("mp4", "mov"):
        problems.append(f"the container is {info.container}; Reels must be MOV or MP4")
    if info.moov_before_mdat is False:
        problems.append("the moov atom is after the media data; it must be at the front of the file (faststart)")
    if strict_edit_lists and info.has_edit_list:
        problems.append("the file has an edit list; Reels must have none")
    if info.video_codec not in ("h264", "hevc"):
        problems.append(f"the video codec is {info.video_codec}; Reels must be H.264 or HEVC")
    if info.pix_fmt and not info.pix_fmt.startswith(("yuv420p", "yuvj420p", "nv12")):
        problems.append(f"the chroma subsampling is {info.pix_fmt}; Reels must be 4:2:0")
    if info.audio_codec is not None:
        if info.audio_codec != "aac":
            problems.append(f"the audio codec is {info.audio_codec}; Reels audio must be AAC")
        if info.sample_rate and info.sample_rate > 48000:
            problems.append(f"the audio sample rate is {info.sample_rate} Hz; at most 48 kHz")
        if info.channels not in (1, 2):
            problems.append(f"the audio has {info.channels} channels; 1 or 2 are allowed")
    if info.fps is None or not 23 <= round(info.fps, 2) <= 60:
        problems.append(f"the frame rate is {info.fps} fps; Reels must be 23 to 60 fps")
    if info.width > 1920:
        problems.append(f"the picture is {info.width} columns wide; at most 1920")
    ratio = info.width / info.height if info.height else 0
    if not 0.01 <= ratio <= 10:
        problems.append(f"the aspect ratio is {ratio:.3f}:1; it must be between 0.01:1 and 10:1")
    if info.duration < REELS_MIN_SECONDS:
        problems.append(f"the video is {info.duration:.1f} s long; Reels must last at least 3 seconds")
    if info.duration > REELS_MAX_SECONDS:
        problems.append(f"the video is {info.duration:.0f} s long; Reels may last at most 15 minutes")
    if info.video_bit_rate and info.video_bit_rate > 25_000_000:
        problems.append(f"the video bit rate is {info.video_bit_rate // 1000} kbps; at most 25 Mbps")
    if info.size > REELS_MAX_BYTES:
        problems.append(f"the file is {info.size} bytes; Reels may be at most 300 MB")
    return problems


def page_video_problems(info):
    """The Page video rules a probed video breaks, in words."""
    problems = []
    if info.video_codec not in ("h264", "hevc", "vp8", "vp9", "av1", "mpeg4"):
        problems.append(f"the video codec {info.video_codec} is not supported")
    if info.duration < 1:
        problems.append(f"the video is {info.duration:.1f} s long; at least 1 second")
    if info.duration > PAGE_VIDEO_MAX_SECONDS:
        problems.append("the video is longer than 240 minutes")
    if info.size > PAGE_VIDEO_MAX_BYTES:
        problems.append("the file is larger than 10 GB")
    return problems


def chunk_problem(video_size, chunk_size, total_chunk_count):
    """Why a TikTok FILE_UPLOAD source_info breaks the Media Transfer Guide's chunk rules, or None."""
    if video_size > MAX_VIDEO_BYTES:
        return f"video_size {video_size} is over the 4 GB maximum."
    if video_size < CHUNK_MIN:
        if chunk_size != video_size or total_chunk_count != 1:
            return ("A video under 5 MB must be uploaded whole: chunk_size must equal video_size and "
                    "total_chunk_count must be 1.")
        return None
    if chunk_size > video_size:
        return "chunk_size cannot be larger than video_size."
    if not CHUNK_MIN <= chunk_size <= CHUNK_MAX:
        return f"chunk_size {chunk_size} must be between 5 MB ({CHUNK_MIN}) and 64 MB ({CHUNK_MAX})."
    expected = video_size // chunk_size
    if total_chunk_count != expected:
        return (f"total_chunk_count must be video_size / chunk_size rounded down ({expected}), "
                f"not {total_chunk_count}.")
    if not 1 <= total_chunk_count <= MAX_CHUNKS:
        return f"total_chunk_count must be between 1 and {MAX_CHUNKS}."
    last = video_size - (total_chunk_count - 1) * chunk_size
    if last > FINAL_CHUNK_MAX:
        return f"The final chunk would be {last} bytes; at most 128 MB ({FINAL_CHUNK_MAX})."
    return None


def tiktok_fail_reason(info, max_duration):
    """TikTok's fail_reason for a probed video, or None when it meets the Media Transfer Guide's video
    restrictions (MP4/WebM/MOV; H.264/H.265/VP8/VP9; 23-60 fps; 360-4096 px a side; creator's duration)."""
    if info.container not in ("mp4", "mov", "webm") or info.video_codec not in ("h264", "hevc", "vp8", "vp9"):
        return "file_format_check_failed"
    if info.fps is None or not 23 <= round(info.fps, 2) <= 60:
        return "frame_rate_check_failed"
    if min(info.width, info.height) < 360 or max(info.width, info.height) > 4096:
        return "picture_size_check_failed"
    if info.duration > max_duration:
        return "duration_check_failed"
    return None


def pkce_matches(verifier, challenge, encoding):
    """Whether `verifier` answers `challenge`: encoding "base64url" is RFC 7636's S256, "hex" TikTok's
    (https://developers.tiktok.com/doc/login-kit-desktop), "plain" the verifier itself."""
    if encoding == "plain":
        return secrets.compare_digest(verifier, challenge)
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = digest.hex() if encoding == "hex" else base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(expected, challenge)
