"""Staff passkeys (WebAuthn): register and name one, remove it, and use it as the second sign-in step.

A passkey is phishing-resistant where a TOTP code is not: the browser signs the portal's own origin into every
answer, so a look-alike site gets nothing it can replay here. Each challenge is random, stored only as a hash,
and deleted the moment an answer is checked (right or wrong), so it works once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .. import audit
from ..errors import ServiceError
from ..extensions import db
from ..models import STAFF_ROLES, Passkey, User, WebauthnChallenge, utcnow
from . import lockout, mfa
from .agency import get_agency

CHALLENGE_TTL = timedelta(minutes=5)
TIMEOUT_MS = 120_000  # how long the browser waits for the key (a hint; the challenge's own limit is CHALLENGE_TTL)
NAME_MAX = 80
# Whatever a malformed or hostile answer can make the parsers raise: all of it is a refused passkey, never a 500.
_BAD_ANSWER = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError)
_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class PasskeyRefused(Exception):
    """A passkey answer that was not accepted; reason is a short code for the audit log, never shown."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def relying_party() -> tuple[str, str]:
    """(RP ID, origin) for WebAuthn: WEBAUTHN_RP_ID / WEBAUTHN_ORIGIN, else derived from PUBLIC_BASE_URL."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    rp_id = current_app.config.get("WEBAUTHN_RP_ID") or base.hostname or "localhost"
    origin = current_app.config.get("WEBAUTHN_ORIGIN") or f"{base.scheme}://{base.netloc}"
    return rp_id, origin.rstrip("/")


def passkeys_required() -> bool:
    """Whether the agency requires staff to sign in with a passkey."""
    return bool(get_agency().require_passkeys)


def passkeys_of(user: User) -> list[Passkey]:
    """The user's passkeys, oldest first."""
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)))


def own_passkey(user: User, passkey_id: int) -> Passkey | None:
    """One of the user's own passkeys by id; None for another person's (the route answers 404, as for none)."""
    if not user.is_staff:
        return None
    return db.session.scalar(select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id))


def second_step(user: User, *, passed: bool = False) -> str:
    """Which second-factor page a staff member goes to after the password.

    "passkey" (they have one), "passkey_setup" (the agency requires one: at once for someone with no factor yet,
    else after another factor was passed), "totp", or "totp_setup" (no factor at all, passkeys not required).
    """
    if mfa.has_passkey(user):
        return "passkey"
    if passkeys_required():
        return "passkey_setup" if passed or not mfa.is_enrolled(user) else "totp"
    return "totp" if mfa.is_enrolled(user) else "totp_setup"


def totp_completes_sign_in(user: User) -> bool:
    """Whether a right authenticator code alone finishes the sign-in (not when the agency requires passkeys)."""
    return not passkeys_required()


def clean_name(name: str | None) -> str:
    """The passkey's name as given, trimmed; refused when empty or too long."""
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError(_("Give the passkey a name, such as \"YubiKey on keychain\"."), "name")
    if len(name) > NAME_MAX:
        raise ServiceError(_("Use at most %(n)d characters.", n=NAME_MAX), "name")
    return name


# --- challenges ---------------------------------------------------------------------------------------------------

def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _new_challenge(user: User, purpose: str) -> bytes:
    """A fresh challenge; the user's earlier one for the same purpose (and any expired one) stops working."""
    cutoff = utcnow() - CHALLENGE_TTL
    db.session.execute(delete(WebauthnChallenge).where(
        or_(WebauthnChallenge.created_at < cutoff,
            (WebauthnChallenge.user_id == user.id) & (WebauthnChallenge.purpose == purpose))))
    challenge = secrets.token_bytes(32)
    db.session.add(WebauthnChallenge(user_id=user.id, purpose=purpose, challenge_hash=_hash(challenge)))
    db.session.flush()
    return challenge


def _spend_challenge(user: User, purpose: str, challenge: bytes | None) -> None:
    """Use the challenge up (one delete: of two parallel answers only one finds it); refused if none was live."""
    if not challenge:
        raise PasskeyRefused("no_challenge")
    spent = db.session.execute(delete(WebauthnChallenge).where(
        WebauthnChallenge.user_id == user.id, WebauthnChallenge.purpose == purpose,
        WebauthnChallenge.challenge_hash == _hash(challenge),
        WebauthnChallenge.created_at >= utcnow() - CHALLENGE_TTL).execution_options(synchronize_session=False)).rowcount
    if spent != 1:
        raise PasskeyRefused("challenge_used_or_expired")


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in passkey.transports or [] if t in _TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=passkey.credential_id, transports=transports or None)


def _user_handle(user: User) -> bytes:
    """An opaque, stable id for the authenticator's account entry: no email, no database id in the clear."""
    key = (current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, f"webauthn-user:{user.id}".encode(), hashlib.sha256).digest()


# --- registration ---------------------------------------------------------------------------------------------------

def registration_options(user: User) -> tuple[str, bytes]:
    """Options for navigator.credentials.create() (as JSON) and the challenge they carry."""
    rp_id, _origin = relying_party()
    challenge = _new_challenge(user, "register")
    options = generate_registration_options(
        rp_id=rp_id, rp_name=get_agency().name or current_app.config["AGENCY_NAME"], user_name=user.email,
        user_id=_user_handle(user), user_display_name=user.name, challenge=challenge, timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(resident_key=ResidentKeyRequirement.PREFERRED,
                                                               user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[_descriptor(p) for p in passkeys_of(user)])
    return options_to_json(options), challenge


def _transports_of(credential: Any) -> list[str]:
    try:
        parsed = parse_registration_credential_json(credential if isinstance(credential, str | dict)
                                                    else json.dumps(credential))
    except _BAD_ANSWER:
        return []
    return [t.value for t in parsed.response.transports or []][:8]


def register_passkey(user: User, *, credential: Any, challenge: bytes | None, name: str | None) -> Passkey:
    """Check the browser's answer to create() and keep the new passkey; audited. ServiceError says what to fix."""
    name = clean_name(name)  # before the challenge is spent: a missing name loses nothing
    rp_id, origin = relying_party()
    try:
        _spend_challenge(user, "register", challenge)
        if not isinstance(credential, dict):
            raise PasskeyRefused("not_a_credential")
        try:
            verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                    expected_rp_id=rp_id, expected_origin=origin,
                                                    require_user_verification=False)
        except _BAD_ANSWER:
            raise PasskeyRefused("invalid_response") from None
        known = db.session.scalar(select(Passkey.user_id).where(Passkey.credential_id == verified.credential_id))
        if known is not None:
            raise PasskeyRefused("already_registered")
    except PasskeyRefused as exc:
        audit.record("passkey.enrol", user, actor=user, outcome="failed", reason=exc.reason)
        if exc.reason == "already_registered":
            raise ServiceError(_("This passkey is already added.")) from None
        raise ServiceError(_("The passkey could not be added. Please try again.")) from None
    passkey = Passkey(user_id=user.id, credential_id=verified.credential_id,
                      public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      transports=_transports_of(credential), name=name)
    db.session.add(passkey)
    db.session.flush()
    audit.record("passkey.enrol", passkey, actor=user, user_verified=verified.user_verified)
    return passkey


def rename_passkey(passkey: Passkey, *, name: str | None, by: User) -> None:
    """Give the passkey a new name; audited (the name itself stays out of the audit log)."""
    name = clean_name(name)
    if name != passkey.name:
        passkey.name = name
        audit.record("passkey.rename", passkey, actor=by)


def remove_problem(passkey: Passkey) -> str | None:
    """Why this passkey may not be removed (it is the last way to sign in, or the last one the agency requires)."""
    others = db.session.scalar(select(func.count()).select_from(Passkey).where(
        Passkey.user_id == passkey.user_id, Passkey.id != passkey.id)) or 0
    if others:
        return None
    if passkeys_required():
        return _("Your agency requires a passkey to sign in, and this is your only one. Add another passkey "
                 "first, then remove this one.")
    user = db.session.get(User, passkey.user_id)
    if not mfa.is_enrolled(user):
        return _("This passkey is your only second step to sign in. Add another passkey first, then remove "
                 "this one.")
    return None


def remove_passkey(passkey: Passkey, *, by: User) -> None:
    """Remove a passkey (it stops working at once), unless remove_problem() says no; audited.

    A lost or stolen key may already have signed someone in: every session of the owner ends (the route starts
    this browser's again).
    """
    problem = remove_problem(passkey)
    if problem:
        raise ServiceError(problem)
    owner = db.session.get(User, passkey.user_id)
    owner.session_version = (owner.session_version or 0) + 1
    audit.record("passkey.remove", passkey, actor=by)
    db.session.delete(passkey)
    db.session.flush()


# --- sign-in --------------------------------------------------------------------------------------------------------

def authentication_options(user: User) -> tuple[str, bytes]:
    """Options for navigator.credentials.get() (as JSON, naming the user's passkeys) and their challenge."""
    rp_id, _origin = relying_party()
    challenge = _new_challenge(user, "sign_in")
    options = generate_authentication_options(rp_id=rp_id, challenge=challenge, timeout=TIMEOUT_MS,
                                              allow_credentials=[_descriptor(p) for p in passkeys_of(user)],
                                              user_verification=UserVerificationRequirement.PREFERRED)
    return options_to_json(options), challenge


def _check_assertion(user: User, credential: Any, challenge: bytes | None) -> tuple[Passkey, Any]:
    rp_id, origin = relying_party()
    _spend_challenge(user, "sign_in", challenge)
    if not isinstance(credential, dict):
        raise PasskeyRefused("not_a_credential")
    try:
        parsed = parse_authentication_credential_json(credential)
    except _BAD_ANSWER:
        raise PasskeyRefused("invalid_response") from None
    passkey = db.session.scalar(select(Passkey).where(Passkey.credential_id == parsed.raw_id,
                                                      Passkey.user_id == user.id))
    if passkey is None:
        raise PasskeyRefused("unknown_passkey")
    try:
        verified = verify_authentication_response(credential=parsed, expected_challenge=challenge,
                                                  expected_rp_id=rp_id, expected_origin=origin,
                                                  credential_public_key=passkey.public_key,
                                                  credential_current_sign_count=passkey.sign_count,
                                                  require_user_verification=False)
    except _BAD_ANSWER as exc:
        # A counter that did not go up: the key may have been cloned. Refused, and named in the audit log.
        raise PasskeyRefused("sign_count" if "sign count" in str(exc) else "invalid_response") from None
    # Claim the new counter atomically: of two answers with the same counter, only one gets through.
    new = verified.new_sign_count
    claimed = db.session.execute(
        update(Passkey).where(Passkey.id == passkey.id,
                              or_(Passkey.sign_count < new, (Passkey.sign_count == 0) & (new == 0)))
        .values(sign_count=new, last_used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        raise PasskeyRefused("sign_count")
    db.session.refresh(passkey, ["sign_count", "last_used_at"])
    return passkey, verified


def verify_sign_in(user: User, *, credential: Any, challenge: bytes | None) -> Passkey | None:
    """The second sign-in step with a passkey: the passkey used, or None (audited, counted towards the lockout)."""
    try:
        passkey, verified = _check_assertion(user, credential, challenge)
    except PasskeyRefused as exc:
        audit.record("auth.login", user, outcome="failed", actor=user, reason="passkey", detail=exc.reason)
        lockout.note_failure(user, reason="passkey")
        return None
    user.last_login_at = utcnow()
    lockout.clear_failures(user)
    audit.record("auth.login", user, actor=user, method="passkey", passkey=passkey.id,
                 user_verified=verified.user_verified)
    return passkey


def sign_in_with_new_passkey(user: User, passkey: Passkey) -> None:
    """A sign-in finished by enrolling a passkey (the agency requires one): audited as the sign-in it is."""
    user.last_login_at = utcnow()
    lockout.clear_failures(user)
    audit.record("auth.login", user, actor=user, method="passkey_enrol", passkey=passkey.id)


def passkey_counts() -> dict[int, int]:
    """{user id: how many passkeys}, for the admin's sign-in security page."""
    rows = db.session.execute(select(Passkey.user_id, func.count()).group_by(Passkey.user_id))
    return {user_id: count for user_id, count in rows}


def staff_without_passkey() -> int:
    """How many active staff members have no passkey (the admin sees it beside the setting)."""
    return db.session.scalar(select(func.count()).select_from(User).where(
        User.role.in_(STAFF_ROLES), User.active.is_(True),
        ~select(Passkey.id).where(Passkey.user_id == User.id).exists())) or 0


def set_required(*, required: bool, by: User) -> bool:
    """Turn "staff must sign in with a passkey" on or off; audited. True if it changed."""
    agency = get_agency()
    if bool(agency.require_passkeys) == required:
        return False
    agency.require_passkeys = required
    audit.record("agency.require_passkeys", agency, actor=by, required=required)
    return True
