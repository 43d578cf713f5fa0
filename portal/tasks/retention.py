"""The retention run: purge what is due, one case per transaction, so a run stopped halfway keeps what it did
and a case that fails (a file that cannot be removed) is left whole for the next run."""
from __future__ import annotations

import logging
from datetime import datetime

from ..extensions import db
from ..models import utcnow
from ..services import retention

log = logging.getLogger(__name__)


def purge_due(plans: list[retention.CasePurge] | None = None, *,
              now: datetime | None = None) -> list[retention.CasePurge]:
    """Purge every case of the plan (the current one if none is given); returns what was purged, case by case."""
    now = now or utcnow()
    plans = retention.plan(now) if plans is None else plans
    db.session.commit()  # the plan may have created the agency row; nothing else was written
    done = []
    for planned in plans:
        try:
            purged = retention.purge_case(planned.case_id, now=now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("retention: case id=%s not purged; the next run tries again", planned.case_id)
            continue
        if purged is not None:
            done.append(purged)
    if done:
        log.info("retention: purged %d cases, %d records", len(done), sum(p.total for p in done))
    return done
