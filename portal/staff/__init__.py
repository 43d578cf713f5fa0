"""The staff blueprint: routes live in several modules, each attaching itself to bp (create_app imports them)."""
from flask import Blueprint

bp = Blueprint("staff", __name__, cli_group=None)  # its commands are top level: flask send-digests
