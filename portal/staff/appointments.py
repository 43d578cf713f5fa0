"""Availability (weekly windows and days off) and the appointments list with confirm, held and missed."""
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_
from sqlalchemy.orm import selectinload

from .. import access
from ..display import local_today
from ..errors import ServiceError
from ..extensions import db
from ..models import Appointment, User, utcnow
from ..models.types import db_int
from ..services import availability as av
from ..services.agency import get_agency
from ..services.cases import assignable_staff
from ..web.errors import flash_error, show_error
from ..web.urls import safe_next
from . import bp
from .forms_work import WEEKDAY_CHOICES, ExceptionForm, WindowForm
from .routes import _int_arg


def _whose() -> User:
    """The liaison whose availability is shown: yourself, or anyone for supervisors and admins."""
    chosen = _int_arg("liaison") or db_int(request.form.get("liaison"))
    if not chosen or chosen == current_user.id:
        return current_user._get_current_object()
    if not access.can_manage_availability_of(current_user, chosen):
        abort(404)
    person = db.session.get(User, chosen)
    if person is None or not person.is_staff:
        abort(404)
    return person


def _page(person: User, *, window_form=None, exception_form=None, status: int = 200):
    today = local_today(utcnow(), get_agency().timezone)
    return render_template(
        "staff/availability.html", person=person, windows=av.windows_for(person),
        exceptions=av.exceptions_for(person, since=today), weekdays=dict(WEEKDAY_CHOICES),
        window_form=window_form or WindowForm(prefix="window"),
        exception_form=exception_form or ExceptionForm(prefix="exception"),
        people=assignable_staff() if current_user.sees_all_cases else [], timezone=get_agency().timezone,
    ), status


@bp.route("/availability")
def availability():
    """Weekly windows and days off, in the agency's time zone."""
    return _page(_whose())


@bp.route("/availability/windows", methods=["POST"])
def add_window():
    """Publish a weekly window."""
    person = _whose()
    form = WindowForm(prefix="window")
    if form.validate_on_submit():
        try:
            av.add_window(liaison=person, weekday=form.weekday.data, start_time=form.start_time.data,
                          end_time=form.end_time.data, slot_minutes=form.slot_minutes.data, by=current_user)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Window added. Families can book it."), "success")
            return redirect(url_for("staff.availability", liaison=person.id))
    return _page(person, window_form=form, status=422)


@bp.route("/availability/windows/<int:window_id>/delete", methods=["POST"])
def remove_window(window_id: int):
    """Stop offering a weekly window."""
    window = access.get_availability_window_or_404(current_user, window_id)
    liaison_id = window.liaison_id
    av.remove_window(window, by=current_user)
    flash(_("Window removed."), "success")
    return redirect(url_for("staff.availability", liaison=liaison_id))


@bp.route("/availability/exceptions", methods=["POST"])
def add_exception():
    """Add a day (or part of one) off."""
    person = _whose()
    form = ExceptionForm(prefix="exception")
    if form.validate_on_submit():
        try:
            av.add_exception(liaison=person, day=form.day.data, start_time=form.start_time.data,
                             end_time=form.end_time.data, reason=form.reason.data or "", by=current_user)
        except ServiceError as exc:
            show_error(form, exc)
        else:
            flash(_("Day off saved."), "success")
            return redirect(url_for("staff.availability", liaison=person.id))
    return _page(person, exception_form=form, status=422)


@bp.route("/availability/exceptions/<int:exception_id>/delete", methods=["POST"])
def remove_exception(exception_id: int):
    """Remove a day off."""
    exception = access.get_availability_exception_or_404(current_user, exception_id)
    liaison_id = exception.liaison_id
    av.remove_exception(exception, by=current_user)
    flash(_("Day off removed."), "success")
    return redirect(url_for("staff.availability", liaison=liaison_id))


APPOINTMENT_VIEWS = ("upcoming", "requested", "past", "all")


@bp.route("/appointments")
def appointments():
    """Appointments and callback requests on the staff member's cases."""
    show = request.args.get("show", "upcoming")
    show = show if show in APPOINTMENT_VIEWS else "upcoming"
    now = utcnow()
    stmt = access.appointments_visible_to(current_user).options(
        selectinload(Appointment.case), selectinload(Appointment.family_member), selectinload(Appointment.liaison))
    if show == "upcoming":
        stmt = stmt.where(Appointment.status.in_(("booked", "confirmed")),
                          or_(Appointment.starts_at >= now - timedelta(hours=12), Appointment.starts_at.is_(None)))
        stmt = stmt.order_by(Appointment.starts_at.asc())
    elif show == "requested":
        stmt = stmt.where(Appointment.status == "requested").order_by(Appointment.created_at.asc())
    elif show == "past":
        stmt = stmt.where(Appointment.starts_at < now).order_by(Appointment.starts_at.desc())
    else:
        stmt = stmt.order_by(Appointment.created_at.desc())
    rows = db.session.scalars(stmt.limit(200)).all()
    return render_template("staff/appointments.html", appointments=rows, show=show, now=now,
                           views=APPOINTMENT_VIEWS)


def _act(appointment_id: int, action, done: str):
    appointment = access.get_appointment_or_404(current_user, appointment_id)
    try:
        action(appointment, by=current_user)
    except ServiceError as exc:
        flash_error(exc)
    else:
        flash(done, "success")
    return redirect(safe_next(request.form.get("next"), url_for("staff.appointments", show="all")))


@bp.route("/appointments/<int:appointment_id>/confirm", methods=["POST"])
def confirm_appointment(appointment_id: int):
    """Confirm a booking or a callback request."""
    return _act(appointment_id, av.confirm_appointment, _("Confirmed."))


@bp.route("/appointments/<int:appointment_id>/complete", methods=["POST"])
def complete_appointment(appointment_id: int):
    """Mark an appointment held: it goes into the contact log."""
    return _act(appointment_id, av.complete_appointment, _("Marked as held. It is in the contact log."))


@bp.route("/appointments/<int:appointment_id>/no-show", methods=["POST"])
def no_show_appointment(appointment_id: int):
    """Mark an appointment missed: the family is flagged until someone reaches them."""
    return _act(appointment_id, av.mark_no_show, _("Marked as missed. The family is flagged for contact."))
