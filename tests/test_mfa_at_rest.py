"""Second factors at rest: the TOTP secret is stored encrypted, recovery codes only as SHA-256 hashes; the raw
database holds neither. `flask demo-totp` keeps working with the encrypted secret, after a key rotation too."""
from __future__ import annotations

import hashlib
import re

import pyotp
from sqlalchemy import select, text, update

from portal.crypto import Keyring, is_encrypted, new_key_line
from portal.models import MfaRecoveryCode, User
from tests import factories
from tests.conftest import csrf_from, login, totp_now
from tests.encryption_world import raw_text


def _enrol(client, user) -> list[str]:
    page = client.get("/mfa/setup")
    response = client.post("/mfa/setup", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                "code": totp_now(user)})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = re.findall(r"<code>([a-z0-9-]{19})</code>", response.get_data(as_text=True))
    assert len(codes) == 10
    return codes


def test_the_raw_database_holds_neither_the_totp_secret_nor_a_recovery_code(client, db):
    user = factories.make_user(role="supervisor", mfa=False)
    login(client, user.email)
    codes = _enrol(client, user)
    db.session.expire_all()
    secret = db.session.get(User, user.id).totp_secret
    assert secret and len(secret) == 32

    dump = raw_text()
    assert secret not in dump and secret.lower() not in dump
    for code in codes:
        assert code not in dump and code.replace("-", "") not in dump
    with db.engine.connect() as conn:
        stored_secret = conn.execute(text("SELECT totp_secret FROM users WHERE id = :i"), {"i": user.id}).scalar()
        hashes = set(conn.execute(text("SELECT code_hash FROM mfa_recovery_codes")).scalars())
    assert is_encrypted(stored_secret)
    assert hashes == {hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes}
    assert db.session.scalar(select(MfaRecoveryCode.code_hash).limit(1)) in hashes


def test_demo_totp_reads_the_encrypted_secret_before_and_after_a_key_rotation(app, db, monkeypatch):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    client = app.test_client()
    password = "demo portal password"
    assert login(client, "liaison.rivera@demo.example", password).headers["Location"] == "/mfa/setup"
    page = client.get("/mfa/setup")
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT totp_secret FROM users WHERE email = :e"),
                              {"e": "liaison.rivera@demo.example"}).scalar()
    assert is_encrypted(stored)
    secret = db.session.scalar(select(User.totp_secret).where(User.email == "liaison.rivera@demo.example"))
    assert secret not in stored

    code = runner.invoke(args=["demo-totp", "liaison.rivera@demo.example"]).output.strip()
    assert code == pyotp.TOTP(secret).now()
    enrolled = client.post("/mfa/setup", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "code": code})
    assert enrolled.status_code == 200 and "Save your recovery codes" in enrolled.get_data(as_text=True)

    # A new key, the values rotated to it, the old key removed: the demo code still signs in.
    new = new_key_line("demo2")
    monkeypatch.setitem(app.extensions, "keyring", Keyring.from_spec(f"{new},{app.config['ENCRYPTION_KEYS']}"))
    db.session.remove()
    assert runner.invoke(args=["rotate-keys"]).exit_code == 0
    monkeypatch.setitem(app.extensions, "keyring", Keyring.from_spec(new))
    db.session.execute(update(User).where(User.email == "liaison.rivera@demo.example").values(totp_last_step=None))
    db.session.commit()
    second = app.test_client()
    assert login(second, "liaison.rivera@demo.example", password).headers["Location"].startswith("/mfa")
    page = second.get("/mfa", follow_redirects=True)
    code = runner.invoke(args=["demo-totp", "liaison.rivera@demo.example"]).output.strip()
    answer = second.post(page.request.path, data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                  "code": code})
    assert answer.status_code == 302, answer.get_data(as_text=True)
