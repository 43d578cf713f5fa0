"""An HTTP client for the bench: sign in through the real forms (CSRF, and TOTP once staff MFA lands)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

# The proxy in front of production terminates TLS and says so; the production config redirects anything else.
# gunicorn trusts this header from 127.0.0.1, so the app sees HTTPS and Flask-WTF then also wants a same-origin
# Referer on every POST, as a browser sends (see referer()).
# Flask-Login's "strong" session protection ties a session to the address and User-Agent: the load tool must send
# the same User-Agent as the client that signed in, or every request is quietly sent back to the sign-in page.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "User-Agent": "portal-bench/1"}
TOTP_FIELD_NAMES = ("code", "totp", "otp", "token", "totp_code", "mfa_code", "verification_code")


@dataclass
class Form:
    """One <form>: where it posts and its fields with their current values."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    textareas: list[str] = field(default_factory=list)
    required: set[str] = field(default_factory=set)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), method=a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.forms[-1].fields.setdefault(a["name"], a.get("value", ""))
            if "required" in a:
                self.forms[-1].required.add(a["name"])
        elif tag == "textarea" and a.get("name"):
            self.forms[-1].fields[a["name"]] = ""
            self.forms[-1].textareas.append(a["name"])
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and self._select not in self.forms[-1].fields:
            self.forms[-1].fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def forms_in(html: str) -> list[Form]:
    """Every form on a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def referer(url: str) -> dict[str, str]:
    """The Referer a browser on the HTTPS site would send for a form on this page."""
    return {"Referer": "https://" + url.split("://", 1)[-1]}


def _form_with(forms: list[Form], names: tuple[str, ...]) -> tuple[Form, str] | None:
    for form in forms:
        for name in names:
            if name in form.fields:
                return form, name
    return None


def sign_in(base: str, email: str, password: str, totp_secret: str | None = None) -> requests.Session:
    """A session signed in through the login form, with every step the person's role needs.

    Today that is email + password + CSRF token. Staff MFA (another branch) adds a TOTP step: when the page after
    the password asks for a code (a field named like TOTP_FIELD_NAMES), the code is computed with pyotp from the
    seeded secret (bench/common.py TOTP_SECRET) and posted with the form's CSRF token.
    """
    s = requests.Session()
    s.headers.update(PROXY_HEADERS)
    page = s.get(urljoin(base, "/login"), timeout=30)
    page.raise_for_status()
    login = next((f for f in forms_in(page.text) if "password" in f.fields), None)
    if login is None:
        raise RuntimeError("no sign-in form with a password field on /login")
    data = dict(login.fields, email=email, password=password)
    response = s.post(urljoin(page.url, login.action or "/login"), data=data, headers=referer(page.url), timeout=30)
    found = _form_with(forms_in(response.text), TOTP_FIELD_NAMES) if response.ok else None
    if found is not None and "password" not in found[0].fields:
        if totp_secret is None:
            raise RuntimeError(f"{email}: the portal asks for a TOTP code and no secret was given")
        import pyotp

        form, name = found
        page_url = response.url
        for offset in (0, 30):  # codes are single-use: if this one was just used (a rerun), the next one is accepted
            data = dict(form.fields, **{name: pyotp.TOTP(totp_secret).at(time.time() + offset)})
            response = s.post(urljoin(page_url, form.action or page_url), data=data, headers=referer(page_url),
                              timeout=30)
            if response.status_code != 422:
                break
    if "/login" in response.url or response.status_code >= 400:
        raise RuntimeError(f"{email} could not sign in (ended on {response.url}, status {response.status_code})")
    return s


def cookie_header(s: requests.Session) -> str:
    """The session's cookies as one Cookie header (for the load tool)."""
    return "; ".join(f"{c.name}={c.value}" for c in s.cookies)
