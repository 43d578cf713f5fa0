"""The staff blueprint."""
from flask import Blueprint

bp = Blueprint("staff", __name__)

from . import conversation  # noqa: E402,F401,I001  (the family conversation, staff side)
from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
