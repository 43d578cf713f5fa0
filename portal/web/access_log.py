"""gunicorn's logger with the portal's log safety: no link token, and nothing of a tipster, in any line it writes.

    gunicorn --logger-class portal.web.access_log.RedactingLogger --access-logfile - 'portal:create_app()'

The access log's values (request line, path, query, referrer, headers) are scrubbed like every portal log
record (portal/logsafety.py: /t/<token>, /invite/<token> and /n/<token> become /t/[token]); on the anonymous
tip pages the client's address, browser name, referrer and every request header or environ value are left out
("-"), so the access log holds no more of a tipster than the database does. gunicorn's error log is scrubbed
too (messages and tracebacks).
"""
from __future__ import annotations

from gunicorn.glogging import Logger

from ..logsafety import RedactingFilter, is_tip_path, scrub

# Atoms that say who asked (the address, the browser, where they came from): never written for a tip page.
_WHO = ("h", "a", "f")


def redact_atoms(atoms: dict) -> dict:
    """gunicorn's access-log atoms, scrubbed; on a tip page without the client's address, browser or headers."""
    tip_page = is_tip_path(atoms.get("U"))
    clean = {}
    for key, value in atoms.items():
        if tip_page and (key in _WHO or (key.startswith("{") and key[-2:] in ("}i", "}e"))):
            clean[key] = "-"
        elif isinstance(value, str) and key != "t":
            clean[key] = scrub(value)
        else:
            clean[key] = value
    return clean


class RedactingLogger(Logger):
    """gunicorn.glogging.Logger whose access lines go through redact_atoms and whose error log is scrubbed."""

    def atoms(self, resp, req, environ, request_time):
        """The standard atoms, redacted."""
        return redact_atoms(super().atoms(resp, req, environ, request_time))

    def setup(self, cfg):
        """gunicorn's own setup, plus the scrubbing filter on its error and access loggers (once)."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactingFilter) for f in log.filters):
                log.addFilter(RedactingFilter())
