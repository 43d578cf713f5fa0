"""One commit per request, after the view returned: a service's half-done work is never saved with it."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal import audit
from portal.extensions import db as _db
from portal.family import routes as family_routes
from portal.models import Appointment, CaseUpdate, Invitation
from portal.services import appointments as appts
from portal.services.invitations import create_invitation
from portal.web.boundary import remember_client_address

from . import factories
from . import family_factories as ffac
from .conftest import csrf_from, sign_in

SLOT_RE = re.compile(r'name="start" value="([^"]+)"')


def test_a_reschedule_that_loses_the_race_leaves_the_old_call_booked(app, client, db, monkeypatch):
    """reschedule_appointment flushes the old call as rescheduled, then the new slot's insert fails."""
    liaison = factories.make_user(role="liaison")
    user, member, case = factories.make_family(case=factories.make_case(liaison=liaison))
    sign_in(client, user)
    ffac.make_every_day_windows(liaison=liaison)
    booked = appts.open_slots(liaison.id)[0]
    old = ffac.make_appointment(case=case, member=member, starts_at=booked.starts_at, ends_at=booked.ends_at)
    page = client.get(f"/my/appointments/{old.id}/reschedule").get_data(as_text=True)
    wanted = appts.open_slots(liaison.id)[1]
    # Someone else books the wanted time after this request's "is it still open?" check said yes.
    rival_user, rival_member, rival_case = factories.make_family(liaison=liaison)
    ffac.make_appointment(case=rival_case, member=rival_member, starts_at=wanted.starts_at, ends_at=wanted.ends_at)
    monkeypatch.setattr(appts, "_find_slot", lambda *args, **kwargs: wanted)
    value = wanted.starts_at.strftime("%Y-%m-%dT%H:%MZ")
    assert value in SLOT_RE.findall(page)
    taken = client.post(f"/my/appointments/{old.id}/reschedule", data={"csrf_token": csrf_from(page), "start": value})
    assert taken.status_code == 409
    assert "Sorry, someone just took this time." in taken.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appointment, old.id).status == "booked"  # the flushed "rescheduled" was not committed
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 2


def test_a_refused_invitation_stays_unused_and_its_counted_failure_is_saved(client, db):
    """accept_invitation refuses a wrong password for an existing account before it claims the link; the
    request's one commit keeps the counted failure (the lockout) and nothing else."""
    user, _member, _case = factories.make_family()
    member = factories.make_family_member(case=factories.make_case())
    invitation, token = create_invitation(member, created_by=None)
    db.session.commit()
    page = client.get(f"/invite/{token}").get_data(as_text=True)
    refused = client.post(f"/invite/{token}", data={"csrf_token": csrf_from(page), "email": user.email,
                                                    "password": "not the password at all",
                                                    "confirm": "not the password at all"})
    assert refused.status_code == 200
    assert "This email and password cannot be used with this link." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invitation, invitation.id).used_at is None
    assert db.session.get(type(member), member.id).user_id is None
    assert db.session.get(type(user), user.id).failed_logins == 1


def test_a_view_that_raises_after_writing_saves_nothing(app, client, db, monkeypatch):
    user, _member, case = factories.make_family()
    case.stage = "prosecution_declined"
    db.session.merge(case)
    db.session.commit()
    sign_in(client, user)
    real_add_update = family_routes.add_update

    def add_then_fail(*args, **kwargs):
        real_add_update(*args, **kwargs)  # adds and flushes the update and its audit event
        raise RuntimeError("something after the write went wrong")

    monkeypatch.setattr(family_routes, "add_update", add_then_fail)
    page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    with pytest.raises(RuntimeError):  # the testing app lets the error through instead of a 500 page
        client.post(f"/my/cases/{case.id}/meeting-request", data={"csrf_token": csrf_from(page)})
    assert db.session.scalar(select(func.count()).select_from(CaseUpdate)) == 0


def test_audit_record_needs_its_actor_said_out_loud(db):
    with pytest.raises(TypeError):
        audit.record("case.view", ("cases", 1))  # no actor=: the caller must say who (None for the system)


@pytest.mark.parametrize(("path", "stored"), [("/login", "198.51.100.7"), ("/my", "198.51.100.7"),
                                              ("/t/some-tip-link", None), ("/tip", None), ("/tip/answer", None)])
def test_the_client_address_is_kept_for_the_unit_of_work_except_on_the_tip_pages(app, path, stored):
    with app.test_request_context(path, environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        _db.session.info[audit.IP_KEY] = "203.0.113.1"  # left over from before: the tip pages must drop it too
        remember_client_address()
        event = audit.record("case.view", ("cases", 1), actor=None)
        assert event.ip == stored
        assert audit.record("tip.lookup", None, actor=None, ip=None).ip is None  # an explicit ip= wins
        _db.session.rollback()


def test_jobs_and_commands_record_no_address(db):
    assert audit.record("digest.send", None, actor=None).ip is None
