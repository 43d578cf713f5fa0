"""flask seed-demo: fictional data across every stage, created once however often it runs."""
from sqlalchemy import func, select

from portal.models import STAGE_KEYS, Case, FamilyMember, User


def _counts(db):
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, Case, FamilyMember))


def test_seed_demo_twice_keeps_one_copy(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo data created." in first.output
    counts = _counts(db)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0 and "already present" in second.output
    assert _counts(db) == counts
    for role in ("family", "liaison", "supervisor", "admin"):
        assert role in second.output


def test_seed_demo_covers_every_stage_and_both_languages(app, db):
    app.test_cli_runner().invoke(args=["seed-demo"])
    stages = set(db.session.scalars(select(Case.stage)))
    assert stages == set(STAGE_KEYS)
    assert 10 <= db.session.scalar(select(func.count()).select_from(Case)) <= 14
    assert set(db.session.scalars(select(FamilyMember.language))) == {"en", "es"}
    roles = list(db.session.scalars(select(User.role)))
    assert roles.count("liaison") == 2 and roles.count("supervisor") == 1 and roles.count("admin") == 1


def test_printed_demo_sign_ins_work(app, db):
    from .conftest import login

    output = app.test_cli_runner().invoke(args=["seed-demo"]).output
    password = output.split("password for all: ")[1].split(")")[0]
    emails = [line.split()[-1] for line in output.splitlines() if "@" in line]
    assert len(emails) >= 4
    for email in emails:
        response = login(app.test_client(), email, password)
        assert response.status_code == 302, email


def test_demo_support_services_are_listed_in_each_familys_language(app, db):
    from portal.demo import DEMO_PASSWORD

    from .conftest import sign_in

    app.test_cli_runner().invoke(args=["seed-demo"])
    pages = {}
    for language in ("en", "es"):
        user = db.session.scalars(select(User).where(User.role == "family", User.language == language)).first()
        client = app.test_client()
        sign_in(client, user, password=DEMO_PASSWORD)
        pages[language] = client.get("/my/resources").get_data(as_text=True)
    assert "988 Suicide &amp; Crisis Lifeline" in pages["en"] and "Línea de Prevención" not in pages["en"]
    assert "988 Línea de Prevención del Suicidio y Crisis" in pages["es"] and "Crisis Lifeline" not in pages["es"]
    assert "Compensación para víctimas de delitos" in pages["es"] and "Crime victim" not in pages["es"]


def test_the_demo_liaison_sees_a_family_with_no_first_contact_for_49_hours(app, db):
    from portal.services.contact import due_for_contact

    app.test_cli_runner().invoke(args=["seed-demo"])
    liaison = db.session.scalar(select(User).where(User.email == "liaison.rivera@demo.example"))
    reasons = [f.reason for f in due_for_contact(liaison=liaison) if f.kind == "first_contact"]
    assert "No first contact for 49 hours" in [str(r) for r in reasons]
