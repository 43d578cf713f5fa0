"""The staff blueprint: routes live in several modules, each attaching itself to bp."""
from flask import Blueprint

bp = Blueprint("staff", __name__, cli_group=None)  # its commands are top level: flask send-digests

from . import routes  # noqa: E402,F401,I001  (first: the before_request check and shared helpers)
from . import admin, appointments, audit_log, case_actions, conversation  # noqa: E402,F401,I001
from . import leads, outreach, reports, security_admin, sms_inbox  # noqa: E402,F401,I001
from . import commands  # noqa: E402,F401,I001
