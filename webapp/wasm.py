"""FFmpeg.wasm files from static/wasm/, same-origin, compressed and cached under a versioned URL."""
import os
from functools import lru_cache

from flask import Blueprint, abort, current_app, request, send_from_directory, url_for

bp = Blueprint("wasm", __name__, url_prefix="/wasm")
ONE_YEAR = 365 * 24 * 3600


@lru_cache(maxsize=1)
def _installed_version(static_folder):
    try:
        with open(f"{static_folder}/wasm/VERSION") as fh:
            return fh.read().strip()
    except FileNotFoundError:
        return None


def wasm_version():
    """The installed FFmpeg.wasm version (None until the setup step has run)."""
    return _installed_version(current_app.static_folder)


def wasm_settings():
    """What the page needs to load FFmpeg.wasm: the versioned base URL and the .wasm's size."""
    version = wasm_version()
    if version is None:
        return {"base": "", "size": 0}
    size = os.path.getsize(f"{current_app.static_folder}/wasm/core/ffmpeg-core.wasm")
    return {"base": url_for("wasm.wasm_file", version=version, filename="x")[:-1], "size": size}


@bp.get("/<version>/<path:filename>")
def wasm_file(version, filename):
    if version != wasm_version() or not filename.endswith((".js", ".wasm")):
        abort(404)
    directory = f"{current_app.static_folder}/wasm"
    gzip_ok = request.accept_encodings.quality("gzip") > 0  # "gzip;q=0" means no
    if filename.endswith(".wasm") and gzip_ok:
        response = send_from_directory(directory, filename + ".gz", mimetype="application/wasm",
                                       max_age=ONE_YEAR, conditional=True)
        response.headers["Content-Encoding"] = "gzip"
    else:
        mimetype = "application/wasm" if filename.endswith(".wasm") else "text/javascript"
        response = send_from_directory(directory, filename, mimetype=mimetype, max_age=ONE_YEAR, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["Vary"] = "Accept-Encoding"
    return response
