"""GET /n/<token>: the one update or message a text was about, for the browser session that first opened it."""
from flask import render_template, session
from flask_babel import force_locale

from ..services.agency import get_agency
from ..services.notifications import links
from ..web.security import rate_limit
from . import bp

DEVICE_KEY = "notice_device"  # a random nonce this browser session keeps; a link holds only its hash


@bp.route("/n/<token>")
@rate_limit("notice_link", methods=["GET"], deduct_when=lambda response: response.status_code == 404)
def open_notice(token: str):
    """Show the link's one item in the member's language; 404 for anything else (it signs nobody in)."""
    kept = session.get(DEVICE_KEY)
    nonce = kept if isinstance(kept, str) and len(kept) >= 32 else links.new_device_nonce()
    opened = links.open_link(token, nonce)
    if opened is None:
        return render_template("errors/404.html"), 404  # returned, not raised: a refusal's audit event is kept
    if kept != nonce:
        session[DEVICE_KEY] = nonce  # only once a link was bound to it: a wrong address leaves no cookie
    with force_locale(opened.member.language):
        return render_template("notices/item.html", opened=opened, case=opened.case, agency=get_agency())
