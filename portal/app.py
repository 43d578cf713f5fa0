"""The composition root: create_app() builds the Flask application from every layer (docs/ARCHITECTURE.md)."""
from __future__ import annotations

import logging
import uuid
from pathlib import Path

from flask import Flask, g, has_request_context, render_template, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from config import BASE_DIR, INSTANCE_DIR, Config, load_config

from . import crypto, uploads
from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate, talisman
from .web.boundary import PortalFlask, discard_session
from .web.i18n import page_language
from .web.security import DatabaseIdConverter
from .web.urls import is_tip_page

log = logging.getLogger(__name__)

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}


def create_app(config: str | Config | type | None = None, overrides: dict | None = None) -> Flask:
    """Build the app from a config name, object or class (default: PORTAL_CONFIG or development)."""
    app = PortalFlask("portal", template_folder=str(BASE_DIR / "templates"), instance_path=str(INSTANCE_DIR))
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route: ids too big for the database are 404
    if config is None or isinstance(config, str):
        config = load_config(config)
    elif isinstance(config, type):
        config = config()
    app.config.from_object(config)
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    register_request_hooks(app)
    register_security(app)
    return app


def _configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    logging.getLogger("portal").setLevel(level)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers and one writer work at once; FULL sync survives power loss; waits instead of "locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_savepoint_inside_a_transaction(connection, _name) -> None:
    # The sqlite3 driver opens a transaction only before INSERT, UPDATE or DELETE. A SAVEPOINT that comes first
    # would open one of its own, and its RELEASE would then commit everything (a lead saved before the request's
    # commit, which might still fail). Open the transaction first, so the savepoint is nested in it.
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")


def register_extensions(app: Flask) -> None:
    """Bind every extension object to the app."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("hide_parameters", True)  # a database error's text never carries the values (lead text)
    if uri.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 10})
    elif uri.startswith("postgresql"):
        # Short OLTP queries only: PostgreSQL's JIT spent 5.9 s compiling an agency-wide flag query that runs in
        # 1.3 s (bench/RESULTS.md). Off for the portal's own sessions.
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c jit=off")
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    try:  # every encrypted column needs the keys: no app without them (config.py says where they come from)
        app.extensions["keyring"] = crypto.keyring_from_config(app.config)
    except crypto.KeyringError as exc:
        raise RuntimeError(f"Encryption keys: {exc}.") from None
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
            event.listen(db.engine, "savepoint", _sqlite_savepoint_inside_a_transaction)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone,
                   default_translation_directories=str(Path(__file__).parent / "translations"))
    production = app.config.get("ENV_NAME") == "production"
    # Registered before Talisman so that it runs after it (Flask runs these hooks last-registered first): a file
    # download keeps its sandbox policy instead of the pages' one.
    app.after_request(uploads.keep_download_policy)
    talisman.init_app(
        app,
        content_security_policy=CSP,
        force_https=production,
        strict_transport_security=production,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        referrer_policy="same-origin",
        frame_options="DENY",
    )
    app.extensions["sms_client"] = sms_client_for(app, app.config["SMS_BACKEND"])
    mail.init_app(app)
    app.extensions["email_client"] = email_client_for(app, app.config["EMAIL_BACKEND"])
    _register_outbox_dispatch(app)


def sms_client_for(app: Flask, backend: str):
    """The text client for a backend name, with the app's live settings and the status-callback URL builder."""
    from .providers.sms import build_sms_client

    def status_callback_url(outbox_id: int) -> str:
        path = app.url_map.bind("").build("webhooks.status_callback", {"outbox_id": outbox_id})
        return app.config["PUBLIC_BASE_URL"].rstrip("/") + path

    return build_sms_client(backend, settings=app.config, status_callback_url=status_callback_url)


def email_client_for(app: Flask, backend: str):
    """The email client for a backend name, reading the app's live MAIL_* settings through Flask-Mailman."""
    from .providers.email import build_email_client

    return build_email_client(backend, settings=app.config, connect=mail.get_connection)


@login_manager.user_loader
def _load_user(user_id: str):
    from .models import User

    ident, _, version = user_id.partition(".")
    if not ident.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(ident))
    if user is None or user.session_version != int(version) or not user.is_active:
        return None
    return user


def _select_locale() -> str | None:
    languages = ("en", "es")
    if not has_request_context():  # commands and workers: the default, unless force_locale() says otherwise
        return None
    try:
        if current_user.is_authenticated and current_user.language in languages:
            return current_user.language
    except (OperationalError, PoolTimeoutError):  # error pages still render when the database is down
        pass
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    return page_language() or request.accept_languages.best_match(languages) or "en"


def _select_timezone() -> str:
    from .services.agency import viewer_timezone

    try:
        return viewer_timezone(current_user)
    except (OperationalError, PoolTimeoutError):
        return "UTC"


def _register_outbox_dispatch(app: Flask) -> None:
    from flask_sqlalchemy.session import Session

    from .services.notifications.mms import MEDIA_SESSION_KEY
    from .services.notifications.outbox import OUTBOX_SESSION_KEY
    from .tasks import dispatch_media, dispatch_outbox

    if getattr(Session, "_portal_outbox_hooked", False):
        return
    Session._portal_outbox_hooked = True

    # SQLAlchemy fires these for savepoints too (begin_nested): releasing one commits nothing yet, and rolling
    # back to one keeps the texts queued before it (ids of rows it took back are simply not found by delivery).
    @event.listens_for(Session, "after_commit")
    def _after_commit(session) -> None:
        if session.in_nested_transaction():
            return
        ids = session.info.pop(OUTBOX_SESSION_KEY, None)
        media_ids = session.info.pop(MEDIA_SESSION_KEY, None)
        if ids:
            dispatch_outbox(ids)
        if media_ids:  # pictures of a text sent to us (MMS): fetched by a job, never in the webhook's transaction
            dispatch_media(media_ids)

    @event.listens_for(Session, "after_rollback")
    def _after_rollback(session) -> None:
        if session.in_nested_transaction():
            return
        session.info.pop(OUTBOX_SESSION_KEY, None)
        session.info.pop(MEDIA_SESSION_KEY, None)


def register_blueprints(app: Flask) -> None:
    """Attach each area's blueprint."""
    # Each area's __init__ defines its bp and nothing else; importing its view modules attaches their routes
    # (staff.routes first: the staff before_request check and shared helpers).
    import portal.auth.mfa  # noqa: F401
    import portal.auth.passkeys  # noqa: F401
    import portal.auth.password  # noqa: F401
    import portal.auth.routes  # noqa: F401
    import portal.family.booking  # noqa: F401
    import portal.family.leads  # noqa: F401
    import portal.family.messages  # noqa: F401
    import portal.family.preferences  # noqa: F401
    import portal.family.routes  # noqa: F401
    import portal.notices.routes  # noqa: F401
    import portal.staff.admin  # noqa: F401
    import portal.staff.appointments  # noqa: F401
    import portal.staff.audit_log  # noqa: F401
    import portal.staff.case_actions  # noqa: F401
    import portal.staff.commands  # noqa: F401
    import portal.staff.consent  # noqa: F401
    import portal.staff.conversation  # noqa: F401
    import portal.staff.leads  # noqa: F401
    import portal.staff.outreach  # noqa: F401
    import portal.staff.reports  # noqa: F401
    import portal.staff.routes  # noqa: F401
    import portal.staff.security_admin  # noqa: F401
    import portal.staff.sms_inbox  # noqa: F401
    import portal.tips.routes  # noqa: F401
    import portal.webhooks.routes  # noqa: F401

    from . import auth, family, notices, staff, tips, webhooks

    auth_bp, family_bp, staff_bp, tips_bp, webhooks_bp = auth.bp, family.bp, staff.bp, tips.bp, webhooks.bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(family_bp)
    app.register_blueprint(notices.bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(tips_bp)
    csrf.exempt(webhooks_bp)  # Twilio signs its requests instead
    app.register_blueprint(webhooks_bp, url_prefix="/webhooks")


def register_errorhandlers(app: Flask) -> None:
    """Plain error pages; a 500 shows a reference id and logs the trace under it, never to the user."""
    from .tips.routes import error_page as tip_error_page

    def render_error(code: int):
        if is_tip_page(request.path, request.blueprint):  # an unknown address under /t/ or /tip: the tipster's page
            return tip_error_page(code)
        return render_template(f"errors/{code}.html"), code

    for code in (400, 403, 404, 405, 413, 429):
        app.register_error_handler(code, lambda exc, code=code: render_error(code if code != 405 else 404))

    def database_unavailable(exc):
        discard_session()
        # Nothing below may load the signed-in user (that needs the database): treat the request as anonymous.
        g._login_user = login_manager.anonymous_user()
        ref = uuid.uuid4().hex[:12]
        log.error("database unavailable, ref=%s: %s", ref, type(exc).__name__)
        response = app.make_response((render_template("errors/503.html", ref=ref), 503))
        response.headers["Retry-After"] = "30"
        return response

    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(PoolTimeoutError, database_unavailable)

    @app.errorhandler(500)
    def server_error(exc):
        original = getattr(exc, "original_exception", exc)
        if isinstance(original, (OperationalError, PoolTimeoutError)):
            return database_unavailable(original)
        if is_tip_page(request.path, request.blueprint):
            return tip_error_page(500, exc)
        ref = uuid.uuid4().hex[:12]
        log.error("unhandled error ref=%s", ref, exc_info=original)
        discard_session()
        return render_template("errors/500.html", ref=ref), 500


def register_commands(app: Flask) -> None:
    """flask seed-demo, create-user and friends."""
    from .cli import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    from .web import templating

    templating.register(app)


def register_request_hooks(app: Flask) -> None:
    """Per-request settings: no caching of signed-in pages."""

    @app.after_request
    def _no_store_when_signed_in(response):
        # From the session, not current_user: after the commit the user row would be reloaded, and a database
        # that just went away would turn a saved lead's receipt into an error page (found by pg_restart_leads).
        # The tip pages get theirs (and no-referrer) in PortalFlask.process_response, after every hook.
        signed_in = "_user_id" in session or "mfa_pending" in session
        if signed_in:
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


def register_security(app: Flask) -> None:
    """Session timeouts and the second-factor gate, rate-limit page, proxy trust, log scrubbing (web/security.py)."""
    from .web import security

    security.register(app)
