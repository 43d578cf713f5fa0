"""A software passkey for the tests: a real EC P-256 key making real WebAuthn answers (no mocks of webauthn).

SoftAuthenticator.create() answers navigator.credentials.create() options with a "none" attestation, .get()
answers navigator.credentials.get() options with a signature over authenticator data and clientDataJSON, exactly
as a browser and a security key would; keyword arguments let a test play a phishing site (another origin or RP
ID), a cloned key (an old signature counter), or a key the portal never saw.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from portal.extensions import db
from portal.models import Passkey

ORIGIN = "http://localhost"  # TestingConfig's PUBLIC_BASE_URL
RP_ID = "localhost"
UP, UV, AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    """base64url without padding, as WebAuthn's JSON uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SoftAuthenticator:
    """One passkey: a private key, a credential id and a signature counter."""

    def __init__(self, *, sign_count: int = 0, user_verified: bool = True):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = sign_count
        self.flags = UP | (UV if user_verified else 0)

    def cose_public_key(self) -> bytes:
        """The public key as COSE (EC2, ES256, P-256), as an authenticator puts it in its attestation."""
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _auth_data(self, rp_id: str, *, attested: bool) -> bytes:
        flags = self.flags | (AT if attested else 0)
        data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.sign_count)
        if attested:
            data += bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id
            data += self.cose_public_key()
        return data

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()

    def create(self, options: dict, *, origin: str = ORIGIN, rp_id: str | None = None) -> dict:
        """The answer to registration options (the JSON the portal sent): the credential, as the script posts it."""
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        auth_data = self._auth_data(rp_id or options["rp"]["id"], attested=True)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation),
                             "transports": ["usb", "nfc"]},
                "clientExtensionResults": {}, "authenticatorAttachment": "cross-platform"}

    def get(self, options: dict, *, origin: str = ORIGIN, rp_id: str | None = None,
            sign_count: int | None = None) -> dict:
        """The answer to authentication options: authenticator data and a signature, the counter one higher."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._auth_data(rp_id or options["rpId"], attested=False)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature)},
                "clientExtensionResults": {}, "authenticatorAttachment": "cross-platform"}


def make_passkey(user, *, name: str = "YubiKey on keychain", authenticator: SoftAuthenticator | None = None,
                 sign_count: int = 0) -> tuple[Passkey, SoftAuthenticator]:
    """A passkey stored for the user as a completed enrolment would (committed), and the key that answers for it."""
    authenticator = authenticator or SoftAuthenticator(sign_count=sign_count)
    passkey = Passkey(user_id=user.id, credential_id=authenticator.credential_id,
                      public_key=authenticator.cose_public_key(), sign_count=authenticator.sign_count,
                      transports=["usb"], name=name)
    db.session.add(passkey)
    db.session.commit()
    return passkey, authenticator


def post_json(client, url: str, body: dict | None = None, *, token: str, **kwargs):
    """POST JSON as passkeys.js does: the CSRF token in the X-CSRFToken header."""
    return client.post(url, json=body or {}, headers={"X-CSRFToken": token}, **kwargs)
