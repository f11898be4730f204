"""Reclip beside the dashboard, in real Chromium: signing in with the dashboard's Supabase session, and a
super admin giving an Egress recording of an unknown room to its owner."""
import pytest

from tests.conftest import log_in
from tests.factories import make_recording, make_user
from tests.test_supabase_auth import SECRET, access_token

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)]


@pytest.fixture
def app_config():
    return {"SUPABASE_JWT_SECRET": SECRET}


def test_the_dashboard_opens_reclip_signed_in_with_its_token(page, live_server, app):
    make_recording(owner=make_user("member@example.com"), title="Weekly sync")

    page.goto(f"{live_server.url}/auth/supabase?next=/recordings#access_token={access_token()}")

    page.wait_for_url(f"{live_server.url}/recordings")
    page.get_by_role("heading", name="Weekly sync").wait_for()
    assert "access_token" not in page.evaluate("location.href")
    assert page.console_errors == []


def test_same_origin_reclip_finds_the_supabase_js_session(page, live_server, app):
    make_recording(owner=make_user("member@example.com"), title="Weekly sync")
    page.goto(f"{live_server.url}/login?next=/recordings")
    # What supabase-js v2 keeps in localStorage on the dashboard's origin.
    page.evaluate("""token => localStorage.setItem('sb-abcdefghijklmnop-auth-token',
        JSON.stringify({access_token: token, token_type: 'bearer', refresh_token: 'r', user: {}}))""", access_token())

    page.get_by_role("link", name="Continue with your dashboard account").click()

    page.get_by_role("heading", name="Weekly sync").wait_for()
    assert page.url == f"{live_server.url}/recordings"


def test_an_expired_session_says_what_to_do(page, live_server, app):
    expired = access_token(exp=1_700_000_000)
    page.goto(f"{live_server.url}/auth/supabase#access_token={expired}")
    status = page.get_by_role("status").filter(has_text="expired")
    status.wait_for()
    assert "refresh the Supabase session" in status.inner_text()
    assert page.get_by_role("link", name="Log in with a Reclip password instead").is_visible()

    page.goto(f"{live_server.url}/auth/supabase")
    page.get_by_text("No dashboard session was found in this browser").wait_for()


def test_a_super_admin_assigns_an_unowned_recording_and_sees_a_failed_one(page, live_server, app, media_dir):
    admin = make_user("admin@example.com", super_admin=True)
    make_user("member@example.com")
    make_recording(owner=None, file=media_dir / "sample.mp4", title="board-meeting")
    failed = make_recording(owner=None, title="town-hall")
    failed.failure, failed.recording_url = "The recording failed: Start signal not received", ""
    from webapp.extensions import db
    db.session.commit()
    log_in(page, live_server, admin.email)

    board = page.locator("li.recording").filter(has=page.get_by_role("heading", name="board-meeting"))
    board.get_by_text("No owner yet").wait_for()
    board.get_by_role("button", name="Assign owner").click()
    board.get_by_label("Owner’s email").fill("nobody@example.com")
    board.get_by_role("button", name="Assign", exact=True).click()
    page.get_by_text("No user with the email nobody@example.com").wait_for()
    board.get_by_label("Owner’s email").fill("member@example.com")
    board.get_by_role("button", name="Assign", exact=True).click()
    board.get_by_text("member@example.com").wait_for()
    assert board.get_by_role("button", name="Change owner").is_visible()

    town_hall = page.locator("li.recording").filter(has=page.get_by_role("heading", name="town-hall"))
    assert "Start signal not received" in town_hall.inner_text()
    assert town_hall.get_by_role("button", name="Play").count() == 0
    assert [e for e in page.console_errors if "400" not in e] == []
