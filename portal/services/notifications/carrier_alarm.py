"""The agency-wide alarm "carriers are blocking our texts": computed from the outbox, acknowledged by a supervisor.

Three or more texts filtered or blocked by carriers (Twilio 30007, 30034) in the last hour, across the agency, raise
it on the supervisors' and admins' home pages. An acknowledgement keeps it quiet until a blocked text arrives after
it. One statement, through the partial index ix_notifications_carrier_filtered_updated_at.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, text

from ... import audit
from ...extensions import db
from ...models import FILTERED_WHERE, Notification, User, utcnow
from ..agency import get_agency
from . import carrier_codes

WINDOW = timedelta(hours=1)
THRESHOLD = 3  # this many blocked texts in WINDOW raise the alarm


@dataclass(frozen=True)
class CarrierAlarm:
    """Blocked texts of the last hour: how many of each code, and when the latest was."""

    counts: dict[str, int]
    latest: datetime

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def message(self) -> str:
        """What is happening and what to do, in plain words (in the current language)."""
        codes = "; ".join(_("error %(code)s, %(meaning)s", code=code, meaning=carrier_codes.meaning(code))
                          for code in sorted(self.counts))
        blocked = ngettext("%(num)d text blocked in the last hour", "%(num)d texts blocked in the last hour",
                           self.total)
        return _("Phone companies are blocking our texts: %(blocked)s (%(codes)s). Check our texting sign-up with "
                 "Twilio.", blocked=blocked, codes=codes)


def _blocked_since(since: datetime) -> tuple[dict[str, int], datetime | None]:
    rows = db.session.execute(
        select(Notification.error_code, func.count(), func.max(Notification.updated_at))
        .where(text(FILTERED_WHERE), Notification.updated_at > since)
        .group_by(Notification.error_code)
    ).all()
    counts = {code: count for code, count, _latest in rows}
    return counts, max((latest for *_rest, latest in rows), default=None)


def carrier_alarm(*, now: datetime | None = None) -> CarrierAlarm | None:
    """The alarm if it is raised now: enough blocked texts in the last hour, some after the last acknowledgement."""
    now = now or utcnow()
    counts, latest = _blocked_since(now - WINDOW)
    if latest is None or sum(counts.values()) < THRESHOLD:
        return None
    acknowledged = get_agency().carrier_alarm_acknowledged_at
    if acknowledged is not None and latest <= acknowledged:
        return None
    return CarrierAlarm(counts=counts, latest=latest)


def acknowledge_carrier_alarm(*, by: User, now: datetime | None = None) -> None:
    """A supervisor or admin saw the alarm: keep it quiet until a blocked text arrives after now (audited)."""
    now = now or utcnow()
    agency = get_agency()
    alarm = carrier_alarm(now=now)
    agency.carrier_alarm_acknowledged_at = now
    db.session.flush()
    audit.record("carrier_alarm.acknowledge", agency, actor=by, blocked=alarm.total if alarm else 0,
                 codes=sorted(alarm.counts) if alarm else [])
