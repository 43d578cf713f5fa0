"""Encryption at rest: a keyring of AES-256-GCM keys from outside the database, and sealed blobs for files.

A value is stored as the text ``enc1:<key id>:<base64url(nonce || ciphertext+tag)>``. The key id says which key
opened it, so `flask rotate-keys` can find every value not yet under the current key. Each value is bound to
its place (``context``, e.g. ``"leads.details"``) as associated data: a ciphertext copied into another column
does not open there.

Keys come from ENCRYPTION_KEYS (``id:key[,id:key...]``) or ENCRYPTION_KEY_FILE (one ``id:key`` per line, ``#``
comments); the first key listed writes, every listed key reads. A key is 32 random bytes, base64url-encoded
(`flask --app portal new-encryption-key` prints one). The app builds the keyring at start-up and keeps it in
``app.extensions["keyring"]``; `keyring()` finds it for the model types.

A file (an upload's untouched original) is sealed under its own random key (`seal`); that key is stored in an
EncryptedText column, so the keyring protects it like any other value and rotation re-wraps it by column.
"""
from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

PREFIX = "enc1"
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class KeyringError(RuntimeError):
    """The keys are missing or malformed, or a value cannot be opened with any key we hold."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise KeyringError("not base64url") from None


def new_key_line(key_id: str | None = None) -> str:
    """A fresh key as ``id:key``, ready for ENCRYPTION_KEYS or a key file."""
    key_id = key_id or "k" + secrets.token_hex(4)
    if not KEY_ID.match(key_id):
        raise KeyringError("a key id is 1-32 letters, digits, '-' or '_'")
    return f"{key_id}:{_b64encode(secrets.token_bytes(KEY_BYTES))}"


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """[(id, key)] from ``id:key`` entries separated by commas or lines; the first one writes."""
    keys: list[tuple[str, bytes]] = []
    entries = [entry.strip() for line in spec.splitlines() for entry in line.split("#", 1)[0].split(",")]
    for entry in entries:
        if not entry:
            continue
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not KEY_ID.match(key_id):
            raise KeyringError("each key is written id:key (the id: letters, digits, '-' or '_')")
        key = _b64decode(encoded.strip())
        if len(key) != KEY_BYTES:
            raise KeyringError(f"key {key_id!r} is not {KEY_BYTES} bytes")
        if any(key_id == known for known, _ in keys):
            raise KeyringError(f"key id {key_id!r} is listed twice")
        keys.append((key_id, key))
    return keys


class Keyring:
    """The keys that open values; the first writes new ones."""

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise KeyringError("no encryption key given")
        self.current_id = keys[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def from_spec(cls, spec: str) -> Keyring:
        return cls(parse_keys(spec))

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Keyring:
        try:
            return cls.from_spec(Path(path).read_text())
        except OSError as exc:
            raise KeyringError(f"cannot read the key file: {exc.strerror}") from None

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    # --- values -------------------------------------------------------------------------------------------------

    def encrypt(self, plaintext: bytes, *, context: str) -> str:
        """The stored text for these bytes, under the current key, bound to `context`."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._ciphers[self.current_id].encrypt(nonce, plaintext, context.encode())
        return f"{PREFIX}:{self.current_id}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, *, context: str) -> bytes:
        """The bytes inside a stored value; KeyringError if it is not ours, was altered or moved, or its key is gone."""
        key_id, data = self._split(token)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise KeyringError(f"value written under key {key_id!r}, which is not configured")
        try:
            return cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise KeyringError("value altered, or stored in another place than it was written for") from None

    def encrypt_text(self, value: str, *, context: str) -> str:
        return self.encrypt(value.encode("utf-8"), context=context)

    def decrypt_text(self, token: str, *, context: str) -> str:
        return self.decrypt(token, context=context).decode("utf-8")

    def reencrypt(self, token: str, *, context: str) -> str:
        """The same value under the current key (unchanged if it already is)."""
        if key_id_of(token) == self.current_id:
            return token
        return self.encrypt(self.decrypt(token, context=context), context=context)

    @staticmethod
    def _split(token: str) -> tuple[str, bytes]:
        parts = token.split(":", 2) if isinstance(token, str) else []
        if len(parts) != 3 or parts[0] != PREFIX:
            raise KeyringError("not an encrypted value")
        data = _b64decode(parts[2])
        if len(data) < NONCE_BYTES + 16:
            raise KeyringError("encrypted value too short")
        return parts[1], data


@dataclass(frozen=True)
class Sealed:
    """A file sealed under its own random key.

    `key` is that key in base64url: store it only in an EncryptedText column (lead_attachments.original_key), so
    the keyring wraps it like any other value and `rotate-keys` re-wraps it without touching the file.
    """

    key: str
    blob: bytes  # nonce || ciphertext+tag


def seal(data: bytes, *, context: str) -> Sealed:
    """Encrypt a file under a new random key, bound to `context` (e.g. the sealed file's own name)."""
    file_key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return Sealed(key=_b64encode(file_key), blob=nonce + AESGCM(file_key).encrypt(nonce, data, context.encode()))


def unseal(key: str, blob: bytes, *, context: str) -> bytes:
    """A sealed file's bytes; KeyringError if the key, the blob or the context do not match."""
    file_key = _b64decode(key or "")
    if len(file_key) != KEY_BYTES or len(blob) < NONCE_BYTES + 16:
        raise KeyringError("not a sealed file key or blob")
    try:
        return AESGCM(file_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode())
    except InvalidTag:
        raise KeyringError("sealed file altered or not the one this key belongs to") from None


def key_id_of(token: str) -> str:
    """Which key wrote a stored value."""
    return Keyring._split(token)[0]


def is_encrypted(value) -> bool:
    """Whether a stored value has our envelope (says nothing about whether we can open it)."""
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def keyring_from_config(config) -> Keyring:
    """The keyring the settings name: ENCRYPTION_KEYS, else ENCRYPTION_KEY_FILE; KeyringError if neither."""
    spec = config.get("ENCRYPTION_KEYS")
    if spec:
        return Keyring.from_spec(spec)
    path = config.get("ENCRYPTION_KEY_FILE")
    if path:
        return Keyring.from_file(path)
    raise KeyringError("set ENCRYPTION_KEYS or ENCRYPTION_KEY_FILE")


def keyring() -> Keyring:
    """The running app's keyring (the model types call this while they read and write)."""
    return current_app.extensions["keyring"]
