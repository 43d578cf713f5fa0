"""The family blueprint."""
from flask import Blueprint

bp = Blueprint("family", __name__)

from . import booking, leads, messages, preferences, routes  # noqa: E402,F401  (routes attach themselves to bp)
