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
# Invite, tip and one-time notice links carry a secret in the path (the url rules /t/<token>,
# /invite/<token> and /n/<token>, the one-time link a text carries to a member without an account): the whole
# path segment after them is hidden, whatever its length or characters (a mistyped or cut-off link is part of
# the real one), also when it is percent-encoded inside another address (?next=%2Finvite%2F...). tests/
# test_tips_no_trace_logs.py checks every url rule with a <token> is covered.
TOKEN_PATH_PREFIXES = ("t", "invite", "n")
NOTICE_PATH_PREFIX = "/n/"
_LINK_TOKEN = re.compile(r"(?<=/)(" + "|".join(TOKEN_PATH_PREFIXES) + r")/[^/?#&\s\"'<>\\]+")
_ENCODED_LINK_TOKEN = re.compile(r"(?<=%2F)(" + "|".join(TOKEN_PATH_PREFIXES) + r")%2F[^/?#&\s\"'<>%]+",
                                 re.IGNORECASE)
_OTHER_LINK_TOKEN = re.compile(r"(?<=/)(tip|tips)/[A-Za-z0-9_-]{8,}")  # an older /tip/<token> spelling
# The anonymous tip pages (web/urls.py reads these): their requests may not leave the visitor's address either.
TIP_PATH_PREFIXES = ("/t/", "/tip")
_ANSI = r"(?:\x1b\[[0-9;]*m)*"
# werkzeug's request line: 127.0.0.1 - - [03/Dec/2026 18:00:00] "GET /t/... HTTP/1.1" 200 - (maybe coloured)
_WERKZEUG_TIP_LINE = re.compile(r'^(\S+)( - - \[[^\]]*\] "' + _ANSI + r'[A-Z]+ (?:'
                                + "|".join(re.escape(p) for p in TIP_PATH_PREFIXES) + r'))')
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
    text = _ENCODED_LINK_TOKEN.sub(lambda m: f"{m.group(1)}%2F{TOKEN_MARK}", text)
    text = _OTHER_LINK_TOKEN.sub(lambda m: f"{m.group(1)}/{TOKEN_MARK}", text)
    text = _LONG_TOKEN.sub(TOKEN_MARK, text)
    text = _EMAIL.sub(EMAIL_MARK, text)
    return _PHONE.sub(PHONE_MARK, text)


class ScrubbingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments and traceback) never holds a phone number or email."""

    def format(self, record: logging.LogRecord) -> str:
        """Format as usual, then scrub."""
        return scrub(super().format(record))


def is_tip_path(path: str | None) -> bool:
    """Whether an address is one of the anonymous tip pages (known or not), by its path alone."""
    return bool(path) and path.startswith(TIP_PATH_PREFIXES)


_TRACE_FORMATTER = logging.Formatter()


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message, traceback and stack scrubbed, for every handler and formatter that writes it.

    The traceback is formatted here, once, and kept as exc_text: logging's Formatter uses exc_text when it is set,
    so an exception's message (which may quote an address or a number) is scrubbed in every log file too."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string is the logger's problem; leave the message as it was
        message = None
    if message is not None:
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(_TRACE_FORMATTER.formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """A logger filter: scrubs each record (scrub_record); on werkzeug's request lines for the tip pages it also
    drops the client's address. Installed on werkzeug's logger (`flask run`, `make run`) by install()."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub the record in place; never drops one."""
        scrub_record(record)
        message = record.getMessage()
        anonymous = _WERKZEUG_TIP_LINE.sub(r"-\2", message, count=1)
        if anonymous != message:
            record.msg, record.args = anonymous, None
        return True


def _scrubbing_factory(base):
    def factory(*args, **kwargs):
        return scrub_record(base(*args, **kwargs))

    factory._portal_scrubbing = True  # noqa: SLF001  (marks the factory so it is installed once)
    return factory


def install_record_factory() -> None:
    """Scrub every log record made in this process from now on (once, however often it is called)."""
    if not getattr(logging.getLogRecordFactory(), "_portal_scrubbing", False):
        logging.setLogRecordFactory(_scrubbing_factory(logging.getLogRecordFactory()))


def install(app: Flask) -> None:
    """Scrub every log record made in this process, filter werkzeug's request log (the development server's), and
    format the app's handlers with ScrubbingFormatter."""
    install_record_factory()
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactingFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactingFilter())
    # app.logger is the "portal" logger: its handler (Flask's default) also writes portal.* children's records.
    for handler in app.logger.handlers:
        if not isinstance(handler.formatter, ScrubbingFormatter):
            current = handler.formatter
            handler.setFormatter(ScrubbingFormatter(current._fmt if current else None,  # noqa: SLF001
                                                    current.datefmt if current else None))
