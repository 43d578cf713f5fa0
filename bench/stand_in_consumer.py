"""A stand-in for a huey consumer, used only until `flask worker` is merged: it calls portal.tasks.deliver_message.

    python -m bench.stand_in_consumer --kind bench

It is not the production worker (no huey, no retries sweep): it exists so that scale_out.py's counting and
duplicate check can be exercised today, and it shows that deliver_message's claim holds with two processes.
"""
from __future__ import annotations

import argparse
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="bench", help="only texts of this kind")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="stop after this long with nothing to do")
    args = parser.parse_args(argv)
    from sqlalchemy import select

    from portal.extensions import db
    from portal.models import OutboxMessage
    from portal.tasks import deliver_message

    from .worker_app import create

    app = create()
    idle_since = time.monotonic()
    with app.app_context():
        while time.monotonic() - idle_since < args.idle_seconds:
            ids = db.session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.kind == args.kind, OutboxMessage.status == "queued").order_by(OutboxMessage.id)
                .limit(50)).all()
            db.session.rollback()
            if not ids:
                time.sleep(0.2)
                continue
            idle_since = time.monotonic()
            for outbox_id in ids:
                deliver_message(outbox_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
