"""Redirect targets from the outside (?next=, form fields) go only to this site's paths, and never break a page."""
import pytest

from portal.web.urls import safe_next

from . import factories
from .conftest import complete_mfa, csrf_from, sign_in
from .html_pages import form_with_action


@pytest.mark.parametrize("target", [
    "/my\n", "/my\r\nSet-Cookie: x=1", "/\n/evil.example", "/\t/evil.example", "/my\tcases", "/my\x0b",
    "/my cases", "/\u3000/evil.example", "/\uff0fevil.example", "/\u2215\u2215evil.example", "/my\u202e",
    "/my\u200b", "/caf\u00e9", "/\x7f", "//evil.example", "https://evil.example/", "\\\\evil.example",
    "/\\evil.example", "evil.example", " /my", "", None,
])
def test_a_bad_redirect_target_gives_the_default(target):
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/my", "/staff/cases/12?show=open#contacts", "/my/cases/3/leads%20x"])
def test_a_local_path_is_kept(target):
    assert safe_next(target, "/home") == target


@pytest.mark.parametrize("target", ["/my\n", "/my\r\nX-Injected: 1", "/\t/evil.example", "/\uff0f\uff0fevil.example"])
def test_signing_in_with_a_bad_next_goes_home_instead_of_an_error(client, target):
    user, _member, _case = factories.make_family()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "email": user.email,
                                           "password": factories.PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/my"


# --- every route that takes a redirect target, with control characters and the rest -------------------------------

BAD_TARGETS = ["/my\n", "/my\r", "/my\r\nSet-Cookie: x=1", "/my\t", "/\t/evil.example", "/my\x00", "\x00",
               "/my%0a", "/my%0d%0aSet-Cookie:%20x=1", "/%00", "/%09/evil.example", "/%5cevil.example",
               "/%2f/evil.example", "/\\evil.example", "https://evil.example/", "//evil.example",
               "javascript:alert(1)"]


@pytest.mark.parametrize("target", ["/my%0a", "/%00", "/%5cevil.example", "/%2f/evil.example", "/%2Fevil.example",
                                    "/my%7f", "/my%e2%80%ae"])
def test_a_percent_encoded_control_or_host_gives_the_default(target):
    assert safe_next(target, "/home") == "/home"


def _post_with_token(client, url, data, token_page="/login", **kwargs):
    token = csrf_from(client.get(token_page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_the_language_form_with_a_bad_next_goes_home(client, target):
    response = _post_with_token(client, "/language", {"language": "es", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_sign_in_with_a_bad_next_in_the_form_or_the_address_goes_home(app, target):
    user, _member, _case = factories.make_family()
    client = app.test_client()
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200  # a bad target in the address is not an error either
    response = client.post("/login", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "email": user.email,
                                           "password": factories.PASSWORD, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/my"


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_the_second_factor_with_a_bad_next_goes_to_the_dashboard(app, target):
    user = factories.make_user(role="liaison")
    client = app.test_client()
    response = _post_with_token(client, "/login", {"email": user.email, "password": factories.PASSWORD,
                                                   "next": target})
    assert response.headers["Location"] == "/mfa"
    done = complete_mfa(client, user)
    assert done.status_code == 302 and done.headers["Location"] == "/staff/"


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_a_passkey_sign_in_with_a_bad_next_goes_to_the_dashboard(app, target):
    from .test_security_passkeys import passkey_step
    from .webauthn_helpers import make_passkey

    user = factories.make_user(role="liaison")
    _passkey, key = make_passkey(user)
    client = app.test_client()
    response = _post_with_token(client, "/login", {"email": user.email, "password": factories.PASSWORD,
                                                   "next": target})
    assert response.headers["Location"] == "/mfa/passkey"
    _options, done = passkey_step(client, key)
    assert done.status_code == 200 and done.get_json() == {"redirect": "/staff/"}


def test_a_passkey_sign_in_keeps_a_local_next(app):
    from .test_security_passkeys import passkey_step
    from .webauthn_helpers import make_passkey

    user = factories.make_user(role="liaison")
    _passkey, key = make_passkey(user)
    client = app.test_client()
    _post_with_token(client, "/login", {"email": user.email, "password": factories.PASSWORD,
                                        "next": "/staff/cases"})
    _options, done = passkey_step(client, key)
    assert done.get_json() == {"redirect": "/staff/cases"}


@pytest.fixture
def staff_case(app, client):
    liaison = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison)
    factories.make_family_member(case=case, is_spokesperson=True)
    sign_in(client, liaison)
    return liaison, case


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_logging_a_contact_with_a_bad_next_goes_back_to_the_case(client, staff_case, target):
    _liaison, case = staff_case
    page = client.get(f"/staff/cases/{case.id}/contacts/new", query_string={"next": target})
    assert page.status_code == 200
    form = form_with_action(page.get_data(as_text=True), f"/staff/cases/{case.id}/contacts")
    assert form.data()["next"] == ""  # the bad target from the address never reaches the form
    response = client.post(form.action, data=form.data(form.button("Talked"), next=target))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/cases/{case.id}#contacts-heading"


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_an_appointment_action_with_a_bad_next_goes_to_the_appointments(client, staff_case, target):
    from .family_factories import make_appointment

    liaison, case = staff_case
    appointment = make_appointment(case=case, liaison=liaison, member=case.family_members[0])
    response = _post_with_token(client, f"/staff/appointments/{appointment.id}/confirm", {"next": target},
                                token_page="/staff/appointments")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/appointments?show=all"


def test_every_route_that_redirects_to_a_next_is_tested_here():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "portal"
    callers = sorted(str(path.relative_to(root)) for path in root.rglob("*.py")
                     if re.search(r"\bsafe_next\(", path.read_text()) and path.name != "urls.py")
    # Each file's redirect-taking routes have a test above; a new caller needs one too.
    assert callers == ["auth/mfa.py", "auth/passkeys.py", "auth/routes.py", "staff/appointments.py",
                       "staff/outreach.py"]
