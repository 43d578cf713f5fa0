"""The keyring: values open only with their key and in their place; files sealed under their own key."""
import pytest

from config import ProductionConfig
from portal import crypto
from portal.crypto import Keyring, KeyringError, new_key_line, parse_keys


def make(*ids):
    return Keyring.from_spec(",".join(new_key_line(i) for i in ids))


def test_value_round_trip_and_envelope():
    ring = make("a1")
    token = ring.encrypt_text("Marker señal 🙂", context="leads.details")
    assert token.startswith("enc1:a1:")
    assert "Marker" not in token
    assert ring.decrypt_text(token, context="leads.details") == "Marker señal 🙂"
    assert ring.encrypt_text("same", context="x") != ring.encrypt_text("same", context="x")  # fresh nonce


def test_a_value_moved_to_another_column_does_not_open():
    ring = make("a1")
    token = ring.encrypt_text("tip", context="leads.details")
    with pytest.raises(KeyringError):
        ring.decrypt_text(token, context="case_messages.body")


def test_an_altered_value_does_not_open():
    ring = make("a1")
    token = ring.encrypt_text("tip", context="c")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(KeyringError):
        ring.decrypt_text(flipped, context="c")
    with pytest.raises(KeyringError):
        ring.decrypt_text("plain text", context="c")


def test_rotation_reads_old_writes_new():
    spec_old = new_key_line("old")
    token = Keyring.from_spec(spec_old).encrypt_text("v", context="c")
    rotated = Keyring.from_spec(new_key_line("new") + "," + spec_old)
    assert rotated.current_id == "new"
    assert rotated.decrypt_text(token, context="c") == "v"
    again = rotated.reencrypt(token, context="c")
    assert crypto.key_id_of(again) == "new"
    assert rotated.reencrypt(again, context="c") == again
    with pytest.raises(KeyringError, match="not configured"):
        Keyring.from_spec(new_key_line("new")).decrypt_text(token, context="c")


def test_a_sealed_file_has_its_own_key_and_opens_only_with_it_in_its_place():
    data = b"%PDF-1.7 original bytes"
    sealed = crypto.seal(data, context="original:ab12")
    assert data not in sealed.blob and len(sealed.blob) == 12 + len(data) + 16
    assert len(crypto._b64decode(sealed.key)) == 32
    assert crypto.unseal(sealed.key, sealed.blob, context="original:ab12") == data
    again = crypto.seal(data, context="original:ab12")
    assert again.key != sealed.key and again.blob != sealed.blob  # a new key (and nonce) for every file
    with pytest.raises(KeyringError):
        crypto.unseal(sealed.key, sealed.blob, context="original:cd34")  # moved to another name
    with pytest.raises(KeyringError):
        crypto.unseal(again.key, sealed.blob, context="original:ab12")  # another file's key
    altered = sealed.blob[:-1] + bytes([sealed.blob[-1] ^ 1])
    with pytest.raises(KeyringError):
        crypto.unseal(sealed.key, altered, context="original:ab12")
    for bad_key in ("", "short", None):
        with pytest.raises(KeyringError):
            crypto.unseal(bad_key, sealed.blob, context="original:ab12")


def test_a_file_key_in_its_encrypted_column_survives_rotation():
    """The file key lives in an EncryptedText column: rotating the keyring re-encrypts the column value and the
    sealed file still opens with what comes out."""
    from portal.models.types import EncryptedText

    sealed = crypto.seal(b"original", context="original:ef56")
    column = EncryptedText("lead_attachments.original_key")
    spec_old = new_key_line("old")
    old = Keyring.from_spec(spec_old)
    stored = old.encrypt_text(sealed.key, context=column.context)
    assert sealed.key not in stored
    rotated = Keyring.from_spec(new_key_line("new") + "," + spec_old)
    moved = rotated.reencrypt(stored, context=column.context)
    assert crypto.key_id_of(moved) == "new"
    key = rotated.decrypt_text(moved, context=column.context)
    assert crypto.unseal(key, sealed.blob, context="original:ef56") == b"original"


@pytest.mark.parametrize("spec, message", [
    ("", "no encryption key"),
    ("nokey", "id:key"),
    ("a:c2hvcnQ", "32 bytes"),
    ("a:not base64!", "base64"),
    ("bad id!:" + "A" * 43, "id:key"),
])
def test_malformed_keys_are_refused(spec, message):
    with pytest.raises(KeyringError, match=message):
        Keyring.from_spec(spec)


def test_the_same_id_twice_is_refused():
    line = new_key_line("dup")
    with pytest.raises(KeyringError, match="twice"):
        Keyring.from_spec(line + "," + line)


def test_key_file_with_comments(tmp_path):
    path = tmp_path / "keys"
    path.write_text("# written by ops\n" + new_key_line("k2") + "\n\n" + new_key_line("k1") + "  # old\n")
    ring = Keyring.from_file(path)
    assert ring.current_id == "k2" and ring.key_ids == ("k2", "k1")
    with pytest.raises(KeyringError, match="cannot read"):
        Keyring.from_file(tmp_path / "missing")


def test_production_refuses_to_start_without_keys(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://localhost/db")
    monkeypatch.delenv("ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("ENCRYPTION_KEY_FILE", raising=False)
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.gov")  # email is configured: only the keys are missing
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "liaison@example.gov")
    with pytest.raises(RuntimeError, match="ENCRYPTION_KEYS"):
        ProductionConfig()
    monkeypatch.setenv("ENCRYPTION_KEYS", new_key_line("prod1"))
    ProductionConfig()


def test_the_app_refuses_malformed_keys():
    from portal import create_app

    with pytest.raises(RuntimeError, match="Encryption keys"):
        create_app("testing", {"ENCRYPTION_KEYS": "k:tooshort"})


def test_new_encryption_key_command(app):
    result = app.test_cli_runner().invoke(args=["new-encryption-key", "--id", "k2027"])
    assert result.exit_code == 0
    assert parse_keys(result.output.strip())[0][0] == "k2027"
