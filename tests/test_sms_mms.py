"""Pictures by text (MMS), on the real Twilio SDK and the fake Twilio: fetched only from Twilio's API host, without
credentials past its redirect, cleaned like uploads, Twilio's copy deleted, then a lead (a number on one case) or
held in the unmatched inbox until staff link the text."""
from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
import requests
from PIL import Image
from sqlalchemy import func, select, update
from twilio.request_validator import RequestValidator

from portal import uploads
from portal.models import FamilyMember, InboundSms, InboundSmsMedia, Lead, LeadAttachment, Notification, utcnow
from portal.providers.sms import MediaRefused
from portal.tasks import media as media_job

from . import exiftool_files as ef
from . import factories
from .conftest import post_form, sign_in
from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

PHONE = "+13125550177"


@pytest.fixture
def inline(app, monkeypatch):
    """Texts are delivered, and pictures fetched, right after the transaction that recorded them commits."""
    monkeypatch.setitem(app.config, "SMS_DELIVERY", "inline")


@pytest.fixture
def mms(twilio, live_portal, inline, daytime):
    """mms(files, from_=PHONE, body=..., **kw) texts pictures to the portal through the fake Twilio."""

    def send(files, *, from_=PHONE, body="Screenshots of the dealer's messages", **kwargs):
        record, response = twilio.send_text(f"{live_portal}/webhooks/twilio/sms", from_=from_, body=body,
                                            files=files, **kwargs)
        return record, response

    return send


def _jpeg(tmp_path) -> bytes:
    return ef.tagged_file("jpeg", tmp_path)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _files_on_disk(app) -> set[str]:
    return set(os.listdir(app.config["UPLOAD_DIR"]))


def _media_rows(db) -> list[InboundSmsMedia]:
    db.session.expire_all()
    return list(db.session.scalars(select(InboundSmsMedia).order_by(InboundSmsMedia.id)))


def _member(**fields) -> FamilyMember:
    return factories.make_family_member(case=factories.make_case(), phone=PHONE, **fields)


def _texts_to(twilio, number: str) -> list[str]:
    return [m.body for m in twilio.messages if m.to == number and m.direction != "inbound"]


# --- Done when ----------------------------------------------------------------------------------------------------

def test_a_gps_tagged_jpeg_texted_by_a_member_becomes_a_lead_whose_stored_image_has_no_exif(
        app, db, mms, twilio, tmp_path):
    member = _member()
    tagged = _jpeg(tmp_path)
    assert ef.personal(ef.read_tags(tagged, tmp_path, "sent.jpg")), "the fixture must carry GPS and device tags"

    record, response = mms([("image/jpeg", tagged)])

    assert response.status_code == 200
    lead = db.session.scalar(select(Lead))
    assert (lead.case_id, lead.family_member_id, lead.source) == (member.case_id, member.id, "text")
    assert lead.details == "Screenshots of the dealer's messages"
    (attachment,) = lead.attachments
    assert attachment.content_type == "image/jpeg"
    stored = uploads.path_for(attachment.stored_name).read_bytes()
    assert stored != tagged
    assert ef.personal(ef.read_tags(stored, tmp_path, "stored.jpg")) == []
    assert not [key for key in ef.read_tags(stored, tmp_path, "stored2.jpg") if key.startswith(("EXIF", "GPS", "XMP"))]
    # The text joins the conversation too, and the picture's row points at the lead's file.
    assert db.session.get(InboundSms, 1).handling == "conversation"
    (row,) = _media_rows(db)
    assert (row.status, row.lead_attachment_id, row.provider_deleted_at is not None) == ("stored", attachment.id,
                                                                                         True)
    # Twilio keeps no copy, and the member got a receipt in their language with no case detail.
    assert twilio.find(record.sid).media == {}
    (receipt,) = _texts_to(twilio, PHONE)
    assert "We received your picture" in receipt and lead.reference not in receipt


def test_the_same_post_with_a_bad_signature_stores_nothing(app, db, mms, twilio, tmp_path):
    _member()
    before = _files_on_disk(app)

    _record, response = mms([("image/jpeg", _jpeg(tmp_path))], token="not-the-auth-token")

    assert response.status_code == 403
    assert [_count(db, model) for model in (InboundSms, InboundSmsMedia, Lead, LeadAttachment, Notification)] == \
        [0, 0, 0, 0, 0]
    assert _files_on_disk(app) == before
    assert not [seen for seen in twilio.seen if seen.method == "GET"]  # nothing was fetched


# --- Where pictures may come from ---------------------------------------------------------------------------------

def test_a_media_url_on_another_host_is_never_fetched(app, db, mms, twilio):
    member = _member()
    with FakeTwilio() as foreign:
        _record, response = mms([("image/png", _png())], media_base=foreign.url)
        assert response.status_code == 200
        assert foreign.seen == []
    (row,) = _media_rows(db)
    assert (row.status, row.error) == ("rejected", "host")
    assert not [seen for seen in twilio.seen if seen.method in ("GET", "DELETE")]
    assert _count(db, Lead) == 0 and _texts_to(twilio, member.phone) == []


@pytest.mark.parametrize("url", [
    "https://evil.example/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1",
    "https://api.twilio.com.evil.example/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1",
    "http://api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1",
    "https://user:secret@api.twilio.com/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1",
    "ftp://api.twilio.com/ME1",
    "not a url",
])
def test_the_client_refuses_any_media_url_off_twilios_api_host_before_any_request(app, twilio, url):
    with pytest.raises(MediaRefused) as refused:
        app.extensions["sms_client"].fetch_media(url, max_bytes=1000)
    assert refused.value.code == "host" and not refused.value.retryable


def test_the_fake_under_another_host_name_is_refused_without_a_request(app, twilio):
    other_name = twilio.url.replace("127.0.0.1", "localhost") + "/2010-04-01/Accounts/AC1/Messages/SM1/Media/ME1"
    with pytest.raises(MediaRefused):
        app.extensions["sms_client"].fetch_media(other_name, max_bytes=1000)
    assert twilio.seen == []


def test_credentials_go_to_twilios_api_host_only_never_past_its_redirect(app, db, mms, twilio):
    _member()
    mms([("image/png", _png())])
    gets = [seen for seen in twilio.seen if seen.method == "GET"]
    assert [(seen.path.startswith("/2010-04-01/"), seen.host.startswith("127.0.0.1")) for seen in gets] == \
        [(True, True), (False, False)]
    api, cdn = gets
    assert api.authorization and api.authorization.startswith("Basic ")
    assert cdn.path.startswith("/cdn/") and cdn.host.startswith("localhost") and cdn.authorization is None
    assert _media_rows(db)[0].status == "stored"


def test_a_redirect_to_a_scheme_other_than_https_is_not_followed(app, db, mms, twilio):
    _member()
    twilio.media_redirect = "ftp://cdn.example/file"
    mms([("image/png", _png())])
    (row,) = _media_rows(db)
    assert (row.status, row.error, row.stored_name) == ("rejected", "redirect", None)
    assert _count(db, Lead) == 0


def test_a_picture_over_the_size_cap_is_refused_while_reading(app, db, mms, twilio, monkeypatch):
    _member()
    monkeypatch.setitem(app.config, "MMS_MAX_BYTES", 100)
    mms([("image/png", _png() + b"\0" * 500)])
    (row,) = _media_rows(db)
    assert (row.status, row.error) == ("rejected", "too_big")


# --- What is kept -------------------------------------------------------------------------------------------------

def test_a_file_that_is_not_a_picture_is_rejected_whatever_type_it_claims(app, db, mms, twilio):
    member = _member()
    before = _files_on_disk(app)
    record, _response = mms([("image/jpeg", b"%PDF-1.4 not a picture at all"), ("text/plain", b"hello")])
    rows = _media_rows(db)
    assert [(row.status, row.error) for row in rows] == [("rejected", "not_accepted")] * 2
    assert _files_on_disk(app) == before
    assert _count(db, Lead) == 0 and _texts_to(twilio, member.phone) == []
    assert twilio.find(record.sid).media == {}  # refused, and still not left at Twilio


def test_a_fetch_that_fails_is_retried_by_the_sweep_then_twilios_copy_is_deleted(app, db, mms, twilio):
    member = _member()
    twilio.fail(status=503, times=1)
    record, _response = mms([("image/png", _png())])
    (row,) = _media_rows(db)
    assert (row.status, row.attempts, row.error) == ("failed", 1, "503")
    assert row.next_attempt_at is not None and _count(db, Lead) == 0
    assert len(twilio.find(record.sid).media) == 1

    media_job.process()  # the sweep: not due yet, nothing happens
    assert _media_rows(db)[0].status == "failed"
    db.session.execute(update(InboundSmsMedia).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    result = media_job.process()

    assert (result.stored, result.leads) == (1, 1)
    assert _media_rows(db)[0].status == "stored"
    assert twilio.find(record.sid).media == {}
    assert db.session.scalar(select(Lead.family_member_id)) == member.id
    assert media_job.process().stored == 0  # nothing twice


def test_pictures_are_fetched_by_the_worker_task_in_worker_mode(app, db, twilio, live_portal, daytime,
                                                                huey_immediate):
    member = _member()
    record, _response = twilio.send_text(f"{live_portal}/webhooks/twilio/sms", from_=PHONE, body="",
                                         files=[("image/png", _png()), ("image/png", _png())])
    lead = db.session.scalar(select(Lead))
    assert lead is not None and len(lead.attachments) == 2 and lead.family_member_id == member.id
    assert twilio.find(record.sid).media == {}


def test_the_receipt_names_the_report_for_a_member_with_detailed_texts_in_spanish(app, db, mms, twilio):
    _member(language="es", detailed_texts=True)
    mms([("image/png", _png()), ("image/png", _png())])
    reference = db.session.scalar(select(Lead.reference))
    (receipt,) = _texts_to(twilio, PHONE)
    assert "Recibimos sus 2 fotos" in receipt and reference in receipt


# --- Held for staff -----------------------------------------------------------------------------------------------

def _staff_client(app):
    staff_client = app.test_client()
    user = factories.make_user(role="supervisor")
    sign_in(staff_client, user)
    return staff_client


def test_pictures_from_an_unknown_number_are_held_in_the_inbox_and_become_a_lead_when_staff_link_them(
        app, db, mms, twilio):
    record, _response = mms([("image/png", _png())], from_="+13125550999", body="I knew him")
    inbound = db.session.scalar(select(InboundSms))
    (row,) = _media_rows(db)
    assert (inbound.handling, row.status, row.lead_attachment_id) == ("unmatched", "stored", None)
    assert twilio.find(record.sid).media == {}  # stored here, so deleted there
    assert _count(db, Lead) == 0

    staff = _staff_client(app)
    page = staff.get("/staff/texts/unmatched").get_data(as_text=True)
    assert f"/staff/texts/pictures/{row.id}" in page
    picture = staff.get(f"/staff/texts/pictures/{row.id}")
    assert picture.status_code == 200 and picture.data == uploads.path_for(row.stored_name).read_bytes()
    assert picture.headers["X-Content-Type-Options"] == "nosniff"

    member = _member()
    response = post_form(staff, f"/staff/texts/unmatched/{inbound.id}/link",
                         {f"text{inbound.id}-member_id": str(member.id)}, token_page="/staff/texts/unmatched")
    assert response.status_code == 302
    lead = db.session.scalar(select(Lead))
    assert (lead.family_member_id, lead.source, lead.details) == (member.id, "text", "I knew him")
    assert [a.stored_name for a in lead.attachments] == [row.stored_name]
    (receipt,) = _texts_to(twilio, PHONE)
    assert "We received your picture" in receipt
    lead_page = staff.get(f"/staff/leads/{lead.id}").get_data(as_text=True)
    assert "Sent by text message (MMS)" in lead_page and "I knew him" in lead_page


def test_pictures_from_a_number_on_two_cases_wait_in_the_inbox(app, db, mms, twilio):
    _member()
    _member()  # the same phone on a second case
    mms([("image/png", _png())])
    inbound = db.session.scalar(select(InboundSms))
    assert (inbound.handling, inbound.family_member_id) == ("unmatched", None)
    assert _media_rows(db)[0].is_held and _count(db, Lead) == 0
    receipt = _texts_to(twilio, PHONE)  # one receipt that names no case and no person
    assert len(receipt) == 1
    assert receipt[0].endswith("we received your text. Someone from our team will read it and get back to you.")


def test_a_held_picture_is_for_staff_only(app, db, mms, client):
    mms([("image/png", _png())], from_="+13125550998")
    (row,) = _media_rows(db)
    assert client.get(f"/staff/texts/pictures/{row.id}").status_code in (302, 404)  # signed out: sign in first
    family_user, _member_row, _case = factories.make_family()
    sign_in(client, family_user)
    assert client.get(f"/staff/texts/pictures/{row.id}").status_code in (302, 404)
    staff = _staff_client(app)
    assert staff.get(f"/staff/texts/pictures/{row.id + 1}").status_code == 404


def test_logs_name_no_phone_number_body_or_media_url(app, db, mms, twilio, caplog):
    _member()
    caplog.set_level("DEBUG")
    record, _response = mms([("image/png", _png())], body="the dealer is called Sam")
    text = caplog.text
    assert PHONE not in text and "dealer" not in text and record.sid not in text and ACCOUNT_SID not in text
    assert "media fetched" in text  # the job did log, without the message's or the picture's sid
    for media_sid in (row.media_sid for row in _media_rows(db)):
        assert media_sid and media_sid not in text


@pytest.mark.parametrize("purged", [{"retention_file_days": 0}, {"retention_text_days": 0},
                                    {"retention_file_days": 0, "retention_text_days": 0}])
def test_retention_purges_a_texted_pictures_files_and_rows_with_its_case(app, db, mms, twilio, purged):
    from portal.services import retention
    from portal.services.agency import get_agency

    member = _member()
    mms([("image/png", _png())])
    (row,) = _media_rows(db)
    files = [uploads.path_for(row.stored_name), uploads.path_for(row.original_stored_name)]
    case = db.session.get(FamilyMember, member.id).case
    case.stage, case.closed_at = "closed", utcnow() - timedelta(days=30)
    db.session.execute(update(InboundSms).values(provider_redacted_at=utcnow()))
    agency = get_agency()
    for setting in retention.PERIODS.values():
        setattr(agency, setting, None)
    for setting, value in purged.items():
        setattr(agency, setting, value)
    db.session.commit()

    assert retention.purge_case(case.id) is not None
    db.session.commit()  # on PostgreSQL a picture row left pointing at a purged file or text fails here

    assert _count(db, InboundSmsMedia) == 0
    assert [path.exists() for path in files] == ([False, False] if "retention_file_days" in purged else [True, True])


def test_a_text_with_a_picture_and_a_file_we_refuse_makes_a_lead_of_the_picture_alone(app, db, mms, twilio):
    member = _member()
    record, _response = mms([("text/vcard", b"BEGIN:VCARD\nEND:VCARD\n"), ("image/png", _png())])
    assert [(row.position, row.status) for row in _media_rows(db)] == [(0, "rejected"), (1, "stored")]
    lead = db.session.scalar(select(Lead))
    assert lead.family_member_id == member.id and len(lead.attachments) == 1
    assert twilio.find(record.sid).media == {}
    (receipt,) = _texts_to(twilio, PHONE)
    assert "We received your picture." in receipt


def test_the_same_mms_delivered_twice_is_recorded_and_fetched_once(app, db, twilio, live_portal, inline, daytime):
    _member()
    record, _response = twilio.send_text(f"{live_portal}/webhooks/twilio/sms", from_=PHONE, body="",
                                         files=[("image/png", _png())])
    (media_sid,) = [row.media_sid for row in _media_rows(db)]
    params = {"MessageSid": record.sid, "From": PHONE, "To": record.to, "Body": "", "NumMedia": "1",
              "MediaUrl0": twilio.media_url(record.sid, media_sid), "MediaContentType0": "image/png"}
    url = f"{live_portal}/webhooks/twilio/sms"
    again = requests.post(url, data=params, timeout=10,
                          headers={"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, params)})
    assert again.status_code == 200
    assert _count(db, InboundSmsMedia) == 1 and _count(db, Lead) == 1
    assert len([seen for seen in twilio.seen if seen.method == "GET" and "/Media/" in seen.path]) == 1


def test_a_redirect_loop_is_given_up_after_a_few_hops(app, db, mms, twilio):
    _member()
    twilio.media_redirect = "self"  # Twilio's API path answers with a redirect to itself
    mms([("image/png", _png())])
    (row,) = _media_rows(db)
    assert (row.status, row.error) == ("rejected", "redirect")
    assert len([seen for seen in twilio.seen if seen.method == "GET"]) == 4  # the first request and 3 redirects
