"""The webhooks blueprint: Twilio's status callbacks and incoming texts (signed, not CSRF-protected)."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
