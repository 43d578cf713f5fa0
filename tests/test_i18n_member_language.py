"""Everything the system writes is in the member's language: the invite landing page before anyone signs in, and
the system-written sentences on case updates (rendered when read, in the reader's language, never stored in the
writer's). Staff-written words are shown as written."""
from __future__ import annotations

from sqlalchemy import select

from portal.models import CaseUpdate
from portal.services.cases import change_stage, reassign_case
from portal.services.invitations import create_invitation

from . import factories
from .conftest import csrf_from, sign_in

SPANISH_INVITE = "Cree su cuenta"
ENGLISH_INVITE = "Set up your account"


def _invite(db, *, language: str) -> str:
    member = factories.make_family_member(case=factories.make_case(), language=language, phone="+13125550170")
    _invitation, token = create_invitation(member, created_by=None)
    db.session.commit()
    return token


def test_the_invite_page_opens_in_the_invited_members_language_whatever_the_browser_says(app, db):
    token = _invite(db, language="es")
    page = app.test_client().get(f"/invite/{token}", headers={"Accept-Language": "en-US,en;q=0.9"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert SPANISH_INVITE in html and ENGLISH_INVITE not in html
    assert '<html lang="es"' in html
    assert "Read this page in English" in html  # the switch, written in the language it switches to


def test_an_english_speaking_member_gets_english_even_from_a_spanish_browser(app, db):
    token = _invite(db, language="en")
    html = app.test_client().get(f"/invite/{token}", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert ENGLISH_INVITE in html and "Leer esta página en español" in html


def test_the_switch_on_the_invite_page_changes_its_language_and_keeps_the_link_working(app, db):
    token = _invite(db, language="es")
    client = app.test_client()
    html = client.get(f"/invite/{token}").get_data(as_text=True)
    switched = client.post("/language", data={"csrf_token": csrf_from(html), "language": "en",
                                              "next": f"/invite/{token}"})
    assert switched.status_code == 302 and switched.headers["Location"].endswith(f"/invite/{token}")
    again = client.get(f"/invite/{token}").get_data(as_text=True)
    assert ENGLISH_INVITE in again and SPANISH_INVITE not in again


def test_form_errors_on_the_invite_page_are_in_the_members_language_too(app, db):
    token = _invite(db, language="es")
    client = app.test_client()
    html = client.get(f"/invite/{token}").get_data(as_text=True)
    answer = client.post(f"/invite/{token}", data={"csrf_token": csrf_from(html), "email": "nueva@test.example",
                                                   "password": "short", "confirm": "short"})
    body = answer.get_data(as_text=True)
    assert SPANISH_INVITE in body and ENGLISH_INVITE not in body


def _family(db, case, *, language: str, phone: str):
    user = factories.make_user(role="family", language=language)
    member = factories.make_family_member(case=case, user=user, language=language, phone=phone)
    db.session.commit()
    return user, member


def test_the_handover_sentence_is_written_in_each_readers_language_and_not_stored_in_english(app, db):
    old, new = factories.make_user(role="liaison"), factories.make_user(role="liaison", name="Officer Ana Ruiz")
    case = factories.make_case(liaison=old)
    spanish, _m1 = _family(db, case, language="es", phone="+13125550171")
    english, _m2 = _family(db, case, language="en", phone="+13125550172")
    with app.test_request_context():  # an English-speaking supervisor hands the case over
        reassign_case(case, liaison=new, backup_liaison=None, handover_note="Prefers calls.",
                      family_message="Ana lo llamará mañana.", author=old)
        db.session.commit()
    told = db.session.scalar(select(CaseUpdate).where(CaseUpdate.kind == "handover", CaseUpdate.family_visible))
    assert told.body == "Ana lo llamará mañana."  # staff's words, as written; no sentence in anyone's language

    client = app.test_client()
    sign_in(client, spanish)
    es_page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert "Desde ahora, su agente de enlace es Officer Ana Ruiz." in es_page
    assert "From now on" not in es_page and "Ana lo llamará mañana." in es_page

    client = app.test_client()
    sign_in(client, english)
    en_page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert "From now on, your liaison officer is Officer Ana Ruiz." in en_page

    client = app.test_client()
    sign_in(client, new)
    staff_page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "From now on, your liaison officer is Officer Ana Ruiz." in staff_page  # staff read it in theirs


def test_a_stage_change_reads_in_the_members_language_with_the_liaisons_words_as_written(app, db):
    liaison = factories.make_user(role="liaison")
    case = factories.make_case(liaison=liaison)
    spanish, _member = _family(db, case, language="es", phone="+13125550173")
    with app.test_request_context():
        change_stage(case, stage_to="investigating", message="We are talking to witnesses.", author=liaison)
        db.session.commit()
    client = app.test_client()
    sign_in(client, spanish)
    page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert "Nueva etapa" in page and "New step" not in page
    assert "Detectives are looking into the case" not in page  # the stage's name, in Spanish
    assert "We are talking to witnesses." in page
