"""No link token in any log line, and no tipster's address in the request logs: werkzeug's development server
(`flask run`, `make run`), gunicorn with the documented logger class (run for real in a subprocess), the portal's
own error logs with their tracebacks, and the huey worker's lines."""
from __future__ import annotations

import io
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from portal.logsafety import TOKEN_MARK, scrub
from portal.models import TipLink
from portal.services import invitations

from . import factories

ROOT = Path(__file__).resolve().parent.parent
BROWSER = "TipsterPhone/9.9 (UniqueUA-77a1)"


@pytest.fixture
def tip_token(db):
    """The raw token of a working tip link."""
    _user, member, case = factories.make_family()
    token = secrets.token_urlsafe(24)
    db.session.add(TipLink(case_id=case.id, token_hash=invitations.token_hash(token),
                           created_by_family_member_id=member.id))
    db.session.commit()
    return token


def _requests(base: str, token: str) -> None:
    """A tipster opens the link (and mistypes it), then someone follows a sign-in link that carries an invite."""
    headers = {"User-Agent": BROWSER, "Referer": f"{base}/t/{token}"}
    assert requests.get(f"{base}/t/{token}?lang=es", headers=headers, timeout=30).status_code == 200
    assert requests.get(f"{base}/t/{token[:5]}", headers=headers, timeout=30).status_code == 404
    assert requests.get(f"{base}/login?next=%2Finvite%2F{token}", timeout=30).status_code == 200


def _assert_clean(lines: list[str], token: str) -> None:
    tip_lines = [line for line in lines if "/t/" in line]
    assert len(tip_lines) == 2, lines
    assert [line for line in lines if "/login" in line], lines
    for line in lines:
        assert token not in line and token[:5] not in line, f"a token was logged: {line!r}"
    for line in tip_lines:
        assert f"/t/{TOKEN_MARK}" in line, line
        assert "127.0.0.1" not in line and "UniqueUA" not in line, f"the tipster's address was logged: {line!r}"


def test_the_development_servers_request_log_holds_no_token_or_tipster_address(app, tip_token):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a real handler: what `flask run` would print
    werkzeug_log = logging.getLogger("werkzeug")
    saved = werkzeug_log.level
    werkzeug_log.addHandler(handler)
    werkzeug_log.setLevel(logging.INFO)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _requests(f"http://127.0.0.1:{server.server_port}", tip_token)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        werkzeug_log.removeHandler(handler)
        werkzeug_log.setLevel(saved)
    lines = [line for line in stream.getvalue().splitlines() if '"' in line]
    _assert_clean(lines, tip_token)
    login_line = next(line for line in lines if "/login" in line)
    assert login_line.startswith("127.0.0.1 "), "other pages keep their address (the filter is for tip pages)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_with_the_documented_logger_class_logs_no_token_or_tipster_address(app, tip_token, tmp_path):
    """The README's production command, with an access log, serving the suite's database."""
    port, access, errors = _free_port(), tmp_path / "access.log", tmp_path / "error.log"
    env = {**os.environ, "PORTAL_CONFIG": "testing", "TEST_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "UPLOAD_DIR": str(tmp_path / "uploads"), "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(  # noqa: S603  (fixed command)
        [str(gunicorn), "-w", "1", "-b", f"127.0.0.1:{port}", "--logger-class",
         "portal.web.access_log.RedactingLogger", "--access-logfile", str(access), "--error-logfile", str(errors),
         "portal:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a busy machine: wait for the worker, however long it takes to boot
        while True:
            assert server.poll() is None, f"gunicorn exited: {errors.read_text() if errors.exists() else ''}"
            try:
                requests.get(f"{base}/login", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        _requests(base, tip_token)
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = [line for line in access.read_text().splitlines() if "GET /t/" in line or "GET /login?" in line]
    _assert_clean(lines, tip_token)
    assert token_free(errors.read_text(), tip_token)
    login_line = next(line for line in lines if "/login" in line)
    assert login_line.startswith("127.0.0.1 ")


def token_free(text: str, token: str) -> bool:
    """Whether text holds neither the token nor its first characters."""
    return token not in text and token[:5] not in text


def test_an_error_logged_with_its_traceback_holds_no_token(app):
    """The traceback is scrubbed for every handler, not only the portal's own (gunicorn's, the worker's)."""
    token = secrets.token_urlsafe(24)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))  # a plain formatter, not the portal's
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"could not open /t/{token} nor /invite/{token}")
        except RuntimeError:
            logging.getLogger("portal.tips.routes").exception("unhandled error on a tip page ref=abc")
    finally:
        root.removeHandler(handler)
    written = stream.getvalue()
    assert "RuntimeError: could not open /t/[token] nor /invite/[token]" in written
    assert token not in written


def test_every_token_address_is_scrubbed(app):
    """Every url rule whose address carries a token (or a code) is one the log scrubbing hides."""
    token = "Zq8" + secrets.token_urlsafe(6)
    rules = [rule for rule in app.url_map.iter_rules()
             if any("token" in arg or "code" in arg for arg in rule.arguments)]
    assert {rule.endpoint for rule in rules} >= {"tips.leave_tip", "auth.accept_invite"}
    for rule in rules:
        values = {arg: (token if ("token" in arg or "code" in arg) else 1) for arg in rule.arguments}
        path = app.url_map.bind("localhost").build(rule.endpoint, values)
        assert token not in scrub(f'"GET {path} HTTP/1.1" 200'), f"{rule.rule} is not scrubbed from logs"


def test_the_worker_scrubs_its_log_lines_before_any_job_runs(tmp_path):
    """`huey_consumer portal.worker.huey` logs before any app exists: its lines are scrubbed all the same."""
    code = ("import logging, sys; import portal.worker; "
            "logging.basicConfig(stream=sys.stdout, format='%(message)s'); "
            "logging.getLogger('huey').error('job for /invite/Sh0rtSecret failed')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,  # noqa: S603
                         env={**os.environ, "PORTAL_CONFIG": "testing", "PYTHONPATH": str(ROOT)}, check=True)
    assert "job for /invite/[token] failed" in out.stdout and "Sh0rtSecret" not in out.stdout

