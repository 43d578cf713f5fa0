"""A family member on a phone: the texted invite link, a password, the case page, then Spanish."""
from __future__ import annotations

from playwright.sync_api import expect

from portal.models.stages import stage_info

from . import data, steps

NEW_PASSWORD = "our garden in the spring"


def test_family_member_joins_from_the_texted_link_and_reads_the_case_in_spanish(phone_page, app):
    page = phone_page
    demo = data.load_demo()
    member = data.member_named("Dawn Brooks")  # Tyler Brooks's sister; no account yet
    case = member.case
    data.add_dated_update(case, author=demo.liaison)
    data.invite(member, by=demo.liaison)
    text = steps.latest_text_to(member.phone)
    assert text.language == "en"

    # The invite page, then a typo in the second password: the error is said next to the field.
    page.goto(steps.link_in(text.body))
    expect(page.locator("h1")).to_have_text("Set up your account")
    steps.check_page(page, "invite")
    page.locator("#email").fill("dawn.brooks@family.example")
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("#confirm").fill(NEW_PASSWORD + "s")
    page.locator("main form:not(.language-form) button[type=submit]").click()
    expect(page.locator("#confirm")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#confirm-error")).to_have_text("The two passwords are not the same.")
    expect(page.locator("#email")).to_have_value("dawn.brooks@family.example")  # what was typed is kept
    steps.check_page(page, "invite-with-an-error")

    steps.accept_invite(page, page.url, email="dawn.brooks@family.example", password=NEW_PASSWORD)
    expect(page).to_have_url(f"{steps.base(page)}/my/cases/{case.id}")
    expect(page.get_by_role("status")).to_have_text("Welcome. Your account is ready.")
    with app.test_request_context():
        stage = stage_info(case.stage)
        explanation, wait = str(stage.explanation), str(stage.typical_wait)
    expect(page.locator("h1")).to_have_text("The case about Tyler Brooks")
    expect(page.locator(".stage-card")).to_contain_text(explanation)
    expect(page.locator(".stage-card")).to_contain_text(wait)
    expect(page.get_by_text(data.UPDATE_BODY)).to_be_visible()
    expect(page.get_by_text("Nov 26, 2026, 3:30 PM")).to_be_visible()  # Chicago time, English style
    expect(page.locator("a[href='tel:+13125550101']")).to_have_text("Call (312) 555-0101")
    steps.check_page(page, "family-case", docs={375: "family-case-375.png"})
    steps.check_skip_link(page)

    steps.switch_language(page, "es")
    expect(page.locator("h1")).to_have_text("El caso de Tyler Brooks")
    expect(page.locator(".stage-card h2")).to_contain_text("Dónde está el caso ahora")
    expect(page.get_by_text("26 nov 2026, 15:30")).to_be_visible()  # the same moment, Spanish style
    expect(page.get_by_role("heading", name="Novedades")).to_be_visible()
    expect(page.locator("a[href='tel:+13125550101']")).to_have_text("Llamar al (312) 555-0101")
    expect(page.locator("#contacts-heading")).to_have_text(steps.es("Every time we were in touch"))
    steps.check_page(page, "family-case-es")

    # Spanish is remembered: after signing out and in again, the case is still in Spanish.
    steps.sign_out(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")  # signed out: the browser's language
    steps.check_page(page, "signed-out")
    user = member.user
    steps.sign_in(page, user, password=NEW_PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("El caso de Tyler Brooks")
    steps.check_page(page, "family-case-es-next-visit")


def test_spanish_speaking_family_gets_a_spanish_text_and_spanish_pages(open_phone):
    demo = data.load_demo()
    member = data.member_named("Carlos Morales")  # Ana Morales's father; Spanish, no account yet
    data.invite(member, by=demo.liaison)
    text = steps.latest_text_to(member.phone)
    assert text.language == "es"
    assert "le invitó" in text.body and "3 días" in text.body

    page = open_phone(locale="es-MX")  # a phone set to Spanish
    page.goto(steps.link_in(text.body))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Cree su cuenta")
    steps.check_page(page, "invite-es")
    steps.accept_invite(page, page.url, email="carlos.morales@family.example", password=NEW_PASSWORD)
    expect(page.get_by_role("status")).to_have_text("Le damos la bienvenida. Su cuenta está lista.")
    expect(page.locator("h1")).to_have_text("El caso de Ana Morales")
    expect(page.locator(".stage-card h2")).to_contain_text("Esperando los resultados del laboratorio")
    steps.check_page(page, "family-case-es")
