"""The auth blueprint."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import mfa, password, routes  # noqa: E402,F401  (routes attach themselves to bp)
