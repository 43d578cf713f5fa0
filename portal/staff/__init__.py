"""The staff blueprint: routes live in several modules, each attaching itself to bp."""
from flask import Blueprint

bp = Blueprint("staff", __name__)

from . import routes  # noqa: E402,F401,I001  (first: the before_request check and shared helpers)
from . import admin, appointments, audit_log, case_actions, leads, outreach, reports  # noqa: E402,F401,I001
