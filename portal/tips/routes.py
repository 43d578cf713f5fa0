"""Leave a tip through a family's link; check it later with a tip code and passphrase; answer staff questions.

Nothing here may identify the tipster: no IP address or browser name is stored or logged, no cookie is set (no
session, no flash, no Flask-WTF token), and audit events are written with ip=None.

Rate limits: tip submission counts per tip link. Checking a tip (each look-up costs an argon2 check, ~70 ms and
19 MiB) counts per address, across codes, and wrong passphrases count per address and code. The address itself is
never the key: the key is a keyed hash of it (HMAC-SHA256 under the app's SECRET_KEY, with a "tips" purpose so it
matches no other area's counter; web/security.address_key), which lives only in the counter store (memory or
Redis) and expires with the window. Without the secret nobody can tell from a key which address it was, even by
trying every address. A wrong passphrase therefore slows only whoever types it, from where they are: the holder of
the right passphrase, from their own address, is never refused because a stranger guessed at their code.
"""
import hashlib
import logging
import secrets
import uuid
from urllib.parse import urlsplit

from flask import abort, current_app, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException

from .. import uploads
from ..errors import ServiceError
from ..extensions import db
from ..models import Lead, LeadQuestion
from ..models.types import db_int
from ..services import leads as lead_service
from ..services import retention
from ..web.boundary import undo_if_not_saved
from ..web.errors import show_error
from ..web.security import address_key, note_failure, rate_limit, too_many_failures
from . import bp
from .forms import LookupForm, TipAnswerForm, TipForm

log = logging.getLogger(__name__)
FORM_TOKEN_AGE = 24 * 3600  # a tip form may stay open for a day while someone writes
ACCESS_AGE = 3600  # after the passphrase, answering questions works for an hour


def _lang() -> str:
    """The tip pages' language: chosen with ?lang= or a form field, else the browser's; kept in no cookie."""
    try:
        chosen = request.values.get("lang")
    except HTTPException:  # a body too big to read (the 413 page itself): the address's ?lang= only
        chosen = request.args.get("lang")
    if chosen in ("en", "es"):
        return chosen
    return request.accept_languages.best_match(("en", "es")) or "en"


def _render(template: str, status: int = 200, **context):
    lang = _lang()
    with force_locale(lang):
        return render_template(template, lang=lang, **context), status


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"tip-{purpose}")


def _check_form_origin() -> None:
    """Refuse a post made from another site (our stand-in for a session-bound CSRF token)."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(403)
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        abort(403)


def _link_key() -> str:
    token = request.view_args.get("token", "") if request.view_args else ""
    return "tip-link:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _address_key() -> str:
    return "tip-lookup:" + address_key("tips")


def _guess_key(code: str) -> str:
    return address_key("tips", lead_service.normalize_code(code))


@bp.route("/t/<token>", methods=["GET", "POST"])
@rate_limit("tip_submission", key_func=_link_key)
def leave_tip(token: str):
    """The tip form for the case behind this link; shows the tip code and passphrase once it is sent."""
    link = lead_service.find_tip_link(token)
    if link is None:
        return _render("tips/gone.html", 404)
    form = TipForm()
    if request.method == "GET":
        form.form_token.data = _serializer("form").dumps({"n": secrets.token_urlsafe(24), "l": link.id})
        return _render("tips/form.html", form=form, case=link.case, token=token, accept=uploads.ACCEPT)
    _check_form_origin()
    try:
        signed = _serializer("form").loads(form.form_token.data or "", max_age=FORM_TOKEN_AGE)
        if signed.get("l") != link.id:
            raise BadSignature("another link")
    except BadSignature:
        form.form_token.data = _serializer("form").dumps({"n": secrets.token_urlsafe(24), "l": link.id})
        problem = _("This page was open a long time. Your words are still here: please choose any files again "
                    "and press Send.")
        return _render("tips/form.html", 422, form=form, case=link.case, token=token, accept=uploads.ACCEPT,
                       problem=problem)
    nonce = signed["n"]
    key = lead_service.submission_key(f"tip:{link.id}", nonce)
    passphrase = lead_service.tip_passphrase(nonce)
    existing = lead_service.find_submission(key)
    if existing is not None:  # the same form sent twice: the same code and passphrase again
        return _render("tips/receipt.html", lead=existing, passphrase=passphrase)
    with force_locale(_lang()):
        valid = form.validate()
    files = uploads.chosen_files(request.files.getlist(form.files.name))
    if valid and form.content().is_empty() and not files:
        with force_locale(_lang()):
            form.details.errors.append(_("Write what you know, or add a file, then send."))
        valid = False
    stored = []
    if valid:
        try:
            with force_locale(_lang()):
                stored = uploads.store_files(files, anonymous=True)
        except ServiceError as exc:
            show_error(form, exc)
            valid = False
    if not valid:
        return _render("tips/form.html", 422, form=form, case=link.case, token=token, accept=uploads.ACCEPT,
                       upload_error=bool(form.files.errors))
    try:
        lead, created = lead_service.submit_lead(case=link.case, content=form.content(), files=stored, key=key,
                                                 tip_link=link, passphrase=passphrase)
    except BaseException:
        uploads.discard(stored)
        raise
    if not created:
        uploads.discard(stored)
    else:
        undo_if_not_saved(lambda: uploads.discard(stored))  # the request's commit failed: no lead owns them
    return _render("tips/receipt.html", lead=lead, passphrase=passphrase)


def _status_page(lead: Lead, status: int = 200, answer_form=None, notice=None):
    access = _serializer("access").dumps({"lead": lead.id})
    questions = lead_service.questions_for(lead)
    forms = {}
    if not retention.tip_thread_open(lead, questions):  # idle too long: the code shows the status, takes no answer
        return _render("tips/status.html", status, lead=lead, questions=questions, forms=forms, notice=notice,
                       closed=True)
    for question in questions:
        form = answer_form if answer_form is not None and answer_form.question_id.data == question.id \
            else TipAnswerForm(formdata=None)
        form.question_id.data = question.id
        form.access.data = access
        forms[question.id] = form
    return _render("tips/status.html", status, lead=lead, questions=questions, forms=forms, notice=notice)


@bp.route("/tip", methods=["GET", "POST"])
@rate_limit("tip_lookup", key_func=_address_key)
def check_tip():
    """Type the tip code and passphrase to see the tip's status and questions from staff."""
    form = LookupForm()
    if request.method == "GET":
        return _render("tips/lookup.html", form=form)
    _check_form_origin()
    with force_locale(_lang()):
        valid = form.validate()
    if not valid:
        return _render("tips/lookup.html", 422, form=form)
    guess_key = _guess_key(form.code.data)
    if too_many_failures("tip_lookup_failures", guess_key):
        abort(429)  # this address guessed wrong at this code too often: not even tried (the tip error page)
    lead = lead_service.find_tip(form.code.data, form.passphrase.data)
    if lead is None:
        note_failure("tip_lookup_failures", guess_key)
        with force_locale(_lang()):
            form.passphrase.errors.append(_("The tip code or the passphrase is not right. Check them and try again."))
        return _render("tips/lookup.html", 422, form=form)
    return _status_page(lead)


@bp.route("/tip/answer", methods=["POST"])
def answer_tip_question():
    """Answer a staff question, with the pass the status page gave (valid for an hour)."""
    _check_form_origin()
    question_id = db_int(request.form.get("question_id"))
    form = TipAnswerForm()
    try:
        lead_id = _serializer("access").loads(form.access.data or "", max_age=ACCESS_AGE)["lead"]
    except (BadSignature, KeyError, TypeError):
        return _render("tips/lookup.html", 422, form=LookupForm(formdata=None), expired=True)
    lead = db.session.get(Lead, lead_id)
    question = db.session.get(LeadQuestion, question_id) if question_id else None
    if lead is None or not lead.is_anonymous or question is None or question.lead_id != lead.id:
        abort(404)
    if not retention.tip_thread_open(lead, lead_service.questions_for(lead)):
        return _status_page(lead, 422)  # the thread closed while the page was open: the page now says so
    with force_locale(_lang()):
        valid = form.validate()
    if not valid:
        return _status_page(lead, 422, answer_form=form)
    lead_service.answer_question(question=question, answer=form.answer.data, actor=None, anonymous=True)
    with force_locale(_lang()):
        notice = _("Thank you. Your answer was sent.")
    return _status_page(lead, notice=notice)


def error_page(code: int, exc=None):
    """The tipster's error page for a status: for this blueprint's errors, and for any unknown address under the
    tip prefixes (the app's handlers send those here), so no tip address shows the signed-in site's pages."""
    if code == 500:
        db.session.rollback()
        ref = uuid.uuid4().hex[:12]
        log.error("unhandled error on a tip page ref=%s", ref, exc_info=getattr(exc, "original_exception", exc))
        return _render("tips/error.html", 500, code=500, ref=ref)
    return _render("tips/error.html", code, code=code)


for _code in (400, 403, 404, 413, 429, 500):
    bp.register_error_handler(_code, lambda exc, code=_code: error_page(code, exc))
# A wrong method answers like an unknown address, as everywhere in the portal (app.register_errorhandlers).
bp.register_error_handler(405, lambda exc: error_page(404, exc))
