"""Defence in depth for logs: phone numbers, email addresses and link tokens are scrubbed from every log record.

The code is written so that it never logs them (DESIGN.md §5); this catches the day a library or a careless line
does. Two layers: a LogRecord factory scrubs each message as it is created (every handler, pytest's caplog
included), and ScrubbingFormatter scrubs the final text, tracebacks included, on the app's own handlers.
"""
from __future__ import annotations

import logging
import re

from flask import Flask

PHONE_MARK = "[phone]"
EMAIL_MARK = "[email]"
TOKEN_MARK = "[token]"  # noqa: S105  (a placeholder, not a secret)

# E.164 (+13125550123), and national forms such as (312) 555-0123, 312-555-0123, 312.555.0123, 3125550123.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d[\d\s().-]{6,18}\d|\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}|\d{10,11})(?![\w])"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Invite and tip links carry a secret in the path; an access log line must not hand it to whoever reads the logs.
_LINK_TOKEN = re.compile(r"(?<=/)(invite|tip|tips|t)/[A-Za-z0-9_-]{8,}")
_LONG_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
# PostgreSQL repeats values in its error details ("Failing row contains (...)", "Key (email)=(...) already
# exists"); the engine hides SQL parameters (hide_parameters), this hides what the server itself says. A failing
# row can hold a lead's text over many lines: it ends where the error text ends (its SQL, a chained exception).
_PG_ROW = re.compile(r"(Failing row contains )\(.*?\)(?=\.?\s*(?:\n\[SQL: |\n\nThe above exception|"
                     r"\n\nDuring handling|\Z))", re.S)
_PG_KEY = re.compile(r"(Key \([^)\n]*\)=)\(.*?\)(?= already exists| is not present| is still referenced| conflicts)",
                     re.S)
ROW_MARK = "([row values])"


def scrub(text: str) -> str:
    """The text with phone numbers, email addresses and link tokens replaced by placeholders."""
    if not text:
        return text
    text = _PG_ROW.sub(lambda m: m.group(1) + ROW_MARK, text)
    text = _PG_KEY.sub(lambda m: m.group(1) + ROW_MARK, text)
    text = _LINK_TOKEN.sub(lambda m: f"{m.group(1)}/{TOKEN_MARK}", text)
    text = _LONG_TOKEN.sub(TOKEN_MARK, text)
    text = _EMAIL.sub(EMAIL_MARK, text)
    return _PHONE.sub(PHONE_MARK, text)


class ScrubbingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments and traceback) never holds a phone number or email."""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then scrub."""
        return scrub(super().format(record))


def _scrubbing_factory(base):
    def factory(*args, **kwargs):
        record = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the logger's problem; leave the record as it was
            return record
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    factory._portal_scrubbing = True  # noqa: SLF001  (marks the factory so it is installed once)
    return factory


def install(app: Flask) -> None:
    """Scrub every log record made in this process, and format the app's handlers with ScrubbingFormatter."""
    if not getattr(logging.getLogRecordFactory(), "_portal_scrubbing", False):
        logging.setLogRecordFactory(_scrubbing_factory(logging.getLogRecordFactory()))
    # app.logger is the "portal" logger: its handler (Flask's default) also writes portal.* children's records.
    for handler in app.logger.handlers:
        if not isinstance(handler.formatter, ScrubbingFormatter):
            current = handler.formatter
            handler.setFormatter(ScrubbingFormatter(current._fmt if current else None,  # noqa: SLF001
                                                    current.datefmt if current else None))
