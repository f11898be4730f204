"""Two nodes: two gunicorn apps and two queue consumers on one PostgreSQL, one Redis and one bucket, behind
a round-robin front. A session, a CSRF token and a rate limit hold across both; each clip job runs once;
a consumer killed mid-job is recovered by the other."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import boto3
import pytest
import requests
from flask_migrate import upgrade
from redis import Redis

from tests.app_server import AppServer
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, _test_config, scratch_database
from tests.consumer import Consumer
from tests.factories import PASSWORD, make_recording, make_user
from tests.services import (RoundRobinProxy, counting_ffmpeg, csrf_of, ffmpeg_in_group, logged_in_session,
                            post_login, wait_until)
from webapp import create_app
from webapp.clips.models import RecordingClip
from webapp.extensions import db
from webapp.jobs import enqueue_cut
from webapp.media import ffmpeg_binary, generate_test_media

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="two nodes share one PostgreSQL and one Redis: TEST_DATABASE_URL and TEST_REDIS_URL are not set")

SECRET_KEY = "two-nodes-shared-secret"  # the same on every node, as the README says
CLIPS_URL = "/api/livekit/recordings/clips"
JOB_TIMEOUT = 60
RECOVERY_TIMEOUT = 100  # the survivor's recovery is a periodic task: once a minute, plus the stale time


def module_redis_url():
    """A database on the shared Redis that nothing uses now (15 down to 8): this module's rate limits and
    queue stay apart from other tests', even from another run of this module."""
    base = urlsplit(TEST_REDIS_URL)
    for number in range(15, 7, -1):
        url = urlunsplit(base._replace(path=f"/{number}"))
        if Redis.from_url(url).dbsize() == 0:
            return url
    return urlunsplit(base._replace(path="/13"))


def forget_rate_limits(redis_url):
    """Delete the rate-limit counters (Flask-Limiter's LIMITS* keys) in that Redis database."""
    redis = Redis.from_url(redis_url)
    for key in redis.scan_iter("LIMITS*"):
        redis.delete(key)


class Cluster:
    """What the module's tests share: the nodes, the front, the consumers and a console (an app in this
    process on the same database, bucket and queue, for factories and looking at rows)."""

    def __init__(self, console, nodes, front, consumers, ffmpeg_log, recording_id, hd_recording_id, redis_url):
        self.redis_url = redis_url
        self.console, self.nodes, self.front, self.consumers = console, nodes, front, consumers
        self.ffmpeg_log, self.recording_id, self.hd_recording_id = ffmpeg_log, recording_id, hd_recording_id

    def clip(self, clip_id):
        with self.console.app_context():
            clip = db.session.get(RecordingClip, clip_id)
            return {"status": clip.status, "attempts": clip.attempts, "error": clip.error}

    def cuts(self):
        """The ffmpeg runs that cut a clip (not probes or posters): (pid, parent pid) of each."""
        runs = []
        for line in self.ffmpeg_log.read_text().splitlines():
            if "/reclip-clip-" in line:
                pid, parent, _args = line.split(" ", 2)
                runs.append((int(pid), int(parent)))
        return runs

    def consumer_logs(self):
        return "\n".join(f"--- {c.log_path.name}\n{c.log()[-3000:]}" for c in self.consumers)



@pytest.fixture(scope="module")
def cluster(tmp_path_factory, s3_endpoint, media_dir):
    tmp = tmp_path_factory.mktemp("two-nodes")
    hd = tmp / "hd.mp4"
    generate_test_media(hd, 6, size="1280x720")  # an exact cut of it keeps ffmpeg busy for a few seconds
    bucket = f"reclip-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    redis_url = module_redis_url()
    queue_name = f"reclip-two-nodes-{uuid.uuid4().hex[:8]}"
    wrapper, ffmpeg_log = counting_ffmpeg(tmp / "ffmpeg", ffmpeg_binary())
    shared = {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint, "S3_REGION": "us-east-1",
              "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "REDIS_URL": redis_url,
              "JOB_QUEUE_NAME": queue_name}
    forget_rate_limits(redis_url)

    with scratch_database("reclip_two_nodes") as database_url:
        console = create_app(_test_config(database_url, tmp / "console", **shared, SECRET_KEY=SECRET_KEY,
                                          RATELIMIT_STORAGE_URI=redis_url, FFMPEG_BINARY=str(wrapper),
                                          CLIP_JOB_STALE_SECONDS=3, CLIP_JOB_RETRY_DELAY=0),
                             instance_path=str(tmp / "console"))
        with console.app_context():
            upgrade()
            owner = make_user("ada@example.com")  # a cheap password hash (the tests' own), checked by the nodes
            recording_id = make_recording(owner=owner, file=media_dir / "sample.mp4", title="Standup").id
            hd_recording_id = make_recording(owner=owner, file=hd, title="HD standup", duration_seconds=6.0).id
            db.session.remove()

        nodes = [AppServer(tmp / f"node-{name}", workers=2, DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY,
                           TRUST_PROXY_HOPS=1, CLIP_SERVER_JOBS_MAX=20, **shared) for name in "ab"]
        consumers = [Consumer(console, tmp / f"consumer-{name}.log") for name in "ab"]
        front = None
        try:
            # Consumers first: the survivor's recovery runs once a minute from its start, so the earlier it
            # starts, the sooner the last test sees it.
            for consumer in consumers:
                consumer.start()
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda node: node.start(), nodes))
            front = RoundRobinProxy([node.url for node in nodes]).start()
            yield Cluster(console, nodes, front, consumers, ffmpeg_log, recording_id, hd_recording_id, redis_url)
        finally:
            if front:
                front.stop()
            for consumer in consumers:
                consumer.stop()
            for node in nodes:
                node.stop()
            console.extensions["job_queue"].flush()
            forget_rate_limits(redis_url)
            with console.app_context():
                db.engine.dispose()


@pytest.fixture
def fresh_limits(cluster):
    forget_rate_limits(cluster.redis_url)
    yield
    forget_rate_limits(cluster.redis_url)


def test_a_session_and_its_csrf_token_made_on_one_node_work_on_the_other(cluster, fresh_limits):
    first, second = cluster.nodes
    session = logged_in_session(first.url, "ada@example.com")  # the cookie and the token come from node a

    listed = session.get(f"{second.url}/api/livekit/recordings?type=meet", timeout=30)
    assert listed.status_code == 200
    assert "Standup" in {recording["title"] for recording in listed.json()["recordings"]}
    shared = session.post(f"{second.url}/api/share-links", json={"target_type": "meet",
                                                                 "target_id": cluster.recording_id}, timeout=30)
    assert shared.status_code == 201, shared.text

    # Behind the front, one person's requests land on both nodes in turn, logging in included.
    browser = logged_in_session(cluster.front.url, "ada@example.com")
    served = []
    for _ in range(4):
        response = browser.get(f"{cluster.front.url}/api/livekit/recordings?type=meet", timeout=30)
        assert response.status_code == 200
        served.append(response.headers["X-Served-By"])
    assert set(served) == {"0", "1"}
    # Logging out on one node ends the session everywhere: its old cookie works on neither node.
    kept = requests.Session()
    kept.cookies.update(browser.cookies)
    assert browser.post(f"{cluster.front.url}/logout", allow_redirects=False, timeout=30).status_code == 302
    for node in cluster.nodes:
        assert kept.get(f"{node.url}/api/livekit/recordings?type=meet", timeout=30).status_code == 401


def test_failed_logins_on_both_nodes_count_together(cluster, fresh_limits):
    statuses, served = [], []
    session = requests.Session()
    for attempt in range(10):
        # A login is a GET then a POST: shift by one request every other time, so the POSTs alternate too.
        if attempt % 2:
            session.get(f"{cluster.front.url}/healthz", timeout=30)
        token = csrf_of(session, cluster.front.url)
        response = session.post(f"{cluster.front.url}/login", data={
            "email": "ada@example.com", "password": f"guess {attempt}", "csrf_token": token},
            allow_redirects=False, timeout=30)
        statuses.append(response.status_code)
        served.append(response.headers["X-Served-By"])
    assert statuses == [401] * 10
    assert sorted(served) == ["0"] * 5 + ["1"] * 5  # five on each node, one count

    for node in cluster.nodes:  # the 11th attempt, on either node, and the right password too
        assert post_login(requests.Session(), node.url, "ada@example.com", PASSWORD) == 429


def test_each_clip_job_runs_once_with_two_consumers_and_duplicate_deliveries(cluster, fresh_limits):
    session = logged_in_session(cluster.front.url, "ada@example.com")
    cuts_before = len(cluster.cuts())
    clip_ids = []
    for start in range(0, 12, 2):
        response = session.post(f"{cluster.front.url}{CLIPS_URL}", json={
            "type": "meet", "id": cluster.recording_id, "start_seconds": start, "end_seconds": start + 5,
            "mode": "server"}, timeout=30)
        assert response.status_code == 202, response.text
        clip_ids.append(response.json()["clip"]["id"])
    with cluster.console.app_context():
        for clip_id in clip_ids:  # each job delivered twice, as a retry racing a recovery would
            enqueue_cut(clip_id)

    def all_done():
        clips = [cluster.clip(clip_id) for clip_id in clip_ids]
        return clips if all(clip["status"] in ("ready", "failed") for clip in clips) else None

    try:
        clips = wait_until(all_done, JOB_TIMEOUT, interval=0.2, message="every clip to be cut")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{cluster.consumer_logs()}") from None
    assert [clip["status"] for clip in clips] == ["ready"] * len(clip_ids), clips
    assert [clip["attempts"] for clip in clips] == [1] * len(clip_ids)  # one claim each
    queue = cluster.console.extensions["job_queue"]
    wait_until(lambda: queue.pending_count() == 0, 30, message="the duplicates to be consumed (and skipped)")
    cuts = cluster.cuts()[cuts_before:]
    assert len(cuts) == len(clip_ids), cuts  # ffmpeg cut each clip once, though each job came twice
    by_consumer = {consumer.process.pid: sum(1 for _pid, parent in cuts if parent == consumer.process.pid)
                   for consumer in cluster.consumers}
    assert sum(by_consumer.values()) == len(clip_ids), by_consumer
    print(f"cuts per consumer: {by_consumer}")


def test_a_consumer_killed_mid_job_is_recovered_by_the_other(cluster, fresh_limits):
    session = logged_in_session(cluster.front.url, "ada@example.com")
    response = session.post(f"{cluster.front.url}{CLIPS_URL}", json={
        "type": "meet", "id": cluster.hd_recording_id, "start_seconds": 1, "end_seconds": 5, "mode": "server",
        "precise": True}, timeout=30)
    assert response.status_code == 202, response.text
    clip_id = response.json()["clip"]["id"]

    def cutting():  # a clip's cut, not a poster of the last test's clips
        return next((c for c in cluster.consumers
                     if c.running and ffmpeg_in_group(c.process.pid, marker=b"/reclip-clip-")), None)

    victim = wait_until(cutting, 30, message="a consumer to be cutting")
    survivor = next(c for c in cluster.consumers if c is not victim)
    victim.kill()  # SIGKILL to its process group: the consumer and its ffmpeg, mid-cut
    wait_until(lambda: not ffmpeg_in_group(victim.process.pid), 10, message="the killed ffmpeg to be gone")
    assert cluster.clip(clip_id)["status"] == "processing"  # nobody is left on it

    # The survivor's periodic recovery finds the job without a heartbeat and queues it again; it cuts it.
    def settled():
        clip = cluster.clip(clip_id)
        return clip if clip["status"] in ("ready", "failed") else None

    try:
        clip = wait_until(settled, RECOVERY_TIMEOUT, interval=0.5, message="the other consumer to recover the job")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{cluster.consumer_logs()}") from None
    assert clip == {"status": "ready", "attempts": 2, "error": None}
    last_cut = cluster.cuts()[-1]
    assert last_cut[1] == survivor.process.pid  # the second cut ran under the survivor
    assert survivor.running
    with_clip = session.get(f"{cluster.front.url}{CLIPS_URL}/{clip_id}", timeout=30).json()["clip"]
    assert with_clip["status"] == "ready" and with_clip["duration_seconds"] == pytest.approx(4, abs=0.1)
