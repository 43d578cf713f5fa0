"""Notifications (texts and email): the outbox, its state machine and the texting rules.

outbox.py    render a text in the recipient's language and write it in the caller's transaction
email.py     the same for email, and queue_family_notice: one notice on each channel the member chose
states.py    the one state machine every channel follows
status.py    the provider's status callbacks (forward only, idempotent)
consent.py   opt-out and opt-in by number, numbers that cannot get texts
inbound.py   texts people send us: keywords, replies into the conversation, the unmatched inbox
mms.py       pictures texted to us: recorded by the webhook, then a lead (one case) or held for staff
history.py   what notifications leave in the contact history
policy.py    the texting rules in numbers: daytime window, quiet hours, retries
carrier_codes.py  every Twilio error code by name: plain words for staff and what we do (retry, give up, ...)
carrier_alarm.py  "carriers are blocking our texts": the agency-wide alarm and its acknowledgement
redaction.py one-time link tokens out of a text's stored body once it is sent (or never will be)

Delivery (claim, send through the channel's provider client, record every outcome, the every-minute sweep) is a
job with its own database session: portal/tasks/delivery.py.
"""
