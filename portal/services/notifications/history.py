"""What texts leave in the contact history: a system Outreach entry per text sent or received."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from ...models import CaseMessage, FamilyMember, InboundSms, Outreach


def add_sent_outreach(session: Session, *, outbox_id: int, case_id: int | None, family_member_id: int | None,
                      at: datetime, channel: str = "sms") -> None:
    """Log one outbound text or email in its case's contact history (once, when it first counts as sent)."""
    if case_id is None:  # e.g. a HELP reply to a number no case knows
        return
    # A plain INSERT (no unit of work): this runs once for every text a worker sends.
    session.execute(insert(Outreach.__table__).values(
        # source_type "sms" names the outbox row (notifications), whatever its channel.
        case_id=case_id, family_member_id=family_member_id, channel=channel, direction="outbound",
        outcome="message_sent", occurred_at=at, is_system=True, source_type="sms", source_id=outbox_id, notes=""))


def add_to_conversation(session: Session, inbound: InboundSms, member: FamilyMember) -> CaseMessage:
    """Put a family member's text into their case conversation and contact history."""
    inbound.handling = "conversation"
    inbound.family_member_id = member.id
    inbound.case_id = member.case_id
    message = CaseMessage(case_id=member.case_id, sender="family", family_member_id=member.id, channel="sms",
                          body=inbound.body, inbound_sms_id=inbound.id, created_at=inbound.received_at)
    session.add(message)
    session.add(Outreach(case_id=member.case_id, family_member_id=member.id, channel="sms", direction="inbound",
                         outcome="message_received", occurred_at=inbound.received_at, is_system=True,
                         source_type="inbound_sms", source_id=inbound.id, notes=""))
    return message
