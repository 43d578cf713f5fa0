"""Redirect targets from the outside (?next=, form fields) go only to this site's paths, and never break a page."""
import pytest

from portal.web.urls import safe_next

from . import factories
from .conftest import csrf_from


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
