"""Spanish: every message a family member, a tipster or a text recipient can read has a checked translation,
and dates, times and numbers are written the way a Spanish reader expects."""
from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from babel.messages.checkers import python_format
from flask_babel import force_locale, format_date, format_datetime, format_decimal, format_time, gettext

from portal.display import local_datetime
from portal.models import STAGES
from portal.providers.sms.segments import segment_count
from portal.services.notifications.outbox import render_sms

from . import factories
from .conftest import sign_in
from .i18n_support import (
    FAMILY_PYTHON,
    FAMILY_TEMPLATES,
    ROOT,
    SPANISH_PO,
    extract_messages,
    load_spanish,
    untranslated,
)

MOMENT = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # 3:30 PM in Chicago


def test_every_family_side_message_has_a_spanish_translation():
    messages = extract_messages()
    problems = untranslated(messages, load_spanish())
    assert not problems, (
        f"{len(problems)} message(s) on the family side or in texts have no checked Spanish in "
        f"{SPANISH_PO.relative_to(SPANISH_PO.parents[4])}.\nRun `make translations-update`, translate them "
        "(plain, warm, 'usted'), then `make translations-compile`:\n  " + "\n  ".join(problems))


def test_the_family_side_sources_are_really_read():
    # Guards the test above against passing because it found nothing.
    messages = extract_messages()
    for expected in ("Set up your account", "The case about %(name)s", "We could not find this page",
                     "Skip to main content", "Enter an email address like name@example.com."):
        assert expected in messages
    assert any(str(msgid).startswith("%(agency)s: your family liaison invited you") for msgid in messages)
    for stage_text in ("Waiting for lab results", "Most often in 1 or 2 days.", "The court sets the dates."):
        assert stage_text in messages  # the stage vocabulary (portal/models/stages.py)
    # The tip pages, upload refusals, booking, preferences and the texts are read too.
    for expected in ("Leave a tip about the death of %(name)s", "“%(name)s” is empty. Choose the file again.",
                     "Sorry, someone just took this time. Please choose another time.", "Your settings are saved."):
        assert expected in messages
    texts = {where.split(":")[0] for places in messages.values() for where in places}
    assert {"templates/sms/stage_change.txt", "templates/sms/help.txt", "templates/tips/form.html",
            "portal/uploads.py", "portal/tips/routes.py"} <= texts


def test_every_family_side_source_listed_exists():
    # A renamed or moved module must not silently drop out of the checks above.
    missing = [entry for entry in (*FAMILY_TEMPLATES, *FAMILY_PYTHON) if not (ROOT / entry).exists()]
    assert not missing, f"listed in tests/i18n_support.py but not found: {missing}"


def test_a_new_untranslated_family_message_is_reported(tmp_path):
    (tmp_path / "templates" / "family").mkdir(parents=True)
    (tmp_path / "templates" / "family" / "new.html").write_text(
        '<p>{{ _("Your liaison officer") }}</p><p>{{ _("A sentence nobody has translated yet.") }}</p>')
    messages = extract_messages(templates=["templates/family"], python=[], root=tmp_path)
    problems = untranslated(messages, load_spanish())
    assert len(problems) == 1
    assert "A sentence nobody has translated yet." in problems[0] and "new.html:1" in problems[0]


def test_spanish_translations_keep_every_placeholder():
    catalog = load_spanish()
    broken = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        try:
            python_format(catalog, message)
        except Exception as exc:  # babel raises TranslationError naming the placeholder
            broken.append(f"{message.id!r}: {exc}")
    assert not broken, "\n".join(broken)


def test_the_catalog_has_no_fuzzy_or_empty_entries():
    catalog = load_spanish()
    assert not [m.id for m in catalog if m.id and m.fuzzy]
    assert not [m.id for m in catalog if m.id and not m.string]


def test_the_compiled_catalog_is_what_the_app_serves(app):
    with app.test_request_context(), force_locale("es"):
        assert gettext("Sign in") == "Iniciar sesión"
        assert str(STAGES[1].label) == "Esperando los resultados del laboratorio"
        assert gettext("The case about %(name)s", name="Ana") == "El caso de Ana"


def test_texts_are_written_in_the_recipients_language(app):
    with app.test_request_context():
        spanish = render_sms("invite", "es", link="https://portal.example/invite/x")
        english = render_sms("invite", "en", link="https://portal.example/invite/x")
    assert "le invitó a un portal privado" in spanish and spanish.endswith("https://portal.example/invite/x")
    assert "invited you to a private portal" in english


# Every text with the values it gets in real use (a weekday: CLDR's "sáb" for Saturday is outside GSM-7).
LINK = "https://portal.example.gov/my"
WEEKDAY = {"en": ("Tuesday, March 3, 2026, 5:00 PM", "Tue, Mar 3, 5:00 PM", "5:00 PM"),
           "es": ("martes, 3 de marzo de 2026, 17:00", "mar, 3 mar, 17:00", "17:00")}
TEXTS = [
    ("update", lambda w: {}), ("update", lambda w: {"detailed": True, "summary": "Zzz."}),
    ("opt_out_confirmation", lambda w: {}), ("opt_in_confirmation", lambda w: {}),
    ("help", lambda w: {"agency_phone": "(312) 555-0100"}), ("help", lambda w: {}),
    ("lead_question", lambda w: {}), ("callback_confirmed", lambda w: {}),
    ("digest", lambda w: {"count": 3, "act_now": 1}),
    ("staff_handover", lambda w: {"case_number": "OD-2026-0101", "from_name": "Sgt. Alex Lind"}),
    *[(name, lambda w: {"detailed": True, "liaison_name": "Officer Dana Rivera", "when": w[0]})
      for name in ("appointment_booked", "appointment_rescheduled", "appointment_cancelled")],
    ("appointment_reminder_24h", lambda w: {"when": w[1], "mode": "phone"}),
    *[("appointment_reminder_24h", lambda w, mode=mode: {"detailed": True, "when": w[1], "mode": mode,
                                                         "liaison_name": "Officer Dana Rivera"})
      for mode in ("phone", "video", "in_person")],
    ("appointment_reminder_1h", lambda w: {"time": w[2], "mode": "phone"}),
    *[("appointment_reminder_1h", lambda w, mode=mode: {"detailed": True, "time": w[2], "mode": mode,
                                                        "liaison_name": "Officer Dana Rivera"})
      for mode in ("phone", "video", "in_person")],
    ("handover", lambda w: {"member": SimpleNamespace(detailed_texts=True), "liaison_name": "Officer Sam Okafor"}),
    ("staff_message", lambda w: {"detailed": True, "author_name": "Officer Dana Rivera",
                                 "decedent_name": "Jordan Ellis"}),
    *[("stage_change", lambda w, key=stage.key: {"member": SimpleNamespace(detailed_texts=True), "stage": key})
      for stage in STAGES],
]
# The invite must say "le invitó" and "3 días" (the family journey reads them), so it is UCS-2 in Spanish.
MAY_TAKE_MORE_IN_SPANISH = {"invite"}


def test_spanish_texts_take_no_more_segments_than_the_english(app):
    longer = []
    with app.test_request_context():
        for name, context in TEXTS:
            english, spanish = (segment_count(render_sms(name, language, agency_name="Demo County Police Department",
                                                         link=LINK, **context(WEEKDAY[language])))
                                for language in ("en", "es"))
            if spanish[2] > english[2] and name not in MAY_TAKE_MORE_IN_SPANISH:
                longer.append(f"{name} {context(WEEKDAY['es'])}: English {english}, Spanish {spanish}")
    assert len(TEXTS) > 30
    assert not longer, "Spanish texts that need more segments (avoid á í ó ú where it reads naturally):\n" + \
        "\n".join(longer)


@pytest.mark.parametrize(("locale", "expected"), [
    ("es", {"date": "26 nov 2026", "datetime": "26 nov 2026, 15:30:00", "shown": "26 nov 2026, 15:30", "time": "15:30",
            "number": "1.234.567,5", "small": "1.234,5"}),
    ("en", {"date": "Nov 26, 2026", "datetime": "Nov 26, 2026, 3:30:00\u202fPM", "shown": "Nov 26, 2026, 3:30\u202fPM",
            "time": "3:30\u202fPM",
            "number": "1,234,567.5", "small": "1,234.5"}),
])
def test_dates_times_and_numbers_follow_the_locale(app, locale, expected):
    # Signed out, times are shown in the agency's time zone (America/Chicago in the tests).
    with app.test_request_context(), force_locale(locale):
        assert format_date(date(2026, 11, 26), "medium") == expected["date"]
        assert format_datetime(MOMENT, "medium") == expected["datetime"]
        assert format_time(MOMENT, "short") == expected["time"]
        assert local_datetime(MOMENT) == expected["shown"]  # what the pages show: to the minute
        assert format_decimal(1234567.5) == expected["number"]
        assert format_decimal(1234.5) == expected["small"]


def test_a_spanish_family_member_sees_spanish_dates_on_the_case_page(client, db):
    user, _member, case = factories.make_family(language="es")
    user.language = "es"
    factories.make_update(case=case, body="Novedad del laboratorio.")
    db.session.execute(db.text("UPDATE case_updates SET created_at = :at"), {"at": MOMENT})
    db.session.commit()
    sign_in(client, user)
    page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "26 nov 2026, 15:30<" in page  # the family member's time zone, Spanish style, to the minute
    assert "El caso de" in page and "Novedades" in page


def test_an_english_family_member_sees_english_dates_on_the_case_page(client, db):
    user, _member, case = factories.make_family()
    factories.make_update(case=case, body="News from the lab.")
    db.session.execute(db.text("UPDATE case_updates SET created_at = :at"), {"at": MOMENT})
    db.session.commit()
    sign_in(client, user)
    page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert "Nov 26, 2026, 3:30\u202fPM<" in page
