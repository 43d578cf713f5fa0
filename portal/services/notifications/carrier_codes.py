"""Every Twilio error code we may get, by name: what it means for staff in plain words, and what we do about it.

Delivery (an error answer from the Messages API) and status callbacks (ErrorCode) both look codes up here, so a
code is handled the same way whichever road it comes by. A code that is not in the table is retried like any
other failure and given up after the normal retries (policy.MAX_ATTEMPTS).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

RETRY = "retry"  # try again later, with the normal backoff
GIVE_UP = "give_up"  # this text will never go through: mark it failed
NOT_TEXTABLE = "not_textable"  # the number cannot get texts (a landline, no such phone): no more texts to it
OPTED_OUT = "opted_out"  # the person replied STOP: nothing more until START
FILTERED = "filtered"  # a carrier blocked our text: a few of these in an hour raise the agency-wide alarm
ACTIONS = (RETRY, GIVE_UP, NOT_TEXTABLE, OPTED_OUT, FILTERED)


@dataclass(frozen=True)
class CarrierCode:
    """One Twilio error code: its name, what it means in plain words and what we do."""

    code: str
    name: str
    meaning: object  # a lazy string, translated when shown
    action: str


def _c(code: int, name: str, meaning, action: str) -> CarrierCode:
    return CarrierCode(str(code), name, meaning, action)


CODES: dict[str, CarrierCode] = {c.code: c for c in (
    # The provider, not the text, is in trouble: try again later.
    _c(20003, "Authentication failed", _l("Twilio did not accept the agency's account details"), RETRY),
    _c(20429, "Too many requests", _l("Twilio asked us to slow down"), RETRY),
    _c(30001, "Queue overflow", _l("Twilio had too many texts waiting"), RETRY),
    _c(30008, "Unknown error", _l("the phone company gave no reason"), RETRY),
    _c(30009, "Missing segment", _l("part of a long text got lost on the way"), RETRY),
    _c(30017, "Carrier network congestion", _l("the phone company's network was busy"), RETRY),
    _c(30022, "A2P 10DLC rate limit exceeded", _l("we sent more texts a second than our registration allows"),
       RETRY),
    _c(30023, "A2P 10DLC daily cap reached", _l("we reached the number of texts our registration allows a day"),
       RETRY),
    _c(30027, "T-Mobile daily limit reached", _l("we reached T-Mobile's daily limit for our number"), RETRY),
    _c(30410, "Provider timeout", _l("the phone company did not answer in time"), RETRY),
    # This one text will not go through; the number itself may be fine.
    _c(21408, "Permission to send to this region not enabled",
       _l("the agency's account may not text that country"), GIVE_UP),
    _c(21601, "Not a valid message-capable number", _l("the number cannot receive texts from us"), GIVE_UP),
    _c(21602, "Message body required", _l("the text was empty"), GIVE_UP),
    _c(21604, "'To' number required", _l("the text had no number to go to"), GIVE_UP),
    _c(21606, "'From' number not message-capable", _l("the agency's own number cannot send texts"), GIVE_UP),
    _c(21617, "Body exceeds the 1600 character limit", _l("the text was too long"), GIVE_UP),
    _c(21621, "'From' number not enabled for MMS", _l("the agency's number cannot send pictures"), GIVE_UP),
    _c(30002, "Account suspended", _l("the agency's Twilio account is suspended"), GIVE_UP),
    _c(30004, "Message blocked", _l("the person or their phone company blocks texts from us"), GIVE_UP),
    _c(30010, "Message price exceeds max price", _l("the text cost more than the agency allows"), GIVE_UP),
    _c(30018, "Sender ID requires pre-registration", _l("that country requires a registered sender"), GIVE_UP),
    _c(30024, "Numeric sender ID not provisioned", _l("the agency's sender is not set up for that carrier"),
       GIVE_UP),
    _c(30032, "Toll-free number not verified", _l("the agency's toll-free number is not verified yet"), GIVE_UP),
    # The number cannot get texts: mark it, flag the case, send nothing more to it.
    _c(21211, "Invalid 'To' phone number", _l("the number is not a real phone number"), NOT_TEXTABLE),
    _c(21614, "'To' number is not a valid mobile number", _l("the number is not a mobile phone"), NOT_TEXTABLE),
    _c(30003, "Unreachable destination handset", _l("the phone is off or out of service"), NOT_TEXTABLE),
    _c(30005, "Unknown destination handset", _l("the number does not exist or is no longer in use"),
       NOT_TEXTABLE),
    _c(30006, "Landline or unreachable carrier", _l("the number is a landline or cannot get texts"),
       NOT_TEXTABLE),
    # The person said STOP.
    _c(21610, "Attempt to send to unsubscribed recipient", _l("the person replied STOP to our texts"), OPTED_OUT),
    # A carrier is filtering the agency's texts.
    _c(30007, "Message filtered", _l("carrier filtering"), FILTERED),
    _c(30034, "Message from an unregistered number", _l("our number is not registered for texting (A2P 10DLC)"),
       FILTERED),
)}

FILTERED_CODES = tuple(sorted(c.code for c in CODES.values() if c.action == FILTERED))
NOT_TEXTABLE_CODES = frozenset(c.code for c in CODES.values() if c.action == NOT_TEXTABLE)
OPTED_OUT_CODES = frozenset(c.code for c in CODES.values() if c.action == OPTED_OUT)


def lookup(code: str | int | None) -> CarrierCode | None:
    """The table's entry for a Twilio error code, or None for an unknown one (or none)."""
    return CODES.get(str(code).strip()) if code not in (None, "") else None


def action_for(code: str | int | None, *, retryable: bool = True) -> str:
    """What to do after an error with this code: the table's action; an unknown code retries (until the cap).

    retryable is the client's own judgement for errors with no Twilio code (network, timeout, configuration).
    """
    entry = lookup(code)
    if entry is not None:
        return entry.action
    if code is not None and str(code).isdigit() and len(str(code)) == 5:
        return RETRY  # a Twilio code we do not know: the normal retries, then give up
    return RETRY if retryable else GIVE_UP


def meaning(code: str | int | None) -> str:
    """What the code means, in plain words for staff (in the current language)."""
    entry = lookup(code)
    return str(entry.meaning) if entry is not None else str(_l("an error the phone company did not explain"))
