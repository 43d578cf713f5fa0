"""The database refuses a value outside a column's vocabulary, whatever code writes it; NULL passes where allowed."""
from __future__ import annotations

import pytest
from sqlalchemy import CheckConstraint
from sqlalchemy.exc import IntegrityError

from portal import models
from portal.extensions import db as _db
from portal.models import Notification
from portal.models.consent import CONSENT_CHANNELS, CONSENT_EVENTS
from portal.models.messaging import MEDIA_STATUSES
from portal.models.security import CHALLENGE_PURPOSES

from . import factories
from .family_factories import make_appointment, make_lead
from .staff_factories import make_message, make_text

# (table, column) -> the models' tuple it must hold
VOCABULARIES = {
    ("users", "role"): models.ROLES,
    ("users", "language"): models.LANGUAGES,
    ("resources", "language"): models.LANGUAGES,
    ("audit_events", "actor_role"): models.ROLES,
    ("cases", "stage"): models.STAGE_KEYS,
    ("family_members", "language"): models.LANGUAGES,
    ("family_members", "cadence"): models.CADENCES,
    ("family_members", "preferred_channel"): models.CHANNELS,
    ("case_updates", "kind"): models.UPDATE_KINDS,
    ("case_updates", "stage_from"): models.STAGE_KEYS,
    ("case_updates", "stage_to"): models.STAGE_KEYS,
    ("outreach", "channel"): models.CHANNELS,
    ("outreach", "direction"): models.DIRECTIONS,
    ("outreach", "outcome"): models.OUTCOMES,
    ("outreach", "source_type"): models.OUTREACH_SOURCES,
    ("appointments", "kind"): models.APPOINTMENT_KINDS,
    ("appointments", "mode"): models.APPOINTMENT_MODES,
    ("appointments", "status"): models.APPOINTMENT_STATUSES,
    ("leads", "status"): models.LEAD_STATUSES,
    ("notifications", "channel"): models.NOTIFICATION_CHANNELS,
    ("notifications", "language"): models.LANGUAGES,
    ("notifications", "status"): models.OUTBOX_STATUSES,
    ("inbound_sms", "handling"): models.INBOUND_HANDLINGS,
    ("inbound_sms_media", "status"): MEDIA_STATUSES,
    ("notice_links", "item_kind"): models.NOTICE_ITEM_KINDS,
    ("contact_consents", "channel"): CONSENT_CHANNELS,
    ("contact_consents", "event"): CONSENT_EVENTS,
    ("contact_consents", "method"): models.CONSENT_METHODS,
    ("case_messages", "sender"): models.MESSAGE_SENDERS,
    ("case_messages", "channel"): models.MESSAGE_CHANNELS,
    ("webauthn_challenges", "purpose"): CHALLENGE_PURPOSES,
}


def test_every_enumerated_column_has_a_check_built_from_its_vocabulary(db):
    checks = {}
    for table in db.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint):
                assert constraint.name == f"ck_{table.name}_{constraint.sqltext.left.name}"
                checks[(table.name, constraint.sqltext.left.name)] = tuple(constraint.sqltext.right.value)
    assert checks == VOCABULARIES


def _text():
    _user, member, _case = factories.make_family()
    return make_text(member=member)


def _member():
    return factories.make_family()[1]


@pytest.mark.parametrize(("make", "attribute", "value"), [
    (_text, "status", "lost"),
    (_text, "channel", "fax"),
    (_text, "language", "fr"),
    (lambda: factories.make_case(), "stage", "archived"),
    (lambda: factories.make_user(), "role", "root"),
    (_member, "cadence", "daily"),
    (_member, "preferred_channel", "pigeon"),
    (lambda: factories.make_outreach(case=factories.make_case()), "outcome", "maybe"),
    (lambda: factories.make_outreach(case=factories.make_case()), "source_type", "fax"),
    (lambda: make_appointment(case=factories.make_case()), "status", "pending"),
    (lambda: make_lead(case=factories.make_case()), "status", "open"),
    (lambda: factories.make_inbound_sms(), "handling", "spam"),
    (lambda: make_message(case=factories.make_case()), "sender", "bot"),
], ids=lambda p: p if isinstance(p, str) else "")
def test_the_database_refuses_a_value_outside_the_vocabulary(db, make, attribute, value):
    row = make()
    setattr(row, attribute, value)
    with pytest.raises(IntegrityError, match=f"ck_{row.__tablename__}_{attribute}"):
        db.session.commit()
    db.session.rollback()


def test_every_word_of_a_vocabulary_is_accepted(db):
    text = _text()
    for status in models.OUTBOX_STATUSES:
        text.status = status
        db.session.commit()
    for channel in models.NOTIFICATION_CHANNELS:
        text.channel = channel
        db.session.commit()
    case = factories.make_case()
    for stage in models.STAGE_KEYS:
        case.stage = stage
        db.session.commit()
    assert db.session.get(Notification, text.id).channel == models.NOTIFICATION_CHANNELS[-1]


def test_a_nullable_enumerated_column_still_takes_null(db):
    member = _member()
    member.preferred_channel = "sms"
    db.session.commit()
    member.preferred_channel = None
    entry = factories.make_outreach(case=member.case)
    assert entry.source_type is None
    db.session.commit()
    _db.session.refresh(member)
    assert member.preferred_channel is None
