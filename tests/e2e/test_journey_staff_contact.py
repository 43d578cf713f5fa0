"""A liaison's day: sign in with an authenticator code, see who needs contact, log a call (the flag goes), move the
case to a new stage; the text goes out through Twilio (the fake, on 127.0.0.1, spoken to by the real SDK) and the
family member opens its link on her phone and reads the update."""
from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Notification, Outreach

from . import data, steps

FAMILY_PASSWORD = "the porch light stays on"
MESSAGE = "The lab results are back. Detectives now talk to the people Tyler was with that night. I will call you."


def test_liaison_logs_a_call_changes_the_stage_and_the_family_reads_the_texted_update(
        family_daytime, twilio, huey_immediate, page, open_phone):
    demo = data.load_demo()
    data.enrol_authenticator(demo.liaison)
    member = data.member_named("Dawn Brooks")  # Tyler Brooks's sister, who joined the portal earlier
    data.give_account(member, email="dawn.brooks@family.example", password=FAMILY_PASSWORD)
    case_id, member_id, phone = member.case_id, member.id, member.phone

    # Sign in with the password and the code from the authenticator app.
    steps.sign_in(page, demo.liaison, password=data.PASSWORD, check=True)
    expect(page.locator("h1")).to_have_text("Who needs contact")
    flags = page.locator(f"li.flag[data-case='{case_id}']")
    expect(flags).to_have_count(2)  # not contacted at her chosen pace, and not since the last stage change
    expect(flags.first).to_contain_text("OD-2026-0093: Tyler Brooks")
    expect(flags.first).to_contain_text("Dawn Brooks")
    steps.check_page(page, "who-needs-contact")

    # Log the call: the flag's button fills in the form, one tap on what happened saves it.
    flags.first.get_by_role("button", name="Log a contact").click()
    expect(page.locator("h1")).to_have_text("Log a contact")
    expect(page.get_by_role("radio", name="Dawn Brooks")).to_be_checked()
    expect(page.get_by_role("radio", name="Phone call")).to_be_checked()
    steps.check_page(page, "log-a-contact")
    page.get_by_role("button", name="Talked").click()
    expect(page.locator("h1")).to_have_text("Who needs contact")  # back where the liaison was
    expect(page.get_by_role("status")).to_have_text("Contact logged.")
    expect(flags).to_have_count(0)  # the flags are gone at once
    expect(page.locator("li.flag").first).to_be_visible()  # the other families still wait
    steps.check_page(page, "who-needs-contact-after-the-call")
    call = db.session.scalar(select(Outreach).where(Outreach.case_id == case_id, Outreach.staff_id.is_not(None))
                             .order_by(Outreach.id.desc()).limit(1))
    assert (call.family_member_id, call.staff_id, call.channel, call.direction, call.outcome) == \
        (member_id, demo.liaison.id, "phone", "outbound", "reached")

    # A new stage, with words for the family: previewed, then saved and sent.
    page.locator("main table").get_by_role("link", name="OD-2026-0093").click()
    expect(page.locator("h1")).to_have_text("OD-2026-0093: Tyler Brooks")
    steps.check_page(page, "staff-case")
    stage_form = page.locator("form[action$='/stage/preview']")
    stage_form.get_by_label("New stage").select_option("investigating")
    stage_form.get_by_label("Message for the family").fill(MESSAGE)
    stage_form.get_by_role("button", name="Preview").click()
    expect(page.locator("h1")).to_have_text("Check before sending")
    expect(page.locator("#preview-message")).to_have_text(MESSAGE)
    previewed = page.locator(f".sms-preview[data-member='{member_id}']").inner_text()
    assert not twilio.messages, "a preview sends nothing"
    steps.check_page(page, "stage-preview")
    page.get_by_role("button", name="Save and send").click()
    expect(page.get_by_role("status")).to_have_text(
        "The stage is changed. The family sees the update, and texts are on their way.")

    # The text went out through the Twilio API at once (the worker's job, run in this process).
    received = [m for m in twilio.messages if m.to == phone]
    assert len(received) == 1, [m.to for m in twilio.messages]
    text = received[0]
    assert text.body == previewed  # exactly what the preview showed
    assert "Tyler" not in text.body and "lab" not in text.body  # no case details without her opt-in
    db.session.expire_all()
    outbox = db.session.get(Notification, text.outbox_id)
    assert (outbox.recipient, outbox.kind, outbox.status, outbox.provider_sid) == \
        (phone, "stage_change", "sent", text.sid)
    row = page.locator("tr.outbox-row", has_text=text.body)
    expect(row).to_contain_text("Sent")
    steps.check_page(page, "staff-case-text-sent")

    # Twilio says it reached her phone; the case page says so too.
    assert twilio.send_status(text, "delivered").status_code < 300
    page.reload()
    expect(row).to_contain_text("Delivered")
    steps.check_page(page, "staff-case-text-delivered")

    # Dawn taps the link in the text on her phone, signs in and reads the update and the call.
    family = open_phone()
    family.goto(steps.link_in(text.body))
    expect(family.locator("#password")).to_be_visible()
    steps.check_page(family, "sign-in-from-the-text")
    family.locator("#email").fill("dawn.brooks@family.example")
    family.locator("#password").fill(FAMILY_PASSWORD)
    family.locator("main form:not(.language-form) button[type=submit]").click()
    expect(family.locator("h1")).to_have_text("The case about Tyler Brooks")
    expect(family.locator("#stage-heading")).to_contain_text("Detectives are looking into the case")
    expect(family.get_by_text(MESSAGE)).to_be_visible()
    contacts = family.locator(".contact-list li")
    expect(contacts.nth(0)).to_contain_text("Text message · Message sent")  # the text, logged by the portal
    expect(contacts.nth(1)).to_contain_text("Phone call · Talked")  # the call the liaison logged
    expect(contacts.nth(1)).to_contain_text("Officer Dana Rivera")
    steps.check_page(family, "family-case-after-the-update")
