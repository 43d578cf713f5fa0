"""All models, re-exported so that `from portal.models import Case` works everywhere."""
from . import last_contact  # noqa: F401  (the database keeps the latest contact: installs its triggers)
from .accounts import LANGUAGES, ROLES, STAFF_ROLES, Agency, Invitation, Resource, User
from .audit import AuditEvent
from .cases import CADENCE_DAYS, CADENCES, CHANNELS, UPDATE_KINDS, Case, CaseUpdate, FamilyMember
from .consent import CONSENT_METHODS, GRANT_METHODS, REVOKE_METHODS, ContactConsent
from .contact import (
    ACTIVE_SLOT_STATUSES,
    APPOINTMENT_KINDS,
    APPOINTMENT_MODES,
    APPOINTMENT_STATUSES,
    DIRECTIONS,
    OUTCOMES,
    OUTREACH_SOURCES,
    Appointment,
    AvailabilityException,
    AvailabilityWindow,
    Outreach,
)
from .leads import LEAD_STATUSES, SUBMITTER_STATUS, Lead, LeadAttachment, LeadNote, LeadQuestion, TipLink
from .messaging import (
    FILTERED_ERROR_CODES,
    FILTERED_WHERE,
    INBOUND_HANDLINGS,
    MESSAGE_CHANNELS,
    MESSAGE_SENDERS,
    NOTIFICATION_CHANNELS,
    OUTBOX_STATUSES,
    CaseMessage,
    InboundSms,
    InboundSmsMedia,
    Notification,
)
from .notices import NOTICE_ITEM_KINDS, NoticeLink
from .security import MfaRecoveryCode, Passkey, WebauthnChallenge
from .stages import STAGE_KEYS, STAGES, STAGES_BY_KEY, Stage, stage_info
from .types import UTCDateTime, utcnow

__all__ = [
    "ACTIVE_SLOT_STATUSES", "APPOINTMENT_KINDS", "APPOINTMENT_MODES", "APPOINTMENT_STATUSES", "CADENCES",
    "CADENCE_DAYS", "CHANNELS", "CONSENT_METHODS", "DIRECTIONS", "FILTERED_ERROR_CODES", "FILTERED_WHERE",
    "GRANT_METHODS", "INBOUND_HANDLINGS", "LANGUAGES", "LEAD_STATUSES", "MESSAGE_CHANNELS", "MESSAGE_SENDERS",
    "NOTICE_ITEM_KINDS", "NOTIFICATION_CHANNELS", "OUTBOX_STATUSES", "OUTCOMES", "OUTREACH_SOURCES",
    "REVOKE_METHODS", "ROLES", "STAFF_ROLES", "STAGES", "STAGES_BY_KEY", "STAGE_KEYS", "SUBMITTER_STATUS",
    "UPDATE_KINDS", "Agency", "Appointment", "AuditEvent", "AvailabilityException", "AvailabilityWindow", "Case",
    "CaseMessage", "CaseUpdate", "ContactConsent", "FamilyMember", "InboundSms", "InboundSmsMedia", "Invitation",
    "Lead", "LeadAttachment", "LeadNote", "LeadQuestion", "MfaRecoveryCode", "NoticeLink", "Notification",
    "Outreach", "Passkey", "Resource", "Stage", "TipLink", "UTCDateTime", "User", "WebauthnChallenge", "stage_info",
    "utcnow",
]
