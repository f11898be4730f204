"""The files under deploy/, each checked where it can be: the S3 bucket rules applied to moto over HTTP,
the Supabase Storage policies applied to PostgreSQL, the systemd units against the programs they run."""
import configparser
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import boto3
import psycopg
import pytest
import requests

from webapp.clips.service import UPLOAD_PREFIX
from webapp.config import PROJECT_ROOT
from tests.conftest import TEST_DATABASE_URL, scratch_database

DEPLOY = PROJECT_ROOT / "deploy"
APP_ORIGIN = "https://reclip.example.com"  # the placeholder origin in s3-cors.json


@pytest.fixture
def db_backend():
    return "sqlite"


@pytest.fixture
def bucket(s3_endpoint):
    """A bucket on moto with deploy/s3-cors.json and deploy/s3-lifecycle.json applied, as the README says."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    name = "reclip-deploy-check"
    client.create_bucket(Bucket=name)
    client.put_bucket_cors(Bucket=name, CORSConfiguration=json.loads((DEPLOY / "s3-cors.json").read_text()))
    client.put_bucket_lifecycle_configuration(
        Bucket=name, LifecycleConfiguration=json.loads((DEPLOY / "s3-lifecycle.json").read_text()))
    client.put_object(Bucket=name, Key="recordings/meet.mp4", Body=bytes(range(256)) * 4, ContentType="video/mp4")
    yield client, name
    for item in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


def test_the_cors_rule_lets_the_app_read_ranges_and_upload(bucket):
    client, name = bucket
    [rule] = client.get_bucket_cors(Bucket=name)["CORSRules"]
    assert rule["AllowedOrigins"] == [APP_ORIGIN]  # the exact origin, never *
    assert set(rule["AllowedMethods"]) == {"GET", "HEAD", "POST", "PUT"}
    url = client.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "recordings/meet.mp4"})

    # What Chromium sends before a ranged fetch of a presigned URL from the app's page.
    preflight = requests.options(url, headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "GET",
                                               "Access-Control-Request-Headers": "range"}, timeout=10)
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "range" in preflight.headers["Access-Control-Allow-Headers"].lower()
    ranged = requests.get(url, headers={"Origin": APP_ORIGIN, "Range": "bytes=0-99"}, timeout=10)
    assert ranged.status_code == 206 and ranged.headers["Content-Range"] == "bytes 0-99/1024"
    assert ranged.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    exposed = {h.strip().lower() for h in ranged.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"content-range", "content-length", "accept-ranges", "etag"} <= exposed

    elsewhere = requests.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
                                 timeout=10)
    assert elsewhere.status_code == 403


def test_the_lifecycle_rule_expires_abandoned_uploads_and_aborts_stale_multipart_uploads(bucket):
    client, name = bucket
    rules = {rule["ID"]: rule for rule in client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]}
    uploads = rules["reclip-expire-abandoned-clip-uploads"]
    # Exactly the prefix browsers upload to: ready clips (clips/<id>-ready.mp4) live outside it.
    assert uploads["Filter"] == {"Prefix": UPLOAD_PREFIX} and uploads["Status"] == "Enabled"
    assert uploads["Expiration"]["Days"] >= 1  # longer than an upload may stay pending (an hour)
    multipart = rules["reclip-abort-incomplete-multipart-uploads"]
    assert multipart["Filter"] == {"Prefix": ""} and multipart["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1


# --- Supabase Storage policies --------------------------------------------------------------

# The part of Supabase's storage schema and roles that the policies touch.
SUPABASE_STAND_IN = """
DO $$ BEGIN CREATE ROLE anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE SCHEMA storage;
CREATE TABLE storage.buckets (id text PRIMARY KEY, name text NOT NULL, public boolean DEFAULT false);
CREATE TABLE storage.objects (id bigserial PRIMARY KEY, bucket_id text REFERENCES storage.buckets (id), name text);
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
GRANT USAGE ON SCHEMA storage TO anon, authenticated;
GRANT ALL ON storage.objects, storage.buckets TO anon, authenticated;
GRANT ALL ON SEQUENCE storage.objects_id_seq TO anon, authenticated;
INSERT INTO storage.buckets (id, name, public) VALUES ('recordings', 'recordings', true), ('avatars', 'avatars', true);
-- Another feature of the project, generous with signed-in users:
CREATE POLICY "signed-in users read everything" ON storage.objects FOR SELECT TO authenticated USING (true);
CREATE POLICY "signed-in users upload anywhere" ON storage.objects FOR INSERT TO authenticated WITH CHECK (true);
CREATE POLICY "anyone reads everything" ON storage.objects FOR SELECT TO anon USING (true);
INSERT INTO storage.objects (bucket_id, name) VALUES ('recordings', 'rooms/board.mp4'), ('avatars', 'me.png');
"""


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set")
def test_the_storage_policies_keep_the_bucket_private_to_the_service():
    policies = (DEPLOY / "supabase-storage-policies.sql").read_text()
    with scratch_database("reclip_storage_policies") as url:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
            conn.execute(SUPABASE_STAND_IN)
            conn.execute(policies)
            conn.execute(policies)  # running it again changes nothing
            assert conn.execute("SELECT public FROM storage.buckets WHERE id = 'recordings'").fetchone() == (False,)
            for role in ("anon", "authenticated"):
                conn.execute(f"SET ROLE {role}")
                assert conn.execute("SELECT bucket_id FROM storage.objects").fetchall() == [("avatars",)]
                conn.execute("RESET ROLE")
            conn.execute("SET ROLE authenticated")
            conn.execute("INSERT INTO storage.objects (bucket_id, name) VALUES ('avatars', 'mine.png')")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("INSERT INTO storage.objects (bucket_id, name) VALUES ('recordings', 'planted.mp4')")
            conn.execute("RESET ROLE")
            assert conn.execute("SELECT count(*) FROM storage.objects WHERE bucket_id = 'recordings'").fetchone() == (1,)


# --- processes ------------------------------------------------------------------------------------

def _unit(name):
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / name)
    return parser


def _local_command(exec_start):
    """The unit's ExecStart with /srv/reclip (the install path) mapped to this checkout."""
    return [part.replace("/srv/reclip", str(PROJECT_ROOT)) for part in shlex.split(exec_start)]


def test_the_web_unit_runs_gunicorn_with_the_one_config_that_make_run_uses():
    service = _unit("reclip-web.service")["Service"]
    command = _local_command(service["ExecStart"])
    assert Path(command[0]).name == "gunicorn" and Path(command[0]).exists()
    assert command[1:] == ["-c", "gunicorn.conf.py", "wsgi:app"]
    assert "-c gunicorn.conf.py wsgi:app" in (PROJECT_ROOT / "scripts" / "serve.sh").read_text()
    # gunicorn accepts the config as production loads it (print the settings and exit).
    checked = subprocess.run([command[0], "-c", "gunicorn.conf.py", "--check-config", "wsgi:app"], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=120,
                             env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 32, "INSTANCE_PATH": "/tmp/reclip-check"})
    assert checked.returncode == 0, checked.stderr[-2000:]


def test_the_worker_unit_runs_the_consumer_with_options_it_knows():
    service = _unit("reclip-worker.service")["Service"]
    command = _local_command(service["ExecStart"])
    assert Path(command[0]).name == "huey_consumer" and Path(command[0]).exists()
    assert command[1] == "webapp.jobs.worker.queue"
    options = subprocess.run([command[0], "--help"], capture_output=True, text=True, timeout=60).stdout
    for flag in (part for part in command[2:] if part.startswith("--")):
        assert flag in options, f"huey_consumer does not know {flag}"
    assert service["KillSignal"] == "SIGINT"  # huey's graceful stop: running jobs finish


@pytest.mark.skipif(not Path("/usr/bin/systemd-analyze").exists(), reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", ["reclip-web.service", "reclip-worker.service"])
def test_systemd_finds_nothing_wrong_with_the_units(unit, tmp_path):
    # The units name /srv/reclip: point a copy at this checkout so that systemd can check the programs.
    copy = tmp_path / unit
    copy.write_text((DEPLOY / unit).read_text().replace("/srv/reclip", str(PROJECT_ROOT))
                    .replace("/etc/reclip/reclip.env", str(DEPLOY / "reclip.env.example")))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True,
                            timeout=60)
    complaints = [line for line in result.stderr.splitlines()
                  if unit in line and "User=" not in line and "Group=" not in line]
    assert complaints == [], result.stderr


def test_the_environment_example_names_only_real_settings():
    from webapp.config import load_config
    known = set(load_config("/tmp/reclip-env-check")) | {"SECRET_KEY", "WEB_CONCURRENCY", "GUNICORN_BIND", "PORT",
                                                          "DATABASE_URL"}
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (DEPLOY / "reclip.env.example").read_text(), re.MULTILINE)
    assert names and set(names) <= known, set(names) - known


def test_the_same_origin_proxy_rule_sends_every_reclip_path_to_reclip(app):
    conf = (DEPLOY / "nginx-reclip.conf").read_text()
    pattern = re.compile(re.search(r"location ~ (\^/\(.*\))", conf).group(1))
    paths = {rule.rule for rule in app.url_map.iter_rules()} - {"/"}  # / belongs to the dashboard
    missed = [path for path in paths if not pattern.match(re.sub(r"<[^>]+>", "x", path))]
    assert missed == []
