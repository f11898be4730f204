"""Download filenames: safe_filename, content_disposition and service.download_filename."""
import re
from datetime import datetime, timezone

import pytest
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

from webapp.recordings.models import MeetRoom, VoiceCall
from webapp.recordings.service import download_filename
from webapp.storage.disposition import content_disposition, safe_filename

CREATED = datetime(2024, 3, 15, 23, 30, tzinfo=timezone.utc)
FORBIDDEN = set('"\\/:*?<>|;%') | {chr(c) for c in range(32)} | {"\x7f"}


def meet(title="", room_name="", recording_url="recordings/meet/abc.mp4", id=7):
    return MeetRoom(id=id, product="m10", title=title, room_name=room_name, recording_url=recording_url,
                    created_at=CREATED)


def voice(title="", caller="", recording_url="recordings/voice/abc.m4a", id=9):
    return VoiceCall(id=id, product="m10", title=title, caller=caller, recording_url=recording_url,
                     created_at=CREATED)


def params(value):
    """Parse the header the way Werkzeug does; filename* (RFC 5987) wins over filename."""
    disposition, options = parse_options_header(value)
    return disposition, options


def ascii_filename(value):
    return re.search(r'filename="([^"]*)"', value).group(1)


# --- download_filename ------------------------------------------------------------------

@pytest.mark.parametrize("recording, expected", [
    (meet(title="Weekly sync"), "Weekly sync-2024-03-15.mp4"),
    (voice(title="Call with Ana"), "Call with Ana-2024-03-15.m4a"),
    (meet(title="", room_name="room-42"), "room-42-2024-03-15.mp4"),
    (meet(title="", room_name=""), "Meet recording 7-2024-03-15.mp4"),
    (meet(title="   ", room_name=""), "Meet recording 7-2024-03-15.mp4"),
    (meet(title='"/\\:*?<>|', room_name="Sales room"), "Sales room-2024-03-15.mp4"),
    (meet(title="...", room_name="///"), "Meet recording 7-2024-03-15.mp4"),
    (voice(title="", caller="+1 555 0100"), "+1 555 0100-2024-03-15.m4a"),
    (voice(title="", caller=""), "Voice call 9-2024-03-15.m4a"),
    (meet(title="Demo", recording_url="https://cdn.example.com/rec/demo.webm?sig=1"), "Demo-2024-03-15.webm"),
    (meet(title="Demo", recording_url="https://cdn.example.com/rec/demo"), "Demo-2024-03-15.mp4"),
    (voice(title="Demo", recording_url="https://cdn.example.com/rec/demo.exe"), "Demo-2024-03-15.m4a"),
], ids=["title", "voice", "room-name", "id", "blank-title", "unsafe-title-to-room", "nothing-usable",
        "caller", "voice-id", "external-webm", "no-extension", "unknown-extension"])
def test_download_filename(recording, expected):
    assert download_filename(recording) == expected


def test_a_path_in_the_title_cannot_leave_the_download_folder():
    name = download_filename(meet(title="../../etc/passwd"))
    assert name == "etc passwd-2024-03-15.mp4"
    assert "/" not in name and "\\" not in name and not name.startswith(".")


def test_a_long_title_is_shortened():
    name = download_filename(meet(title="word " * 100))
    assert len(name) <= 150 + len("-2024-03-15.mp4")
    assert name.endswith("word-2024-03-15.mp4")


# --- safe_filename ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("Weekly sync", "Weekly sync"),
    ('say "hi"', "say hi"),
    ("a\\b/c", "a b c"),
    ("C:\\Users\\x", "C Users x"),
    ("line\r\nbreak", "line break"),
    ("tab\there", "tab here"),
    ("nul\x00byte", "nul byte"),
    ("bell\x07", "bell"),
    ("c1\x9bcontrol\x85next", "c1 control next"),
    ("line\u2028separator", "line separator"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),      # no right-to-left override to disguise the name
    ("zero\u200bwidth\ufeff", "zerowidth"),
    ("50% off; really", "50 off really"),
    ("  .hidden.  ", "hidden"),
    ("..", "download"),
    ("", "download"),
    (None, "download"),
    ("Cafe\u0301", "Café"),                           # NFC: one code point for é
    ("会议记录", "会议记录"),
])
def test_safe_filename(raw, expected):
    assert safe_filename(raw) == expected


def test_safe_filename_keeps_no_forbidden_character():
    nasty = "".join(chr(c) for c in range(0, 0x250)) + "\u2028\u2029\u202e\u200f\ufeff"
    result = safe_filename(nasty)
    assert result and not FORBIDDEN & set(result)
    assert "\u202e" not in result and "\u2028" not in result and "\x85" not in result


# --- content_disposition ----------------------------------------------------------------------

def test_ascii_name_has_no_filename_star():
    assert content_disposition("attachment", "Weekly sync-2024-03-15.mp4") == \
        'attachment; filename="Weekly sync-2024-03-15.mp4"'
    assert content_disposition("inline", "a.mp4") == 'inline; filename="a.mp4"'


def test_non_ascii_name_gets_an_ascii_fallback_and_filename_star():
    value = content_disposition("attachment", "Café menu ☕-2024-03-15.mp4")

    assert value.isascii()
    assert ascii_filename(value).startswith("Cafe menu")
    assert ascii_filename(value).endswith("-2024-03-15.mp4")
    assert "filename*=UTF-8''Caf%C3%A9%20menu%20%E2%98%95-2024-03-15.mp4" in value
    assert params(value) == ("attachment", {"filename": "Café menu ☕-2024-03-15.mp4"})


def test_a_name_with_no_ascii_letters_still_has_an_extension():
    value = content_disposition("attachment", "会议.mp4")

    assert ascii_filename(value) == "download.mp4"
    assert params(value)[1]["filename"] == "会议.mp4"


@pytest.mark.parametrize("name", [
    'evil"; filename="hack.exe',
    "evil\r\nSet-Cookie: session=stolen",
    "evil\nLocation: https://attacker.example/",
    "a\\\"b",
    "x'; filename*=UTF-8''hack.exe",
    "%0d%0aX-Injected: 1",
    "résumé\r\n\u2028\u0085.mp4",
])
def test_nothing_can_break_out_of_the_header(name):
    value = content_disposition("attachment", name)

    assert value.isascii()
    assert "\r" not in value and "\n" not in value
    assert value.count('"') == 2  # only the quotes around the ASCII filename
    Headers([("Content-Disposition", value)])  # Werkzeug refuses header values with newlines
    disposition, options = params(value)
    assert disposition == "attachment"
    assert set(options) == {"filename"}
    assert not FORBIDDEN & set(options["filename"])
    assert not FORBIDDEN & set(ascii_filename(value))


def test_only_attachment_or_inline():
    with pytest.raises(ValueError):
        content_disposition("attachment; filename=x", "a.mp4")
