"""Supervisor reports: four charts, each with its numbers in a table beside it, a date range, and CSV exports."""
from datetime import date

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import access, audit
from ..display import local_today
from ..models import utcnow
from ..services import reports as rep
from ..services.agency import get_agency
from ..services.exports import to_csv
from . import bp

REPORTS = ("compliance", "first_contact", "overdue", "leads")


def csv_response(filename: str, header, rows) -> Response:
    """A CSV download (UTF-8 with BOM, formulas neutralized)."""
    response = Response(to_csv(header, rows), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _range():
    agency = get_agency()
    now = utcnow()
    today = local_today(now, agency.timezone)
    return rep.report_range(start=_date_arg("start"), end=_date_arg("end"), tz=agency.timezone, today=today), now


def _dash(value):
    return "—" if value is None else value


def _compliance(rng, now, agency) -> dict:
    rows = rep.contact_compliance(rng, now=now, agency=agency)
    return {
        "title": _("Contact compliance per liaison"),
        "header": [_("Liaison"), _("Contacts due"), _("On time"), _("Late or missed"), _("Share on time (%)")],
        "rows": [[r.liaison_name, r.due, r.on_time, r.missed, _dash(r.percent)] for r in rows],
        "chart": {"type": "bar", "labels": [r.liaison_name for r in rows], "max": 100,
                  "datasets": [{"label": _("Share on time (%)"), "data": [r.percent for r in rows]}]},
    }


def _first_contact(rng, now, agency) -> dict:
    rows = rep.first_contact_times(rng, now=now)
    all_hours = [h for row in rows for h in row.hours]
    return {
        "title": _("Time from opening to first contact"),
        "summary": _("Median for all cases opened in the range: %(h)s hours.",
                     h=_dash(rep.overall_median(all_hours))),
        "header": [_("Liaison"), _("Cases opened"), _("Median hours to first contact"), _("Still waiting")],
        "rows": [[r.liaison_name, r.opened, _dash(r.median_hours), r.waiting] for r in rows],
        "chart": {"type": "bar", "labels": [r.liaison_name for r in rows],
                  "datasets": [{"label": _("Median hours to first contact"),
                                "data": [r.median_hours for r in rows]}]},
    }


def _overdue(rng, now, agency) -> dict:
    overdue = rep.overdue_over_time(rng, now=now, agency=agency)
    return {
        "title": _("Families overdue for contact over time"),
        "header": [_("Date"), _("Families overdue")],
        "rows": [[day.isoformat(), count] for day, count in overdue],
        "chart": {"type": "line", "labels": [day.isoformat() for day, _c in overdue],
                  "datasets": [{"label": _("Families overdue"), "data": [c for _d, c in overdue]}]},
    }


def _leads(rng, now, agency) -> dict:
    leads = rep.leads_per_week(rng, now=now)
    all_reviews = [h for week in leads for h in week.review_hours]
    return {
        "title": _("Leads per week and time to review"),
        "summary": _("Median hours to review for all leads in the range: %(h)s.",
                     h=_dash(rep.overall_median(all_reviews))),
        "header": [_("Week starting"), _("Leads received"), _("Reviewed"), _("Median hours to review")],
        "rows": [[w.week_start.isoformat(), w.received, w.reviewed, _dash(w.median_review_hours)] for w in leads],
        "chart": {"type": "bar", "labels": [w.week_start.isoformat() for w in leads],
                  "datasets": [{"label": _("Leads received"), "data": [w.received for w in leads]},
                               {"label": _("Median hours to review"), "type": "line", "yAxisID": "y1",
                                "data": [w.median_review_hours for w in leads]}]},
    }


# Each report: its title, header, rows and chart spec, built only when asked for (a CSV needs one).
BUILDERS = {"compliance": _compliance, "first_contact": _first_contact, "overdue": _overdue, "leads": _leads}


def _table(name: str, rng, now) -> dict:
    return BUILDERS[name](rng, now, get_agency())


@bp.route("/reports")
def reports():
    """The supervisors' reports page."""
    access.require_supervisor(current_user)
    rng, now = _range()
    tables = {name: _table(name, rng, now) for name in REPORTS}
    audit.record("report.view", None, actor=current_user, start=rng.start.isoformat(), end=rng.end.isoformat())
    charts = {key: value["chart"] for key, value in tables.items()}
    return render_template("staff/reports.html", rng=rng, tables=tables, charts=charts, order=REPORTS)


@bp.route("/reports/<name>.csv")
def report_csv(name: str):
    """One report as CSV, for the same date range."""
    access.require_supervisor(current_user)
    if name not in REPORTS:
        abort(404)
    rng, now = _range()
    table = _table(name, rng, now)
    audit.record("report.export", None, actor=current_user, report=name, start=rng.start.isoformat(),
                 end=rng.end.isoformat())
    return csv_response(f"{name}_{rng.start.isoformat()}_{rng.end.isoformat()}.csv", table["header"], table["rows"])
