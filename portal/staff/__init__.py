"""The staff blueprint."""
from flask import Blueprint

bp = Blueprint("staff", __name__)

from . import routes, sms_inbox  # noqa: E402,F401  (routes attach themselves to bp; sms_inbox: unmatched texts)
