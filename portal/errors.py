"""The one error the portal's rules raise when they cannot do what was asked (services and uploads alike)."""
from __future__ import annotations


class ServiceError(ValueError):
    """What was asked cannot be done; message is safe to show (already translated), field names the form input
    it belongs to (None: the whole form)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class Conflict(ServiceError):
    """Someone else changed the same thing a moment ago (e.g. took the time slot); a route answers 409."""
