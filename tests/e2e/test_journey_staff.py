"""A liaison at a desk: sign in, the case list, a case, a family member added and invited, who then joins."""
from __future__ import annotations

from playwright.sync_api import expect

from . import data, steps

NOTE = "Called the lab. They expect results in about four weeks."


def test_liaison_adds_and_invites_a_family_member_who_then_sees_the_update(page, phone_page):
    demo = data.load_demo()
    steps.sign_in(page, demo.liaison, password=data.PASSWORD)
    expect(page.locator("h1")).to_have_text("Cases")
    expect(page.get_by_role("row")).to_have_count(1 + data.visible_case_count(demo.liaison))  # header + cases
    steps.check_page(page, "staff-home", docs={1280: "staff-home-1280.png"})

    page.get_by_role("link", name="OD-2026-0093").click()
    expect(page.locator("h1")).to_have_text("OD-2026-0093: Tyler Brooks")
    steps.check_page(page, "staff-case")

    # A second relative, added from the case page.
    page.locator("summary", has_text="Add a family member").click()
    page.get_by_label("Name").fill("Robin Brooks")
    page.get_by_label("Relationship to the person who died").fill("Brother")
    page.get_by_label("Mobile phone").fill("312-555-0177")
    page.get_by_label("Email").fill("robin.brooks@family.example")
    page.locator("details form button[type=submit]").click()
    expect(page.get_by_role("status")).to_have_text("Robin Brooks was added. You can now send an invite.")
    steps.check_page(page, "staff-case-member-added")

    # An update for the family.
    page.get_by_label("Text").fill(NOTE)
    page.get_by_label("Who sees it").select_option("family")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Shown to the family.")
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
    steps.sign_in(page, demo.supervisor, password=data.PASSWORD)
    expect(page.get_by_role("row")).to_have_count(1 + 12)  # every demo case
    assert data.visible_case_count(demo.supervisor) == 12
    steps.check_page(page, "supervisor-home")
    page.get_by_role("link", name="OD-2026-0042").click()
    expect(page.locator("h1")).to_have_text("OD-2026-0042: Sofia Ramirez")
    expect(page.get_by_role("heading", name="Elena Ramirez")).to_be_visible()
    steps.check_page(page, "staff-case-two-relatives")
