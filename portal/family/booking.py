"""Booking a call with the liaison: open slots in the family's time zone, callbacks, changes, calendar files."""
from datetime import UTC, datetime
from itertools import groupby

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from .. import access
from ..auth.forms import EmptyForm
from ..errors import Conflict, ServiceError
from ..extensions import db
from ..services import appointments as appts
from ..web.errors import flash_error, show_error
from . import bp
from .forms import BookForm, CallbackForm, RescheduleForm
from .routes import case_and_member

SLOT_FORMAT = "%Y-%m-%dT%H:%MZ"


def _slot_value(slot: appts.Slot) -> str:
    return slot.starts_at.astimezone(UTC).strftime(SLOT_FORMAT)


def _parse_slot(value: str | None) -> datetime | None:
    try:
        return datetime.strptime(value or "", SLOT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _days(slots: list[appts.Slot]):
    """Open slots grouped by the day they fall on in the viewer's time zone."""
    zone = get_timezone()
    return [(day, list(group)) for day, group in groupby(slots, key=lambda s: s.starts_at.astimezone(zone).date())]


def _with_slots(form, liaison_id):
    slots = appts.open_slots(liaison_id)
    form.start.choices = [(_slot_value(s), _slot_value(s)) for s in slots]
    return slots


@bp.route("/my/cases/<int:case_id>/book", methods=["GET", "POST"])
def booking(case_id: int):
    """Upcoming calls and the liaison's open times for the next 14 days; book one."""
    case, member = case_and_member(case_id)
    form = BookForm()
    slots = _with_slots(form, case.liaison_id)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            starts_at = _parse_slot(form.start.data)
            try:
                if starts_at is None:
                    raise ServiceError(_("Choose a time."))
                appointment = appts.book_slot(case=case, member=member, starts_at=starts_at, mode=form.mode.data,
                                                reason=form.reason.data or "", actor=current_user)
            except ServiceError as exc:
                db.session.rollback()
                status = 409 if isinstance(exc, Conflict) else 422
                show_error(form, exc)
                form.start.data = None
                slots = _with_slots(form, case.liaison_id)
            else:
                flash(_("Your call is booked. We sent you a confirmation."), "success")
                return redirect(url_for("family.appointment", appointment_id=appointment.id))
    return render_template("family/booking.html", case=case, member=member, form=form, days=_days(slots),
                           value=_slot_value, upcoming=appts.upcoming_for(member)), status


@bp.route("/my/cases/<int:case_id>/callback", methods=["GET", "POST"])
def callback(case_id: int):
    """Ask the liaison to call back at a time that suits (e.g. weekday evenings)."""
    case, member = case_and_member(case_id)
    form = CallbackForm()
    if form.validate_on_submit():
        try:
            appointment = appts.request_callback(case=case, member=member, window=form.window.data,
                                                   mode=form.mode.data, reason=form.reason.data or "",
                                                   other_times=form.other_times.data or "", actor=current_user)
        except ServiceError as exc:
            db.session.rollback()
            show_error(form, exc)
        else:
            flash(_("Thank you. Your liaison will call you back and confirm the time."), "success")
            return redirect(url_for("family.appointment", appointment_id=appointment.id))
    status = 422 if request.method == "POST" else 200
    return render_template("family/callback.html", case=case, form=form), status


@bp.route("/my/appointments/<int:appointment_id>")
def appointment(appointment_id: int):
    """One call: when, how, with whom; add it to a calendar, change it or cancel it."""
    appointment = access.get_appointment_or_404(current_user, appointment_id)
    return render_template("family/appointment.html", appointment=appointment, button_form=EmptyForm())


@bp.route("/my/appointments/<int:appointment_id>/calendar.ics")
def appointment_ics(appointment_id: int):
    """The call as a calendar file for the phone's calendar."""
    appointment = access.get_appointment_or_404(current_user, appointment_id)
    if appointment.starts_at is None:
        return redirect(url_for("family.appointment", appointment_id=appointment.id))
    body = appts.appointment_ics(appointment, language=str(get_locale() or "en"))
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="call-{appointment.id}.ics"',
        "X-Content-Type-Options": "nosniff",
    })


@bp.route("/my/appointments/<int:appointment_id>/reschedule", methods=["GET", "POST"])
def reschedule(appointment_id: int):
    """Move a booked call to another open time."""
    appointment = access.get_appointment_or_404(current_user, appointment_id)
    if appointment.status not in ("booked", "confirmed") or appointment.kind != "slot":
        flash(_("This call can no longer be changed. You can book a new one."), "error")
        return redirect(url_for("family.appointment", appointment_id=appointment.id))
    form = RescheduleForm()
    slots = _with_slots(form, appointment.liaison_id)
    status = 200
    if request.method == "POST":
        status = 422
        starts_at = _parse_slot(form.start.data) if form.validate_on_submit() else None
        if starts_at is not None:
            try:
                new = appts.reschedule_appointment(appointment=appointment, starts_at=starts_at, actor=current_user)
            except ServiceError as exc:
                db.session.rollback()
                status = 409 if isinstance(exc, Conflict) else 422
                show_error(form, exc)
                appointment = access.get_appointment_or_404(current_user, appointment_id)
                form.start.data = None
                slots = _with_slots(form, appointment.liaison_id)
            else:
                flash(_("Your call was moved. We sent you a confirmation."), "success")
                return redirect(url_for("family.appointment", appointment_id=new.id))
    return render_template("family/reschedule.html", appointment=appointment, form=form, days=_days(slots),
                           value=_slot_value), status


@bp.route("/my/appointments/<int:appointment_id>/cancel", methods=["POST"])
def cancel(appointment_id: int):
    """Cancel a call or a callback request."""
    appointment = access.get_appointment_or_404(current_user, appointment_id)
    if not EmptyForm().validate_on_submit():
        flash(_("The page was open too long. Please try again."), "error")
        return redirect(url_for("family.appointment", appointment_id=appointment.id))
    try:
        appts.cancel_appointment(appointment=appointment, actor=current_user)
    except ServiceError as exc:
        db.session.rollback()
        flash_error(exc)
    else:
        flash(_("Your call is cancelled."), "success")
    return redirect(url_for("family.booking", case_id=appointment.case_id))
