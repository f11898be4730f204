"""Safe download filenames and RFC 6266 Content-Disposition values."""
import re
import unicodedata
from urllib.parse import quote

_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;%]+')
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._() \-]+")
# Controls beyond ASCII (C1), line separators, and invisible format characters such as the
# right-to-left override that makes "clip\u202egpj.exe" read as "clipexe.jpg".
_BREAKS = {"Cc", "Zl", "Zp"}
# Dashes that have an ASCII look-alike, for the plain `filename=` (13:42–14:42 keeps its dash).
ASCII_PUNCTUATION = str.maketrans({"–": "-", "—": "-"})
_INVISIBLE = {"Cf", "Cs", "Co", "Cn"}


def safe_filename(name, fallback="download"):
    """Strip control characters, quotes and path separators; keep it short and never empty."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = "".join(_visible(ch) for ch in name)
    name = _UNSAFE.sub(" ", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:150].strip(" .") or fallback


def _visible(ch):
    category = unicodedata.category(ch)
    return " " if category in _BREAKS else "" if category in _INVISIBLE else ch


def content_disposition(disposition, filename):
    """`attachment; filename="ascii"; filename*=UTF-8''utf8` (or inline), safe for any input."""
    if disposition not in ("attachment", "inline"):
        raise ValueError(f"disposition must be attachment or inline, not {disposition!r}")
    filename = safe_filename(filename)
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    ascii_stem = unicodedata.normalize("NFKD", stem.translate(ASCII_PUNCTUATION)).encode("ascii", "ignore").decode("ascii")
    ascii_stem = _ASCII_UNSAFE.sub("_", ascii_stem).strip(" ._") or "download"
    ascii_name = ascii_stem + (f".{ext}" if re.fullmatch(r"[A-Za-z0-9]{1,8}", ext) else "")
    value = f'{disposition}; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value
