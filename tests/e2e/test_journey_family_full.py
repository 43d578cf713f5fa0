"""The whole family journey on a phone: the texted invite, a password, the case, a lead with two photos, a booked
call, then Spanish chosen in Settings and every family page read in Spanish."""
from __future__ import annotations

import io
import re

from icalendar import Calendar
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Appointment, FamilyMember, Lead

from .. import family_files
from . import data, steps

PASSWORD = "the porch light stays on"
REFERENCE = re.compile(r"L-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{2}")
GPS_IFD = 0x8825


def _photos(folder) -> list:
    """Two small JPEGs, as a phone would send them: a photo that carries EXIF (camera, GPS) and a screenshot."""
    photo = folder / "IMG_0412.jpg"
    photo.write_bytes(family_files.jpeg_with_metadata((640, 480)))
    assert Image.open(photo).getexif().get(GPS_IFD), "the test photo must carry a GPS position to be removed"
    screenshot = folder / "Screenshot_messages.jpg"
    Image.new("RGB", (360, 640), (240, 240, 245)).save(screenshot, format="JPEG", quality=80)
    return [photo, screenshot]


def _download(page, link) -> bytes:
    """The file behind a link, fetched with the page's own cookies (as the browser would download it)."""
    response = page.request.get(link.get_attribute("href"))
    assert response.ok, f"{link.get_attribute('href')} answered {response.status}"
    return response.body()


def test_family_member_sends_a_lead_with_two_photos_books_a_call_and_reads_it_all_in_spanish(phone_page, tmp_path):
    page = phone_page
    demo = data.load_demo()
    member = data.member_named("Dawn Brooks")  # Tyler Brooks's sister; no account yet
    case_id, member_id = member.case_id, member.id
    data.invite(member, by=demo.liaison)

    # The texted link, a password, the case page.
    page.goto(steps.link_in(steps.latest_text_to(member.phone).body))
    expect(page.locator("h1")).to_have_text("Set up your account")
    steps.check_page(page, "invite")
    steps.accept_invite(page, page.url, email="dawn.brooks@family.example", password=PASSWORD)
    expect(page).to_have_url(f"{steps.base(page)}/my/cases/{case_id}")
    expect(page.locator("h1")).to_have_text("The case about Tyler Brooks")
    expect(page.locator("#stage-heading")).to_contain_text("Waiting for lab results")
    steps.check_page(page, "case")

    # A lead: one person, the suspected supplier, and two photos (one with a GPS position in its EXIF).
    page.locator("nav.actions").get_by_role("button", name="Share information").click()
    expect(page.locator("h1")).to_have_text("Share information")
    steps.check_page(page, "lead-form")
    page.locator("#people-0-name").fill("Ghost")
    page.locator("#supplier").fill("A man called Ghost, blue Honda, at the gas station on 5th.")
    page.locator("#files").set_input_files([str(p) for p in _photos(tmp_path)])
    page.get_by_role("button", name="Send to the team").click()
    expect(page.locator("h1")).to_have_text("Thank you. We got your information.")
    reference = page.locator(".reference").inner_text().strip()
    assert REFERENCE.fullmatch(reference), reference
    expect(page.locator("main")).to_contain_text("2 files were added.")
    steps.check_page(page, "lead-receipt")
    lead = db.session.scalar(select(Lead).where(Lead.reference == reference))
    assert (lead.case_id, lead.family_member_id, lead.supplier) == \
        (case_id, member_id, "A man called Ghost, blue Honda, at the gas station on 5th.")
    assert sorted(a.original_name for a in lead.attachments) == ["IMG_0412.jpg", "Screenshot_messages.jpg"]

    page.get_by_role("button", name="See this lead").click()
    expect(page.locator("h1")).to_have_text(f"Lead {reference}")
    files = page.locator("main a[download]")
    expect(files).to_have_count(2)
    steps.check_page(page, "lead")
    photo = _download(page, page.locator("main a[download]", has_text="IMG_0412.jpg"))
    cleaned = Image.open(io.BytesIO(photo))
    assert cleaned.format == "JPEG" and cleaned.size in ((640, 480), (480, 640))
    assert not cleaned.getexif().get(GPS_IFD) and family_files.CAMERA.encode() not in photo
    assert family_files.SECRET_COMMENT not in photo  # the hidden comment is gone too

    # A call with the liaison, in one of her open times.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Book a call").click()
    expect(page.locator("h1")).to_have_text("Book a call with your liaison")
    steps.check_page(page, "booking")
    page.locator("label.slot").first.click()
    page.get_by_role("button", name="Book this time").click()
    expect(page.locator("h1")).to_have_text("Your call")
    expect(page.get_by_role("status")).to_have_text("Your call is booked. We sent you a confirmation.")
    steps.check_page(page, "appointment")
    appointment = db.session.scalar(select(Appointment).where(Appointment.family_member_id == member_id))
    assert (appointment.status, appointment.liaison_id) == ("booked", demo.liaison.id)
    calendar = Calendar.from_ical(_download(page, page.get_by_role("button", name="Add to my calendar")))
    event = next(c for c in calendar.walk() if c.name == "VEVENT")
    assert event.decoded("dtstart") == appointment.starts_at

    # Spanish, chosen once in Settings: pages and texts follow.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(page.locator("h1")).to_have_text("Settings")
    steps.check_page(page, "settings")
    page.locator("input[name=language][value=es]").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    steps.check_page(page, "settings-es")
    db.session.expire_all()
    assert db.session.get(FamilyMember, member_id).language == "es"  # the next texts are in Spanish too

    nav = page.get_by_role("navigation", name=steps.es("Main"))
    nav.get_by_role("link", name="Mi caso").click()
    expect(page.locator("h1")).to_have_text("El caso de Tyler Brooks")
    expect(page.locator("#stage-heading")).to_contain_text("Dónde está el caso ahora")
    expect(page.get_by_role("heading", name="Novedades")).to_be_visible()
    expect(page.locator("a[href='tel:+13125550101']")).to_have_text("Llamar al (312) 555-0101")
    expect(page.locator("#calls-heading")).to_have_text(steps.es("Your calls"))
    steps.check_page(page, "case-es")

    spanish_pages = [  # (link in the menu, the page's heading in the catalog, name of the check)
        ("Share information", steps.es("Your leads"), "leads-es"),
        ("Book a call", steps.es("Book a call with your liaison"), "booking-es"),
        ("Messages", steps.es("Messages with your liaison team"), "messages-es"),
        ("Support", None, "support-es"),
    ]
    for link, heading, name in spanish_pages:
        nav.get_by_role("link", name=steps.es(link), exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "es")
        if heading:
            expect(page.locator("h1")).to_have_text(heading)
        steps.check_page(page, name)

    page.goto(f"/my/leads/{lead.id}")
    expect(page.locator("h1")).to_have_text(steps.es("Lead %(ref)s", ref=reference))
    steps.check_page(page, "lead-es")
    page.goto(f"/my/appointments/{appointment.id}")
    expect(page.locator("h1")).to_have_text(steps.es("Your call"))
    steps.check_page(page, "appointment-es")
