"""Staff second factor: TOTP (RFC 6238) with single-use codes, recovery codes kept as hashes, admin reset."""
from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, exists, func, or_, select, update

from .. import audit
from ..extensions import db
from ..models import MfaRecoveryCode, Passkey, User, WebauthnChallenge, utcnow
from . import lockout

STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed from paper
_RECOVERY_LENGTH = 16  # about 79 bits: a stolen database cannot guess them back from their hashes


def is_enrolled(user: User) -> bool:
    """Whether the user has a confirmed authenticator."""
    return bool(user.totp_secret and user.mfa_enrolled_at is not None)


def has_passkey(user: User) -> bool:
    """Whether the user has at least one passkey (services/passkeys.py)."""
    return bool(db.session.scalar(select(exists().where(Passkey.user_id == user.id))))


def ensure_secret(user: User) -> str:
    """The secret being enrolled: created on first use and kept until enrolment, so a reload shows the same QR."""
    if is_enrolled(user):
        raise ValueError("already enrolled")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32(length=32)
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    """The otpauth:// link an authenticator app reads from the QR code."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=current_app.config["AGENCY_NAME"])


def qr_data_uri(uri: str) -> str:
    """The QR code of a link as an SVG data: URI, drawn on the server (the CSP allows img-src data:)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=4)


def grouped_secret(secret: str) -> str:
    """The secret in groups of four characters, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _current_step() -> int:
    return int(utcnow().timestamp()) // STEP_SECONDS


def _check_totp(user: User, code: str) -> bool:
    """Whether the code is right for now (±1 step for clock drift) and newer than the last one used."""
    code = "".join(code.split())
    if not user.totp_secret or len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = _current_step()
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            # Claim the step atomically: the same code (or an older one) can never be used twice.
            claimed = db.session.execute(
                update(User).where(User.id == user.id,
                                   or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step).execution_options(synchronize_session=False)
            ).rowcount
            if claimed:
                user.totp_last_step = step
                db.session.flush()
            return bool(claimed)
    return False


def _hash_recovery(code: str) -> str:
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


def generate_recovery_codes(user: User) -> list[str]:
    """New recovery codes for the user (the old ones stop working); returned once, only hashes are stored."""
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i:i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    db.session.add_all(MfaRecoveryCode(user_id=user.id, code_hash=_hash_recovery(code)) for code in codes)
    db.session.flush()
    audit.record("mfa.recovery_codes", user, actor=user, count=len(codes))
    return codes


def remaining_recovery_codes(user: User) -> int:
    """How many unused recovery codes the user has."""
    return db.session.scalar(select(func.count()).select_from(MfaRecoveryCode).where(
        MfaRecoveryCode.user_id == user.id, MfaRecoveryCode.used_at.is_(None))) or 0


def complete_enrolment(user: User, code: str) -> list[str] | None:
    """Confirm the authenticator with a first code; returns the new recovery codes, or None if the code is wrong."""
    if is_enrolled(user) or not _check_totp(user, code):
        _failed(user, "totp_enrol")
        return None
    user.mfa_enrolled_at = utcnow()
    audit.record("mfa.enrol", user, actor=user)
    _succeeded(user, method="totp_enrol")
    return generate_recovery_codes(user)


def verify_second_factor(user: User, code: str, *, purpose: str = "sign_in") -> bool:
    """An authenticator code: the sign-in's second step, or a re-check before a sensitive change (purpose).

    A wrong code counts towards the lockout either way.
    """
    if not is_enrolled(user) or not _check_totp(user, code):
        _failed(user, "totp", purpose=purpose)
        return False
    _succeeded(user, method="totp", purpose=purpose)
    return True


def use_recovery_code(user: User, code: str) -> bool:
    """The second step with a recovery code, which then stops working; a wrong code counts towards the lockout."""
    used = 0
    if (is_enrolled(user) or has_passkey(user)) and code:
        used = db.session.execute(
            update(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id,
                                          MfaRecoveryCode.code_hash == _hash_recovery(code),
                                          MfaRecoveryCode.used_at.is_(None))
            .values(used_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
    if not used:
        _failed(user, "recovery_code")
        return False
    _succeeded(user, method="recovery_code")
    return True


def _failed(user: User, reason: str, *, purpose: str = "sign_in") -> None:
    if purpose == "sign_in":
        audit.record("auth.login", user, outcome="failed", actor=user, reason=reason)
    else:
        audit.record("mfa.confirm", user, outcome="failed", actor=user, reason=reason, purpose=purpose)
    lockout.note_failure(user, reason=reason)


def _succeeded(user: User, *, method: str, purpose: str = "sign_in") -> None:
    if purpose != "sign_in":
        audit.record("mfa.confirm", user, actor=user, purpose=purpose)
        return
    user.last_login_at = utcnow()
    lockout.clear_failures(user)
    audit.record("auth.login", user, actor=user, method=method)


def reset_mfa(user: User, *, by: User) -> None:
    """An admin removes a staff member's authenticator, passkeys and recovery codes (a lost phone or key); audited.

    Every session of the user ends; at the next sign-in they enrol a new authenticator (or passkey).
    """
    user.totp_secret = None
    user.mfa_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(delete(MfaRecoveryCode).where(MfaRecoveryCode.user_id == user.id))
    passkeys = db.session.execute(delete(Passkey).where(Passkey.user_id == user.id)).rowcount
    db.session.execute(delete(WebauthnChallenge).where(WebauthnChallenge.user_id == user.id))
    user.session_version = (user.session_version or 0) + 1
    audit.record("user.mfa_reset", user, actor=by, passkeys=passkeys)
