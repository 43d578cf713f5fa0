"""Uploads: type from content, metadata removed, limits enforced with the typed text kept, files served safely."""
from __future__ import annotations

import io
import os
import re
import stat
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from portal import uploads
from portal.errors import ServiceError
from portal.models import Lead, LeadAttachment

from . import factories
from . import family_files as ff
from .conftest import sign_in
from .family_helpers import open_lead_form, post_lead

REFERENCE = re.compile(r"^L-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{2}$")


@pytest.fixture
def family(client):
    user, member, case = factories.make_family(liaison=factories.make_user(role="liaison"))
    sign_in(client, user)
    return user, member, case


def _stored(db, lead_id: int) -> list[LeadAttachment]:
    return list(db.session.scalars(select(LeadAttachment).where(LeadAttachment.lead_id == lead_id)
                                   .order_by(LeadAttachment.id)))


def _files_in(app) -> set[str]:
    return {p.name for p in Path(app.config["UPLOAD_DIR"]).iterdir()} if Path(app.config["UPLOAD_DIR"]).exists() \
        else set()


def _assert_no_metadata(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif(), "EXIF survived"
        assert not image.getexif().get_ifd(ff.GPS_IFD), "GPS survived"
        assert "comment" not in image.info and "exif" not in image.info and "Comment" not in image.info
        assert "xmp" not in image.info and "icc_profile" not in image.info
    assert ff.SECRET_COMMENT not in data and ff.CAMERA.encode() not in data
    assert b"Exif\x00\x00" not in data


def test_lead_with_two_photos_gets_a_reference_and_comes_back_without_exif_gps_or_comments(app, client, db, family):
    _user, _member, case = family
    form = open_lead_form(client, case.id)
    response = post_lead(client, case.id, form, details="He met someone called Ghost at the gas station.",
                         files=[ff.upload(ff.jpeg_with_metadata(), "IMG_0001.JPG", "image/jpeg"),
                                ff.upload(ff.jpeg_with_metadata((40, 80)), "IMG_0002.jpg", "image/jpeg")])
    assert response.status_code == 302
    lead = db.session.scalar(select(Lead))
    assert REFERENCE.match(lead.reference), lead.reference
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert lead.reference in receipt
    attachments = _stored(db, lead.id)
    assert [a.content_type for a in attachments] == ["image/jpeg", "image/jpeg"]
    for attachment in attachments:
        on_disk = (Path(app.config["UPLOAD_DIR"]) / attachment.stored_name).read_bytes()
        _assert_no_metadata(on_disk)
        served = client.get(f"/my/leads/{lead.id}/files/{attachment.id}")
        assert served.status_code == 200
        _assert_no_metadata(served.data)
        assert served.data == on_disk
    # The EXIF orientation was applied before it was removed: the 64x32 photo now stands upright.
    with Image.open(Path(app.config["UPLOAD_DIR"]) / attachments[0].stored_name) as first:
        assert first.size == (32, 64)


@pytest.mark.parametrize(("maker", "name", "content_type"), [
    (ff.png_with_metadata, "screen.png", "image/png"),
    (ff.webp_with_metadata, "photo.webp", "image/webp"),
    (ff.heic_with_metadata, "IMG_7.HEIC", "image/jpeg"),  # HEIC becomes JPEG so staff browsers can show it
])
def test_other_image_types_lose_their_metadata_too(app, client, db, family, maker, name, content_type):
    case = family[2]
    response = post_lead(client, case.id, open_lead_form(client, case.id), details="see file",
                         files=[ff.upload(maker(), name)])
    assert response.status_code == 302
    (attachment,) = _stored(db, db.session.scalar(select(Lead.id)))
    assert attachment.content_type == content_type
    _assert_no_metadata((Path(app.config["UPLOAD_DIR"]) / attachment.stored_name).read_bytes())


def test_video_keeps_its_pictures_but_loses_the_place_it_was_recorded(app, client, db, family):
    case = family[2]
    original = ff.mp4_with_location()
    response = post_lead(client, case.id, open_lead_form(client, case.id), details="video",
                         files=[ff.upload(original, "clip.mp4", "video/mp4")])
    assert response.status_code == 302
    (attachment,) = _stored(db, db.session.scalar(select(Lead.id)))
    stored = (Path(app.config["UPLOAD_DIR"]) / attachment.stored_name).read_bytes()
    assert attachment.content_type == "video/mp4"
    assert len(stored) == len(original) and stored.startswith(original[:24])
    assert b"+41.8683" not in stored and b"SecretCam" not in stored and b"udta" not in stored


def test_html_renamed_jpg_is_refused_with_a_clear_message_and_the_text_kept(app, client, db, family):
    case = family[2]
    before = _files_in(app)
    response = post_lead(client, case.id, open_lead_form(client, case.id),
                         details="My words must stay", **{"people-0-name": "Ghost"},
                         files=[ff.upload(ff.jpeg_with_metadata(), "good.jpg", "image/jpeg"),
                                ff.upload(ff.html_named_jpg(), "photo.jpg", "image/jpeg")])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "We cannot accept “photo.jpg”" in page
    assert "Send photos (JPEG, PNG, WebP, HEIC), PDF files or MP4 videos" in page
    assert "My words must stay" in page and 'value="Ghost"' in page
    assert "Please choose your files again" in page
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0
    assert _files_in(app) == before  # the good file written before the refusal was removed again


def test_a_30_mb_file_is_refused_and_the_typed_text_kept(app, client, db, family):
    case = family[2]
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (30 * 1024 * 1024)
    response = post_lead(client, case.id, open_lead_form(client, case.id), supplier="A man in a red car",
                         details="Everything I typed", files=[ff.upload(big, "huge.jpg", "image/jpeg")])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“huge.jpg” is too big (30 MB). Each file can be up to 25 MB." in page
    assert "A man in a red car" in page and "Everything I typed" in page
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_more_than_ten_files_are_refused(client, db, family):
    case = family[2]
    files = [ff.upload(ff.pdf_file(), f"doc{i}.pdf", "application/pdf") for i in range(11)]
    response = post_lead(client, case.id, open_lead_form(client, case.id), details="many", files=files)
    assert response.status_code == 422
    assert "You can add up to 10 files" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 0


def test_more_than_100_mb_in_total_is_refused(app, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 3000)
    from werkzeug.datastructures import FileStorage

    files = [FileStorage(io.BytesIO(b"%PDF-" + b"x" * 1000), filename=f"f{i}.pdf") for i in range(3)]
    with app.test_request_context(), pytest.raises(ServiceError, match="add up to 0 MB") as refused:
        uploads.store_files(files)
    assert refused.value.field == "files"


def test_pdf_is_served_only_as_a_download_that_is_never_sniffed(client, db, family):
    case = family[2]
    post_lead(client, case.id, open_lead_form(client, case.id), details="pdf",
              files=[ff.upload(ff.pdf_file(), "bank statement.pdf", "application/pdf")])
    lead = db.session.scalar(select(Lead))
    (attachment,) = _stored(db, lead.id)
    response = client.get(f"/my/leads/{lead.id}/files/{attachment.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/pdf"
    assert "no-store" in response.headers["Cache-Control"]


def test_files_are_stored_flat_under_random_names_outside_static(app, client, db, family):
    case = family[2]
    post_lead(client, case.id, open_lead_form(client, case.id), details="x",
              files=[ff.upload(ff.pdf_file(), "../../static/evil.pdf", "application/pdf")])
    (attachment,) = _stored(db, db.session.scalar(select(Lead.id)))
    path = Path(app.config["UPLOAD_DIR"]) / attachment.stored_name
    assert re.fullmatch(r"[0-9a-f]{40}", attachment.stored_name)
    assert path.is_file() and "static" not in str(path.resolve().relative_to(Path(app.config["UPLOAD_DIR"]).parent))
    assert attachment.original_name == "evil.pdf"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(ValueError):
        uploads.path_for("../config.py")


@pytest.mark.parametrize("maker", [ff.jpeg_with_metadata, ff.png_with_metadata, ff.webp_with_metadata,
                                   ff.heic_with_metadata])
def test_the_test_images_really_carry_the_metadata_that_must_be_removed(maker):
    from pillow_heif import register_heif_opener

    register_heif_opener()
    with Image.open(io.BytesIO(maker())) as image:
        exif = image.getexif()
        assert exif.get(0x010F) == ff.CAMERA and exif.get_ifd(ff.GPS_IFD)
    with pytest.raises(AssertionError):
        _assert_no_metadata(maker())


def test_when_the_requests_commit_fails_no_lead_and_no_stored_file_is_left(app, client, db, family):
    """The database goes away just as the request commits: the family gets the 'back soon' page, and the files the
    form had stored are removed (no lead owns them), so a resend starts clean."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    _user, _member, case = family
    form = open_lead_form(client, case.id)
    before = _files_in(app)

    def database_gone(session):
        from flask import has_request_context, request

        if session.in_nested_transaction():  # the lead's own savepoint: not the request's commit
            return
        if has_request_context() and request.method == "POST" and request.path.endswith("/leads/new"):
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    event.listen(Session, "before_commit", database_gone)
    try:
        response = post_lead(client, case.id, form, details="Ask Ghost.",
                             files=[ff.upload(ff.jpeg_with_metadata(), "IMG_0001.JPG", "image/jpeg")])
    finally:
        event.remove(Session, "before_commit", database_gone)
    assert response.status_code == 503
    assert _files_in(app) == before
    assert db.session.scalar(select(func.count(Lead.id))) == 0
    assert post_lead(client, case.id, form, details="Ask Ghost.").status_code == 302  # the resend is saved
    assert db.session.scalar(select(func.count(Lead.id))) == 1
