"""The untouched original of every upload is sealed at receipt: its SHA-256 shown to staff, its bytes under their
own key, downloadable by a supervisor or admin with a reason (audited), removed with its cleaned copy."""
from __future__ import annotations

import hashlib
import io
import os
import re
import stat
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select, text

from portal import crypto, uploads
from portal.models import AuditEvent, Lead, LeadAttachment

from . import exiftool_files as ef
from . import factories
from . import family_factories as ffac
from . import family_files as ff
from .conftest import csrf_from, sign_in
from .family_helpers import hidden, open_lead_form, post_lead

AUTHOR = "Jane Tipster-Author"


def _files_in(app) -> set[str]:
    folder = Path(app.config["UPLOAD_DIR"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _path(app, name: str) -> Path:
    return Path(app.config["UPLOAD_DIR"]) / name


def _assert_sealed_original_and_clean_copy(app, tmp_path, attachment: LeadAttachment, sent: bytes) -> None:
    clean = _path(app, attachment.stored_name).read_bytes()
    with pikepdf.open(io.BytesIO(clean)) as document:
        assert "/Info" not in document.trailer and "/Metadata" not in document.Root
        assert not any(isinstance(o, (pikepdf.Dictionary, pikepdf.Stream)) and "/Metadata" in o
                       for o in document.objects)
    tags = ef.read_tags(clean, tmp_path, "clean.pdf")
    assert not [key for key in tags if key.split(":")[-1] in ("Author", "Creator", "Producer")], tags
    assert not [key for key in tags if key.startswith("XMP")], tags
    assert AUTHOR.encode() not in clean
    # The original: its hash is of the bytes sent, it opens to exactly them, and on disk it is only ciphertext.
    assert attachment.original_sha256 == hashlib.sha256(sent).hexdigest()
    assert attachment.original_size == len(sent) and attachment.original_content_type == "application/pdf"
    sealed = _path(app, attachment.original_stored_name)
    blob = sealed.read_bytes()
    assert AUTHOR.encode() not in blob and b"%PDF" not in blob
    assert crypto.unseal(attachment.original_key, blob,
                         context=uploads.original_context(attachment.original_stored_name)) == sent
    assert re.fullmatch(r"[0-9a-f]{40}", attachment.original_stored_name)
    assert stat.S_IMODE(os.stat(sealed).st_mode) == 0o600 and sealed.parent == _path(app, attachment.stored_name).parent


def _sent_pdf() -> bytes:
    sent = ff.pdf_file(author=AUTHOR)
    with pikepdf.open(io.BytesIO(sent)) as document:  # the fixture really carries what must go
        assert document.docinfo["/Author"] == AUTHOR
        with document.open_metadata() as xmp:
            assert AUTHOR in str(xmp.get("dc:creator"))
    return sent


def test_a_family_leads_pdf_is_cleaned_and_its_original_sealed(app, client, db, tmp_path):
    user, _member, case = factories.make_family(liaison=factories.make_user(role="liaison"))
    sign_in(client, user)
    sent = _sent_pdf()
    response = post_lead(client, case.id, open_lead_form(client, case.id), details="The statement",
                         files=[ff.upload(sent, "statement.pdf", "application/pdf")])
    assert response.status_code == 302
    (attachment,) = db.session.scalars(select(LeadAttachment)).all()
    _assert_sealed_original_and_clean_copy(app, tmp_path, attachment, sent)
    # The family downloads what they sent as it is stored: the cleaned copy.
    lead = db.session.scalar(select(Lead))
    served = client.get(f"/my/leads/{lead.id}/files/{attachment.id}")
    assert served.data == _path(app, attachment.stored_name).read_bytes()


def test_a_tips_pdf_is_cleaned_and_its_original_sealed(app, client, db, tmp_path):
    user, _member, case = factories.make_family(liaison=factories.make_user(role="liaison"))
    sign_in(client, user)
    page = client.get(f"/my/cases/{case.id}/tip-links").get_data(as_text=True)
    created = client.post(f"/my/cases/{case.id}/tip-links", data={"csrf_token": csrf_from(page)})
    path = re.search(r'id="tip-link-value">([^<]+)<', created.get_data(as_text=True)).group(1)
    path = path.replace("http://localhost", "")
    tipster = app.test_client()
    sent = _sent_pdf()
    form_token = hidden(tipster.get(path).get_data(as_text=True), "form_token")
    before = _files_in(app)
    data = {"form_token": form_token, "details": "Read this", "files": [ff.upload(sent, "mine.pdf")]}
    response = tipster.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    (attachment,) = db.session.scalars(select(LeadAttachment)).all()
    assert attachment.original_name == "file-1.pdf"
    _assert_sealed_original_and_clean_copy(app, tmp_path, attachment, sent)
    # The same form sent again makes no second lead, and leaves no file of its own behind (copy or original).
    files = _files_in(app)
    data["files"] = [ff.upload(sent, "mine.pdf")]
    assert tipster.post(path, data=data, content_type="multipart/form-data").status_code == 200
    assert _files_in(app) == files and files - before == {attachment.stored_name, attachment.original_stored_name}


def test_the_file_key_is_stored_encrypted(app, db):
    attachment = ffac.make_attachment(lead=ffac.make_lead(case=factories.make_case()), app=app)
    raw = db.session.execute(text("SELECT original_key FROM lead_attachments WHERE id = :id"),
                             {"id": attachment.id}).scalar_one()
    assert crypto.is_encrypted(raw) and attachment.original_key not in raw


def test_a_refused_batch_removes_the_originals_too(app, client, db):
    user, _member, case = factories.make_family(liaison=factories.make_user(role="liaison"))
    sign_in(client, user)
    before = _files_in(app)
    response = post_lead(client, case.id, open_lead_form(client, case.id), details="two files",
                         files=[ff.upload(_sent_pdf(), "good.pdf"), ff.upload(b"%PDF-1.4 broken", "bad.pdf")])
    assert response.status_code == 422
    assert "We could not open the PDF “bad.pdf”" in response.get_data(as_text=True)
    assert _files_in(app) == before
    assert db.session.scalar(select(func.count(Lead.id))) == 0


def test_delete_attachment_files_removes_the_copy_and_the_original(app, db):
    attachment = ffac.make_attachment(lead=ffac.make_lead(case=factories.make_case()), app=app)
    names = {attachment.stored_name, attachment.original_stored_name}
    assert names <= _files_in(app)
    with app.app_context():
        uploads.delete_attachment_files(attachment)
        assert not names & _files_in(app)
        uploads.delete_attachment_files(attachment)  # already gone: nothing to do, no error
        legacy = ffac.make_attachment(lead=attachment.lead, app=app, original=None)
        uploads.delete_attachment_files(legacy)
        assert legacy.stored_name not in _files_in(app)


def test_a_file_that_cannot_be_removed_stops_the_deletion(app, db):
    attachment = ffac.make_attachment(lead=ffac.make_lead(case=factories.make_case()), app=app)
    with app.app_context():
        original = uploads.path_for(attachment.original_stored_name)
        original.unlink()
        original.mkdir()  # something unlink() cannot remove, even for root
        try:
            with pytest.raises(OSError):
                uploads.delete_attachment_files(attachment)
        finally:
            original.rmdir()


# --- staff: the hash on the lead page, the original for supervisors and admins ---------------------------------

@pytest.fixture
def lead_with_files(app, db):
    liaison = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison)
    lead = ffac.make_lead(case=case)
    sealed = ffac.make_attachment(lead=lead, app=app, content=b"%PDF-1.4 cleaned", name="statement.pdf",
                                  original=b"%PDF-1.4 as sent, Author: " + AUTHOR.encode())
    legacy = ffac.make_attachment(lead=lead, app=app, name="old.pdf", original=None)
    return liaison, lead, sealed, legacy


def _events(db, action: str) -> list[AuditEvent]:
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_staff_see_the_hash_and_only_supervisors_get_the_link(app, db, lead_with_files):
    liaison, lead, sealed, legacy = lead_with_files
    as_liaison = app.test_client()
    sign_in(as_liaison, liaison)
    page = as_liaison.get(f"/staff/leads/{lead.id}").get_data(as_text=True)
    assert sealed.original_sha256 in page and "Original not kept (received " in page
    assert f"/staff/attachments/{sealed.id}/original" not in page
    assert as_liaison.get(f"/staff/attachments/{sealed.id}/original").status_code == 404
    supervisor = app.test_client()
    sign_in(supervisor, factories.make_user(role="supervisor"))
    page = supervisor.get(f"/staff/leads/{lead.id}").get_data(as_text=True)
    assert f"/staff/attachments/{sealed.id}/original" in page
    assert f"/staff/attachments/{legacy.id}/original" not in page
    assert supervisor.get(f"/staff/attachments/{legacy.id}/original").status_code == 404  # none kept


def test_every_file_download_keeps_its_sandbox_policy_over_the_pages_one(app, db, lead_with_files):
    """The app's security headers come last and used to replace the download's own policy with the pages' one."""
    liaison, lead, sealed, _legacy = lead_with_files
    client = app.test_client()
    sign_in(client, liaison)
    response = client.get(f"/staff/attachments/{sealed.id}")
    assert response.status_code == 200 and response.data == b"%PDF-1.4 cleaned"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    page = client.get(f"/staff/leads/{lead.id}")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]  # pages keep theirs


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_a_supervisor_or_admin_downloads_the_original_with_a_reason_audited_without_its_words(
        app, db, lead_with_files, role):
    _liaison, _lead, sealed, _legacy = lead_with_files
    client = app.test_client()
    user = factories.make_user(role=role)
    sign_in(client, user)
    url = f"/staff/attachments/{sealed.id}/original"
    form = client.get(url)
    assert form.status_code == 200 and sealed.original_sha256 in form.get_data(as_text=True)
    token = csrf_from(form.get_data(as_text=True))
    reason = "The prosecutor for Rosa Díaz asked for the file as it was sent."
    response = client.post(url, data={"csrf_token": token, "reason": reason})
    assert response.status_code == 200
    assert response.data == b"%PDF-1.4 as sent, Author: " + AUTHOR.encode()
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "statement-original.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response.headers["Cache-Control"]
    (event,) = _events(db, "lead_attachment.download_original")
    assert event.actor_id == user.id and event.outcome == "ok" and event.target_id == str(sealed.id)
    assert event.details["reason_given"] is True and event.details["reason_length"] == len(reason)
    assert "Rosa" not in str(event.details) and "prosecutor" not in str(event.details)


@pytest.mark.parametrize(("reason", "message"), [
    ("", "Say why you need the original."),
    ("   ", "Say why you need the original."),
    ("x" * 501, "Write at most 500 characters."),
])
def test_no_original_without_a_reason_of_at_most_500_characters(app, db, lead_with_files, reason, message):
    _liaison, _lead, sealed, _legacy = lead_with_files
    client = app.test_client()
    sign_in(client, factories.make_user(role="supervisor"))
    url = f"/staff/attachments/{sealed.id}/original"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "reason": reason})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and AUTHOR not in page
    assert _events(db, "lead_attachment.download_original") == []


def test_an_altered_sealed_original_is_not_served_and_the_attempt_is_audited(app, db, lead_with_files):
    _liaison, lead, sealed, _legacy = lead_with_files
    path = _path(app, sealed.original_stored_name)
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    client = app.test_client()
    sign_in(client, factories.make_user(role="admin"))
    url = f"/staff/attachments/{sealed.id}/original"
    token = csrf_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"csrf_token": token, "reason": "Court"}, follow_redirects=True)
    assert response.status_code == 200 and response.request.path == f"/staff/leads/{lead.id}"
    assert "could not be opened: it may have been altered" in response.get_data(as_text=True)
    (event,) = _events(db, "lead_attachment.download_original")
    assert event.outcome == "failed"


def test_the_original_page_reads_in_spanish(app, db, lead_with_files):
    _liaison, _lead, sealed, _legacy = lead_with_files
    client = app.test_client()
    sign_in(client, factories.make_user(role="supervisor", language="es"))
    page = client.get(f"/staff/attachments/{sealed.id}/original").get_data(as_text=True)
    assert "Descargar el archivo original" in page and "¿Para qué necesita el original?" in page
