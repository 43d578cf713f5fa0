"""The staff blueprint."""
from flask import Blueprint

bp = Blueprint("staff", __name__)

from . import conversation, routes, security_admin  # noqa: E402,F401  (routes attach themselves to bp)
