"""A liaison at a desk: a first sign-in (the authenticator set up), who needs contact, the case list, a case, a family
member added and invited, who then joins; a supervisor signs in with a code and sees every case."""
from __future__ import annotations

from playwright.sync_api import expect

from . import data, steps

NOTE = "Called the lab. They expect results in about four weeks."


def test_liaison_adds_and_invites_a_family_member_who_then_sees_the_update(page, phone_page):
    demo = data.load_demo()
    # A first sign-in: the liaison sets up an authenticator app from the key on the page, then sees who needs contact.
    steps.sign_in(page, demo.liaison, password=data.PASSWORD, check=True)
    expect(page.locator("h1")).to_have_text("Who needs contact")
    expect(page.locator("li.flag", has_text="OD-2026-0093: Tyler Brooks").first).to_be_visible()
    steps.check_page(page, "staff-home", docs={1280: "staff-home-1280.png"}, docs_height=1100)

    page.locator("main").get_by_role("link", name="All cases").click()
    expect(page.locator("h1")).to_have_text("Cases")
    open_cases = data.visible_case_count(demo.liaison, open_only=True)
    expect(page.get_by_role("row")).to_have_count(1 + open_cases)  # header + the open cases of the caseload
    steps.check_page(page, "staff-case-list")

    page.get_by_role("link", name="OD-2026-0093").click()
    expect(page.locator("h1")).to_have_text("OD-2026-0093: Tyler Brooks")
    steps.check_page(page, "staff-case")

    # A second relative, added from the case page.
    page.locator("summary", has_text="Add a family member").click()
    member_form = page.locator("form[action$='/members']")
    member_form.get_by_label("Name").fill("Robin Brooks")
    member_form.get_by_label("Relationship to the person who died").fill("Brother")
    member_form.get_by_label("Mobile phone").fill("312-555-0177")
    member_form.get_by_label("Email").fill("robin.brooks@family.example")
    member_form.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Robin Brooks was added. You can now send an invite.")
    steps.check_page(page, "staff-case-member-added")

    # An update for the family.
    update_form = page.locator("form[action$='/updates']")
    update_form.get_by_label("Text").fill(NOTE)
    update_form.get_by_label("Who sees it").select_option("family")
    update_form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Shown to the family, and texted to those who get texts.")
    expect(page.locator("article.family-visible", has_text=NOTE)).to_be_visible()
    steps.check_page(page, "staff-case-update-saved")

    page.locator("article", has_text="Robin Brooks").get_by_role("button", name="Send an invite link").click()
    expect(page.locator("h1")).to_have_text("Invite link for Robin Brooks")
    expect(page.get_by_text("The link was texted to +13125550177.")).to_be_visible()
    steps.check_page(page, "invite-sent")

    # Robin opens the texted link on a phone, sets a password and sees the liaison's update.
    text = steps.latest_text_to("+13125550177")
    steps.accept_invite(phone_page, steps.link_in(text.body), email="robin.brooks@family.example")
    expect(phone_page.locator("h1")).to_have_text("The case about Tyler Brooks")
    expect(phone_page.get_by_text(NOTE)).to_be_visible()
    steps.check_page(phone_page, "family-case-after-invite")


def test_supervisor_sees_every_case_and_opens_one(page):
    demo = data.load_demo()
    data.enrol_authenticator(demo.supervisor)  # signed in before: the app already shows this portal's codes
    steps.sign_in(page, demo.supervisor, password=data.PASSWORD, check=True)
    expect(page.locator("h1")).to_have_text("Who needs contact")
    expect(page.get_by_label("Show the caseload of")).to_be_visible()  # a supervisor can pick any liaison
    steps.check_page(page, "supervisor-home")

    page.locator("main").get_by_role("link", name="All cases").click()
    page.get_by_role("navigation", name="Which cases").get_by_role("link", name="All cases", exact=True).click()
    expect(page.locator("main p.muted")).to_have_text("12 cases.")
    expect(page.get_by_role("row")).to_have_count(1 + 12)  # every demo case, the closed one too
    assert data.visible_case_count(demo.supervisor) == 12
    steps.check_page(page, "supervisor-every-case")
    page.get_by_role("link", name="OD-2026-0042").click()
    expect(page.locator("h1")).to_have_text("OD-2026-0042: Sofia Ramirez")
    expect(page.get_by_role("heading", name="Elena Ramirez")).to_be_visible()
    steps.check_page(page, "staff-case-two-relatives")
