"""Passkeys in a real browser: chromium's virtual authenticator (DevTools WebAuthn domain) stands in for a
security key. A liaison adds a passkey from the account page, renames it, and signs in with it; with passkeys
required, a new staff member adds one at the first sign-in and sees recovery codes; a browser without WebAuthn
is told so. axe checks every new page.

WebAuthn refuses an IP address as the relying party, so these pages are opened as http://localhost:<port> (the
same server), and PUBLIC_BASE_URL, from which the RP ID and origin come, says so too.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import Passkey
from portal.services.agency import get_agency

from .. import factories
from . import steps


@pytest.fixture
def localhost(app, live_server):
    """The live server's address with the host name localhost, set as PUBLIC_BASE_URL for the test."""
    url = f"http://localhost:{urlsplit(live_server).port}"
    previous = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = url
    yield url
    app.config["PUBLIC_BASE_URL"] = previous


@pytest.fixture
def browser_context_args(browser_context_args, localhost):
    """Relative addresses (page.goto("/login")) go to localhost in these tests."""
    return {**browser_context_args, "base_url": localhost}


@pytest.fixture
def open_desk(new_context, localhost):
    """open_desk(passkeys=True): a desk browser on localhost, with a virtual authenticator unless passkeys=False."""

    def _open(*, passkeys: bool = True, webauthn: bool = True, cancels: bool = False):
        ctx = new_context(viewport=steps.DESK, locale="en-US")
        ctx.set_default_timeout(15_000)
        if not webauthn:  # an old browser: no WebAuthn at all
            ctx.add_init_script("delete window.PublicKeyCredential;")
        if cancels:  # the person closes the browser's passkey dialog (what the browser then reports)
            ctx.add_init_script("navigator.credentials.get = () => "
                                "Promise.reject(new DOMException('The operation either timed out or was not "
                                "allowed.', 'NotAllowedError'));")
        page = steps.watch(ctx.new_page())
        if passkeys:
            cdp = ctx.new_cdp_session(page)
            cdp.send("WebAuthn.enable")
            cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
                "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}})
        return page

    return _open


def _password_step(page, user) -> None:
    page.goto("/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(factories.PASSWORD)
    page.locator("main form:not(.language-form) button[type=submit]").click()


def test_a_liaison_adds_a_passkey_renames_it_and_signs_in_with_it(open_desk):
    liaison = factories.make_user(role="liaison", name="Dana Passkey")
    page = open_desk()
    steps.sign_in(page, liaison)  # the authenticator code, as before any passkey
    page.goto("/account")
    expect(page.get_by_role("heading", name="Passkeys")).to_be_visible()
    expect(page.get_by_text("You have no passkey yet.")).to_be_visible()
    steps.check_page(page, "account-no-passkey")

    page.get_by_label("Name of the passkey").fill("Laptop fingerprint")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status")).to_have_text("Your passkey is added. Use it the next time you sign in.")
    row = page.locator(".passkey-list li", has_text="Laptop fingerprint")
    expect(row).to_contain_text("Not used yet")
    steps.check_page(page, "account-with-passkey")
    stored = db.session.scalar(select(Passkey).where(Passkey.user_id == liaison.id))
    assert stored.name == "Laptop fingerprint" and stored.public_key

    row.get_by_role("link", name="Rename").click()
    expect(page.locator("h1")).to_have_text("Rename a passkey")
    steps.check_page(page, "passkey-rename")
    page.get_by_label("Name of the passkey").fill("Work laptop")
    page.get_by_role("button", name="Save the name").click()
    expect(page.locator(".passkey-list li", has_text="Work laptop")).to_be_visible()

    page.locator(".passkey-list li", has_text="Work laptop").get_by_role("link", name="Remove").click()
    expect(page.locator("h1")).to_have_text('Remove the passkey "Work laptop"?')
    steps.check_page(page, "passkey-remove-confirm")
    page.get_by_role("button", name="No, keep it").click()

    steps.sign_out(page)
    _password_step(page, liaison)
    expect(page.locator("h1")).to_have_text("Use your passkey")
    steps.check_page(page, "passkey-sign-in")
    page.get_by_role("button", name="Use my passkey").click()
    expect(page.locator("form[action$='/logout']")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Who needs contact")
    db.session.expire_all()
    used = db.session.get(Passkey, stored.id)
    assert used.last_used_at is not None


def test_when_required_a_new_staff_member_adds_a_passkey_at_first_sign_in(open_desk):
    get_agency().require_passkeys = True
    db.session.commit()
    newcomer = factories.make_user(role="supervisor", mfa=False)
    page = open_desk()
    _password_step(page, newcomer)
    expect(page.locator("h1:visible")).to_have_text("Add a passkey")
    expect(page.get_by_text("a recovery code still signs you in once")).to_be_visible()
    steps.check_page(page, "passkey-setup")
    page.get_by_label("Name of the passkey").fill("Phone")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("h1:visible")).to_have_text("Save your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    steps.check_page(page, "passkey-setup-recovery-codes")
    page.get_by_role("button", name="I saved them. Continue").click()
    expect(page.locator("form[action$='/logout']")).to_be_visible()
    steps.switch_language(page, "es")
    page.goto("/account")
    expect(page.get_by_role("heading", name=steps.es("Passkeys"))).to_be_visible()
    steps.check_page(page, "account-passkeys-es")


def test_a_browser_without_passkeys_is_told_so_and_offered_the_other_ways(open_desk):
    liaison = factories.make_user(role="liaison")
    from ..webauthn_helpers import make_passkey

    make_passkey(liaison)
    page = open_desk(passkeys=False, webauthn=False)
    _password_step(page, liaison)
    expect(page.locator("h1")).to_have_text("Use your passkey")
    expect(page.get_by_role("alert")).to_contain_text("This browser cannot use passkeys")
    expect(page.get_by_role("button", name="Use my passkey")).to_be_hidden()
    steps.check_page(page, "passkey-unsupported")
    page.get_by_role("link", name="Use a code from my authenticator app instead").click()
    expect(page.locator("h1")).to_have_text("Enter your code")


def test_a_person_who_cancels_is_told_what_happened_in_spanish_too(open_desk):
    from ..webauthn_helpers import make_passkey

    liaison = factories.make_user(role="liaison", language="es")
    make_passkey(liaison)
    page = open_desk(passkeys=False, cancels=True)
    _password_step(page, liaison)
    steps.switch_language(page, "es")
    expect(page.locator("h1")).to_have_text(steps.es("Use your passkey"))
    page.get_by_role("button", name=steps.es("Use my passkey")).click()
    cancelled = "The passkey was not used: it was cancelled, or it took too long. Try again when you are ready."
    expect(page.get_by_role("alert")).to_have_text(steps.es(cancelled))
    expect(page.get_by_role("button", name=steps.es("Use my passkey"))).to_be_enabled()
    steps.check_page(page, "passkey-cancelled-es")
