"""Anonymous tips: a family shares a link; anyone with it can leave a tip, with no account and no trace."""
from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("tips", __name__)
# These pages set no cookie at all, so Flask-WTF's session-bound CSRF token cannot be used. Forms carry a signed,
# expiring token instead, and cross-site posts are refused (see routes._check_form_origin).
csrf.exempt(bp)
