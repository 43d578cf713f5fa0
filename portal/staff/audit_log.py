"""The audit log for supervisors and admins: filter, page through, export as CSV (the export is audited too)."""
import json
from datetime import date

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from .. import access, audit
from ..display import csv_time
from ..extensions import db
from ..services.agency import get_agency
from ..services.audit_log import AuditFilters, audit_choices, audit_query
from . import bp
from .reports import csv_response
from .routes import _int_arg

PAGE_SIZE = 100
EXPORT_LIMIT = 100_000


def _filters() -> AuditFilters:
    def day(name):
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return None

    args = request.args
    return AuditFilters(actor=args.get("actor", "")[:120], action=args.get("action", "")[:60],
                        target_type=args.get("target_type", "")[:40], target_id=args.get("target_id", "")[:40],
                        outcome=args.get("outcome", "")[:16], start=day("start"), end=day("end"))


@bp.route("/audit")
def audit_log():
    """Every audited action, newest first, with filters."""
    access.require_supervisor(current_user)
    filters = _filters()
    tz = get_agency().timezone
    stmt = audit_query(filters, tz=tz)
    page = max(_int_arg("page") or 1, 1)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.execute(stmt.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return render_template("staff/audit_log.html", rows=rows, filters=filters, choices=audit_choices(),
                           page=page, pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), total=total)


@bp.route("/audit.csv")
def audit_csv():
    """The filtered audit log as CSV, in the agency's time zone."""
    access.require_supervisor(current_user)
    filters = _filters()
    timezone = get_agency().timezone
    rows = db.session.execute(audit_query(filters, tz=timezone).limit(EXPORT_LIMIT)).all()
    audit.record("audit.export", None, actor=current_user, rows=len(rows),
                 filters={k: str(v) for k, v in vars(filters).items() if v})
    header = [_("When"), _("Who"), _("Email"), _("Role"), _("Action"), _("Record type"), _("Record id"),
              _("Outcome"), _("IP address"), _("Details")]
    body = [[csv_time(event.occurred_at, timezone), user.name if user else "",
             user.email if user else "", event.actor_role or "", event.action, event.target_type or "",
             event.target_id or "", event.outcome, event.ip or "",
             json.dumps(event.details or {}, ensure_ascii=False, sort_keys=True)] for event, user in rows]
    return csv_response("audit_log.csv", header, body)
