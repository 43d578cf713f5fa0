"""An anonymous tipster: the family makes a tip link and shares it; a friend, in a browser that never signed in,
leaves a tip with a photo, keeps a tip code and a passphrase, checks back, and answers the liaison's question."""
from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, Lead, LeadQuestion

from .. import family_files
from . import data, steps

SUPPLIER = "Everyone calls him Ghost. Grey Honda Civic, hangs out behind the laundromat on 5th."
QUESTION = "Do you know Ghost's phone number, or the name he uses on Snapchat?"
ANSWER = "His Snapchat is ghost_312_plug. He changes phones a lot."
GPS_IFD = 0x8825


def test_anonymous_friend_leaves_a_tip_through_the_familys_link_and_answers_the_liaisons_question(
        phone_page, open_phone, page, tmp_path):
    demo = data.load_demo()  # Maria Ellis, mother of Jordan Ellis, has an account; Officer Rivera is the liaison
    data.enrol_authenticator(demo.liaison)

    # The family makes a tip link and copies it to share in a private message.
    family = phone_page
    family.context.grant_permissions(["clipboard-read", "clipboard-write"])
    steps.sign_in(family, demo.family, password=data.PASSWORD)
    expect(family.locator("h1")).to_have_text("The case about Jordan Ellis")
    steps.check_page(family, "family-case")
    family.get_by_role("navigation", name="Main").get_by_role("link", name="Share information").click()
    expect(family.locator("h1")).to_have_text("Your leads")
    steps.check_page(family, "family-leads")
    family.get_by_role("link", name="Make a tip link").click()
    expect(family.locator("h1")).to_have_text("Tip links")
    steps.check_page(family, "tip-links")
    family.get_by_role("button", name="Make a new tip link").click()
    expect(family.locator("#new-link-heading")).to_have_text("Your new link")
    copy = family.locator("button[data-copy-target='tip-link-value']")
    expect(copy).to_have_text("Copy the link")
    copy.click()
    expect(copy).to_have_text("Copied")
    link = family.evaluate("() => navigator.clipboard.readText()")
    assert link == family.locator("#tip-link-value").inner_text().strip()
    assert link.startswith(f"{steps.base(family)}/t/")
    steps.check_page(family, "tip-link-made")

    # A friend opens the shared link in a browser that never signed in, and sends a tip with a photo.
    tipster = open_phone()
    tipster.goto(link)
    expect(tipster.locator("h1")).to_have_text("Leave a tip about the death of Jordan Ellis")
    steps.check_page(tipster, "tip-form")
    tipster.locator("#supplier").fill(SUPPLIER)
    photo = tmp_path / "IMG_2291.jpg"
    photo.write_bytes(family_files.jpeg_with_metadata((480, 640)))
    tipster.locator("#files").set_input_files(str(photo))
    tipster.get_by_role("button", name="Send the tip").click()
    expect(tipster.locator("h1")).to_have_text("Thank you. Your tip was sent.")
    code = tipster.locator("#tip-code").inner_text().strip()
    passphrase = tipster.locator("#tip-passphrase").inner_text().strip()
    assert re.fullmatch(r"T-[0-9A-Z]{4}-[0-9A-Z]{4}", code), code
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", passphrase), passphrase
    steps.check_page(tipster, "tip-receipt")
    assert tipster.context.cookies() == []  # nothing that could recognise this browser again

    lead = db.session.scalar(select(Lead).where(Lead.tip_code == code))
    assert lead.is_anonymous and lead.supplier == SUPPLIER and len(lead.attachments) == 1
    assert (lead.family_member_id, lead.submitted_by_id) == (None, None)
    assert lead.attachments[0].original_name == "file-1.jpg"  # the phone's file name could say whose it is
    lead_id = lead.id

    tipster.get_by_role("button", name="Check my tip").click()
    expect(tipster.locator("h1")).to_have_text("Check my tip")
    steps.check_page(tipster, "tip-lookup")
    _open_tip(tipster, code, passphrase)
    expect(tipster.locator("main")).to_contain_text("No questions yet. Check again in a few days.")
    steps.check_page(tipster, "tip-status")

    # The liaison finds the tip in the lead queue, downloads the cleaned photo and asks a question.
    steps.sign_in(page, demo.liaison, password=data.PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leads").click()
    expect(page.locator("h1")).to_have_text("Leads")
    row = page.locator("tr", has_text="Anonymous tipster")
    expect(row).to_have_count(1)
    steps.check_page(page, "staff-lead-queue")
    row.get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("From: Anonymous tipster")
    expect(page.locator(".submitted-text", has_text=SUPPLIER)).to_be_visible()
    steps.check_page(page, "staff-lead")
    download = page.request.get(page.locator("main a[download]", has_text="file-1.jpg").get_attribute("href"))
    assert download.ok and not Image.open(io.BytesIO(download.body())).getexif().get(GPS_IFD)
    page.get_by_label("Question for the person who sent this").fill(QUESTION)
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Question sent. The answer will show here.")
    steps.check_page(page, "staff-lead-question-asked")

    # Days later the friend checks back with the two codes and answers.
    tipster.goto("/tip")
    _open_tip(tipster, code, passphrase)
    question = tipster.locator("article", has_text=QUESTION)
    expect(question).to_be_visible()
    steps.check_page(tipster, "tip-status-with-a-question")
    question.get_by_label("Your answer").fill(ANSWER)
    question.get_by_role("button", name="Send answer").click()
    expect(tipster.get_by_role("status")).to_have_text("Thank you. Your answer was sent.")
    expect(tipster.locator("article", has_text=QUESTION)).to_contain_text(ANSWER)
    steps.check_page(tipster, "tip-answered")
    assert tipster.context.cookies() == []

    # The liaison sees the answer on the lead.
    page.reload()
    expect(page.locator("article", has_text=QUESTION)).to_contain_text("They answered")
    expect(page.locator("article", has_text=QUESTION)).to_contain_text(ANSWER)
    steps.check_page(page, "staff-lead-answered")

    # Nothing recorded about the tipster holds an address.
    anonymous = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("lead.submit", "tip.lookup", "lead_question.answer")))).all()
    assert {e.action for e in anonymous} == {"lead.submit", "tip.lookup", "lead_question.answer"}
    assert all(e.ip is None and e.actor_id is None for e in anonymous), [(e.action, e.ip) for e in anonymous]
    answered = db.session.scalar(select(LeadQuestion).where(LeadQuestion.lead_id == lead_id))
    assert (answered.question, answered.answer) == (QUESTION, ANSWER)


def _open_tip(tipster, code: str, passphrase: str) -> None:
    """Type the tip code and passphrase on the check page and open the tip."""
    tipster.get_by_label("Tip code").fill(code)
    tipster.get_by_label("Passphrase").fill(passphrase)
    tipster.get_by_role("button", name="Check", exact=True).click()
    expect(tipster.locator("h1")).to_have_text(f"Your tip {code}")
