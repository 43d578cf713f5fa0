"""Twilio calls these: every request must carry a valid X-Twilio-Signature for PUBLIC_BASE_URL + its path."""
from __future__ import annotations

import logging

from flask import Response, abort, current_app, request
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator

from ..extensions import db
from ..services.notifications.inbound import receive_inbound_sms
from ..services.notifications.mms import media_in_form
from ..services.notifications.status import apply_status_callback
from ..web.security import rate_limit_blueprint
from . import bp

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url() -> str:
    """The URL Twilio signed: the configured public address (not the one a proxy hands us) plus path and query."""
    url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def valid_signature(token: str | None, url: str, params, signature: str | None) -> bool:
    """Whether a request carries Twilio's signature of this URL and these form fields."""
    if not token or not signature:
        return False
    return RequestValidator(token).validate(url, params, signature)


def _signed() -> bool:
    return valid_signature(current_app.config.get("TWILIO_AUTH_TOKEN"), public_url(), request.form,
                           request.headers.get("X-Twilio-Signature"))


@bp.before_request
def _require_twilio_signature():
    """A missing or wrong signature answers 403 before anything is read or written."""
    if not _signed():
        log.warning("webhook refused: missing or invalid signature on %s", request.path)
        abort(403)


# Only requests without a valid signature count towards the named "webhook" limit: Twilio is never slowed down.
rate_limit_blueprint(bp, "webhook", exempt_when=_signed)


@bp.route("/twilio/status", methods=["POST"])
def status_callback():
    """A text's delivery status (?outbox_id= names it); only moves forward, so repeats change nothing."""
    outbox_id = request.args.get("outbox_id", type=int)
    if outbox_id is None:
        abort(400)
    apply_status_callback(
        outbox_id=outbox_id,
        provider_status=request.form.get("MessageStatus") or request.form.get("SmsStatus"),
        provider_sid=request.form.get("MessageSid") or request.form.get("SmsSid"),
        error_code=request.form.get("ErrorCode") or None,
    )
    return Response(status=204)


@bp.route("/twilio/sms", methods=["POST"])
def inbound_sms():
    """A text sent to our number: a consent keyword, a reply for the case conversation, or an unknown sender.

    Its pictures (MMS) are only recorded here; a job fetches them after this commits (tasks/media.py)."""
    message_sid = request.form.get("MessageSid") or request.form.get("SmsSid")
    sender = request.form.get("From")
    if not message_sid or not sender:
        abort(400)
    try:
        with db.session.begin_nested():  # the duplicate shows at its flush; the request's commit saves the rest
            receive_inbound_sms(message_sid=message_sid, from_number=sender, to_number=request.form.get("To", ""),
                                body=request.form.get("Body", ""), media=media_in_form(request.form))
    except IntegrityError:  # the same MessageSid arrived twice at once: the other request handled it
        db.session.rollback()
    return Response(EMPTY_TWIML, mimetype="text/xml")
