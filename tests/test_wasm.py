"""FFmpeg.wasm served same-origin: versioned URLs, gzip, long caching, and a CSP that lets it run."""
import gzip
import re
from pathlib import Path

import pytest

from tests.factories import make_user

# Nothing here depends on the database: SQLite only.
sqlite_only = pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)

PROJECT = Path(__file__).resolve().parent.parent
WASM_DIR = PROJECT / "static" / "wasm"
VERSION = (WASM_DIR / "VERSION").read_text().strip()
BASE = f"/wasm/{VERSION}/"
CORE_WASM = f"{BASE}core/ffmpeg-core.wasm"
ONE_YEAR = 365 * 24 * 3600
CDNS = ("unpkg", "jsdelivr", "cdnjs", "esm.sh", "skypack")


def cache_control(response):
    """{directive: value or True} from the Cache-Control header."""
    directives = {}
    for part in response.headers.get("Cache-Control", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            directives[name.lower()] = value or True
    return directives


def assert_cached_for_a_year(response):
    directives = cache_control(response)
    assert int(directives["max-age"]) >= ONE_YEAR
    assert directives.get("immutable") is True
    assert "no-store" not in directives and "no-cache" not in directives


def csp_directives(response):
    """{directive: [sources]} from the Content-Security-Policy header."""
    policy = response.headers["Content-Security-Policy"]
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


@sqlite_only
def test_core_wasm_is_gzipped_for_browsers_that_accept_it(client):
    response = client.get(CORE_WASM, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert response.status_code == 200
    assert response.mimetype == "application/wasm"
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert_cached_for_a_year(response)
    body = response.get_data()
    assert len(body) < (WASM_DIR / "core" / "ffmpeg-core.wasm").stat().st_size / 2
    assert gzip.decompress(body) == (WASM_DIR / "core" / "ffmpeg-core.wasm").read_bytes()


@sqlite_only
@pytest.mark.parametrize("accept_encoding", [None, "identity", "br", "gzip;q=0, identity"])
def test_core_wasm_is_plain_otherwise(client, accept_encoding):
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    response = client.get(CORE_WASM, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/wasm"
    assert "Content-Encoding" not in response.headers
    assert "Accept-Encoding" in response.headers["Vary"]
    assert_cached_for_a_year(response)
    assert response.get_data() == (WASM_DIR / "core" / "ffmpeg-core.wasm").read_bytes()


@sqlite_only
@pytest.mark.parametrize("path", ["ffmpeg/index.js", "ffmpeg/worker.js", "core/ffmpeg-core.js", "util/index.js"])
def test_javascript_is_served_as_javascript(client, path):
    response = client.get(BASE + path, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert_cached_for_a_year(response)
    assert response.get_data() == (WASM_DIR / path).read_bytes()


@sqlite_only
def test_a_cached_copy_is_revalidated_with_its_etag(client):
    first = client.get(CORE_WASM, headers={"Accept-Encoding": "gzip"})
    again = client.get(CORE_WASM, headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""


@sqlite_only
@pytest.mark.parametrize("path", [
    "/wasm/0.0.1/core/ffmpeg-core.wasm",          # a version that is not installed
    "/wasm/latest/ffmpeg/index.js",
    f"{BASE}core/missing.wasm",
    f"{BASE}VERSION",                            # neither .js nor .wasm
    f"{BASE}core/ffmpeg-core.wasm.gz",
    f"{BASE}../js/api.js",                       # outside static/wasm, though the file exists
    f"{BASE}core/../../js/api.js",
    f"{BASE}%2e%2e/js/api.js",
    f"{BASE}..%2fjs%2fapi.js",
])
def test_anything_else_is_not_found(client, path):
    response = client.get(path, headers={"Accept-Encoding": "gzip"}, follow_redirects=True)
    assert response.status_code == 404


@sqlite_only
def test_recordings_page_loads_ffmpeg_from_this_server(app, login):
    response = login(make_user()).get("/recordings")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'data-wasm-base="([^"]*)"', html).group(1) == BASE
    size = int(re.search(r'data-wasm-size="(\d+)"', html).group(1))
    assert size == (WASM_DIR / "core" / "ffmpeg-core.wasm").stat().st_size  # progress counts decoded bytes
    for cdn in CDNS:
        assert cdn not in html


def test_no_javascript_of_ours_names_a_cdn():
    sources = sorted((PROJECT / "static" / "js").glob("*.js"))
    assert sources
    for path in sources:
        text = path.read_text()
        for cdn in CDNS:
            assert cdn not in text, f"{path.name} mentions {cdn}"
    # @ffmpeg/ffmpeg falls back to unpkg when no coreURL is given: ours always gives one.
    assert "coreURL:" in (PROJECT / "static" / "js" / "trim.js").read_text()


@sqlite_only
def test_content_security_policy_lets_wasm_run_and_nothing_inline(app, login):
    response = login(make_user()).get("/recordings")
    directives = csp_directives(response)
    scripts = directives["script-src"]
    assert "'wasm-unsafe-eval'" in scripts
    assert "'self'" in scripts
    assert "'unsafe-eval'" not in scripts and "'unsafe-inline'" not in scripts
    assert not any(source.startswith(("http:", "https:", "*")) for source in scripts)
    assert {"'self'", "blob:"} <= set(directives["worker-src"])
    assert "'unsafe-inline'" not in directives.get("default-src", [])
    assert "'unsafe-eval'" not in directives.get("default-src", [])
    assert directives["object-src"] == ["'none'"]


S3_ENDPOINT = "http://127.0.0.1:9"  # never contacted: the policy is built from the settings


@pytest.fixture
def app_config(request):
    """No overrides, or `parametrize("app_config", ["s3"], indirect=True)` for an S3 bucket's settings."""
    if getattr(request, "param", None) == "s3":
        return {"STORAGE_BACKEND": "s3", "S3_BUCKET": "reclip-csp", "S3_ENDPOINT_URL": S3_ENDPOINT,
                "S3_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    return {}


@sqlite_only
@pytest.mark.parametrize("app_config", ["s3"], indirect=True)
def test_content_security_policy_allows_the_bucket_for_media_only(client):
    """With S3 the browser fetches sources and uploads clips there; scripts still come from self only."""
    directives = csp_directives(client.get("/login"))
    assert S3_ENDPOINT in directives["connect-src"]
    assert S3_ENDPOINT in directives["media-src"]
    assert S3_ENDPOINT not in directives["script-src"]
    assert S3_ENDPOINT not in directives["worker-src"]
