"""Security headers (Flask-Talisman): CSP 'self' with no inline code, HSTS in production, no framing, nosniff,
a Referrer-Policy, and no caching of signed-in pages. Templates carry no inline script, style or handlers."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from . import factories
from .conftest import login, sign_in
from .security_helpers import production_app

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _csp(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/login", "/no/such/page"])
def test_csp_allows_only_the_portals_own_scripts_and_styles(client, url):
    csp = _csp(client.get(url))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'" and csp["form-action"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    joined = " ".join(csp.values())
    assert "unsafe-inline" not in joined and "unsafe-eval" not in joined and "*" not in joined


def test_pages_cannot_be_framed_sniffed_or_leak_their_address(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")


def test_no_hsts_over_plain_http_in_development(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_production_sends_hsts_and_redirects_plain_http_to_https(app, monkeypatch):
    with production_app(app, monkeypatch) as prod:
        client = prod.test_client()
        secure = client.get("/login", base_url="https://portal.example.gov")
        plain = client.get("/login", base_url="http://portal.example.gov")
    hsts = secure.headers["Strict-Transport-Security"]
    assert "max-age=" in hsts and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000
    assert "includeSubDomains" in hsts
    assert plain.status_code in (301, 302) and plain.headers["Location"].startswith("https://")


@pytest.mark.parametrize("hops, recorded", [(0, "127.0.0.1"), (1, "198.51.100.7")])
def test_client_address_comes_from_the_proxy_only_when_told_to_trust_it(app, db, hops, recorded):
    """TRUSTED_PROXY_HOPS=1 behind nginx: audit records and rate limits see the client, not the proxy; without it
    a forged X-Forwarded-For header is ignored."""
    from sqlalchemy import select

    from portal import create_app
    from portal.extensions import talisman
    from portal.models import AuditEvent

    saved = dict(vars(talisman))
    try:
        proxied = create_app("testing", {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                         "TRUSTED_PROXY_HOPS": hops})
        login(proxied.test_client(), "nobody@test.example", "wrong password here",
              headers={"X-Forwarded-For": "198.51.100.7"})
    finally:
        vars(talisman).clear()
        vars(talisman).update(saved)
    assert db.session.scalar(select(AuditEvent.ip).where(AuditEvent.action == "auth.login")) == recorded


@pytest.mark.parametrize("role, url", [("family", "/my/cases/{case}"), ("liaison", "/staff/"),
                                       ("liaison", "/staff/cases/{case}"), ("family", "/account")])
def test_signed_in_pages_are_never_stored(client, role, url):
    liaison = factories.make_user(role="liaison")
    user, _member, case = factories.make_family(liaison=liaison)
    sign_in(client, user if role == "family" else liaison)
    response = client.get(url.format(case=case.id))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]


def test_second_factor_pages_are_never_stored(client):
    user = factories.make_user(role="liaison", mfa=False)
    login(client, user.email)
    response = client.get("/mfa/setup")  # shows the secret key
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]


# A <script type="application/json"> block is data, not code: browsers never run it and the CSP allows it (the
# reports page hands its chart numbers to reports.js that way). Any other <script> without src= is inline code.
_DATA_BLOCK_TYPE = r"""\btype\s*=\s*(?:"application/json"|'application/json'|application/json(?=[\s/>]))"""
_DATA_BLOCK = re.compile(r"<script\b(?=[^>]*" + _DATA_BLOCK_TYPE + r")(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>",
                         re.I | re.S)
_INLINE = [
    (re.compile(r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*" + _DATA_BLOCK_TYPE + r")[^>]*>", re.I),
     "an inline <script> (put it in portal/static/js/)"),
    (re.compile(r"<style\b", re.I), "a <style> block (put it in portal/static/css/portal.css)"),
    (re.compile(r"\sstyle\s*=", re.I), "a style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on...= event handler attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]
# In a template, a data block holds one value through |tojson (which escapes <, > and &, so the value can never
# close the block and start real markup): {{ charts|tojson }}.
_TOJSON_ONLY = re.compile(r"\s*\{\{[^{}]*\|\s*tojson\s*\}\}\s*")


def inline_problems(text: str, *, template: bool = True) -> list[str]:
    """What the CSP would block in this markup (or, in a template, a data block that is not one |tojson value)."""
    problems = [why for pattern, why in _INLINE if pattern.search(text)]
    if template:
        problems += ["a JSON data block holding more than {{ value|tojson }}"
                     for body in _DATA_BLOCK.findall(text) if not _TOJSON_ONLY.fullmatch(body)]
    return problems


@pytest.mark.parametrize("markup, blocked", [
    ('<script type="application/json" id="report-data">{{ charts|tojson }}</script>', False),
    ("<script type='application/json'>{{ data | tojson }}</script>", False),
    ('<script src="/static/js/reports.js" defer></script>', False),
    ("<script>alert(1)</script>", True),
    ('<script type="text/javascript">alert(1)</script>', True),
    ('<script type="module">import x from "/x.js"</script>', True),
    ('<script type="application/javascript">alert(1)</script>', True),
    ('<script id="data" type="application/jsonp">alert(1)</script>', True),
    ('<script type="application/json">{"a": "{{ raw }}"}</script>', True),
    ('<script type="application/json">{{ a|tojson }}</script><script>alert(1)</script>', True),
    ('<p style="color:red">x</p>', True),
    ("<style>p{color:red}</style>", True),
    ('<button onclick="go()">Go</button>', True),
    ('<a href="javascript:go()">Go</a>', True),
])
def test_the_template_check_allows_json_data_blocks_and_nothing_else_inline(markup, blocked):
    assert bool(inline_problems(markup)) is blocked


def test_no_template_has_inline_script_style_or_handlers():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        problems += [f"{path.relative_to(TEMPLATES)}: {why}" for why in inline_problems(text)]
    assert list(TEMPLATES.rglob("*.html")), "no templates found"
    assert not problems, "the CSP would block these; move them to static files:\n" + "\n".join(problems)


def test_rendered_pages_have_no_inline_script_or_style(client):
    user, _member, case = factories.make_family()
    sign_in(client, user)
    body = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert not inline_problems(body, template=False)
