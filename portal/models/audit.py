"""Audit events: who did what to which record, when, from where, with what outcome. Append-only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as OrmSession

from ..extensions import db
from .accounts import ROLES
from .types import UTCDateTime, one_of, utcnow


class AuditEvent(db.Model):
    """One audited action; written only by portal.audit.record and never updated or deleted."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_target", "target_type", "target_id"),
        one_of("actor_role", ROLES),  # the actor's role when they acted
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class AuditImmutableError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


# PostgreSQL refuses UPDATE and DELETE on the table itself, whatever client is used (psql, a bad migration...).
# A row-level trigger: TRUNCATE (the test suite's wipe, an operator's deliberate purge) is a separate privilege.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: UPDATE and DELETE are refused'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
"""

# db.create_all() (tests, first start) installs the trigger too, so the suite runs with it on PostgreSQL.
event.listen(AuditEvent.__table__, "after_create", DDL(APPEND_ONLY_FUNCTION).execute_if(dialect="postgresql"))
event.listen(AuditEvent.__table__, "after_create", DDL(APPEND_ONLY_TRIGGER).execute_if(dialect="postgresql"))


@event.listens_for(OrmSession, "before_flush")
def _refuse_audit_changes(session, _flush_context, _instances) -> None:
    """The ORM refuses to change or delete an audit event on every database, SQLite included."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditImmutableError("audit events are append-only")


@event.listens_for(OrmSession, "do_orm_execute")
def _refuse_bulk_audit_changes(state) -> None:
    """update(AuditEvent) and delete(AuditEvent) statements are refused before they reach the database."""
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditImmutableError("audit events are append-only")
