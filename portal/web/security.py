"""Security plumbing shared by every area: named rate limits, the session policy hook, proxy trust, log scrubbing.

Rate limits, for the engineer writing a route that takes input from the outside:

    from ..web.security import rate_limit

    @bp.route("/tip/<token>", methods=["GET", "POST"])
    @rate_limit("tip_submission")
    def tip(token): ...

Names: sign_in, invite, mfa, password_change, lead_submission, tip_submission, tip_lookup, webhook. Each name is
one shared counter per client (across every route that uses the name), on POST unless methods= says otherwise.
A route may count by something other than the client's address with key_func= (the tip pages never use the
address: they count per tip link and per tip code), and count only some answers with deduct_when=.
Operators can change a value with the RATE_LIMITS setting, e.g. {"sign_in": "5 per minute"}.
"""
from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Callable

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from flask_limiter.errors import RateLimitExceeded
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from ..extensions import limiter
from ..models.types import MAX_DB_INT

# Each value allows a person who mistypes a few times, and stops a script.
DEFAULT_LIMITS: dict[str, str] = {
    "sign_in": "10 per minute;60 per hour",
    "invite": "10 per minute;40 per hour",
    "mfa": "10 per minute;40 per hour",
    "password_change": "5 per minute;20 per hour",
    "lead_submission": "10 per minute;60 per hour",  # per signed-in family member
    "tip_submission": "5 per minute;20 per hour",  # per tip link (never per address: tipsters stay unidentified)
    "tip_lookup": "5 per 15 minutes",  # wrong passphrases per tip code (right ones do not count)
    "webhook": "60 per minute",  # unsigned requests only: Twilio's own (signed) ones are never counted
}
# Which view functions carry which named limit; tests read this to prove each limit is applied.
LIMITED_VIEWS: dict[str, set[str]] = defaultdict(set)
LIMITED_BLUEPRINTS: dict[str, set[str]] = defaultdict(set)  # a limit on every route of these blueprints


def client_key() -> str:
    """The rate-limit key for this client: a keyed hash of its address, so no counter store holds a raw IP
    (anonymous tipsters stay unidentified even in Redis)."""
    secret = (current_app.config.get("SECRET_KEY") or "").encode()
    address = (request.remote_addr or "unknown").encode()
    return hmac.new(secret, address, hashlib.sha256).hexdigest()[:32]


def _limit_value(name: str):
    def value() -> str:
        return (current_app.config.get("RATE_LIMITS") or {}).get(name, DEFAULT_LIMITS[name])

    return value


def rate_limit(name: str, *, methods: list[str] | None = None, key_func: Callable[[], str] | None = None,
               deduct_when: Callable[[Response], bool] | None = None):
    """The named limit as a route decorator (put it under @bp.route); counted per client_key unless key_func."""
    if name not in DEFAULT_LIMITS:
        raise KeyError(f"unknown rate limit {name!r}; add it to DEFAULT_LIMITS")
    shared = limiter.shared_limit(_limit_value(name), scope=name, key_func=key_func or client_key,
                                  methods=methods or ["POST"], deduct_when=deduct_when)

    def decorate(view):
        LIMITED_VIEWS[name].add(f"{view.__module__}.{view.__qualname__}")
        return shared(view)

    return decorate


def rate_limit_blueprint(bp: Blueprint, name: str, *, exempt_when: Callable[[], bool] | None = None) -> None:
    """The named limit on every route of a blueprint, checked before its own before_request hooks run.

    exempt_when() true: the request is not counted at all (a webhook that carries a valid signature)."""
    limiter.limit(_limit_value(name), scope=name, key_func=client_key, exempt_when=exempt_when)(bp)
    LIMITED_BLUEPRINTS[name].add(bp.name)


def limits_on(app: Flask, endpoint: str) -> set[str]:
    """The named limits applied to an endpoint's view (for tests and the security matrix)."""
    view = app.view_functions[endpoint]
    target = getattr(view, "__wrapped__", view)
    qualified = f"{target.__module__}.{target.__qualname__}"
    blueprint = endpoint.rpartition(".")[0]
    return ({name for name, views in LIMITED_VIEWS.items() if qualified in views}
            | {name for name, blueprints in LIMITED_BLUEPRINTS.items() if blueprint in blueprints})


class DatabaseIdConverter(IntegerConverter):
    """<int:...> in every route: only numbers the database can hold match (a bigger one is a 404, not a 500)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=MAX_DB_INT, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_nul_bytes() -> None:
    """before_request: 400 for a NUL character in the address, query or form. No person types one, and
    PostgreSQL cannot store one (it would otherwise surface as a server error deep inside a save)."""
    parts = [request.path, *(item for pair in request.args.items(multi=True) for item in pair)]
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        parts += [item for pair in request.form.items(multi=True) for item in pair]
    if any("\x00" in part for part in parts):
        abort(400)


def register(app: Flask) -> None:
    """Install the security hooks on the app: proxy trust, session policy, 429 page, log scrubbing."""
    from .. import logsafety
    from ..services.lockout import is_locked
    from . import sessions
    from .boundary import close_session_quietly, remember_client_address

    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:
        # Behind a TLS proxy: trust its X-Forwarded-For/Proto so rate limits see clients and HTTPS is detected.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.before_request(refuse_nul_bytes)
    app.before_request(remember_client_address)
    app.before_request(sessions.enforce)
    app.session_interface = sessions.PortalSessionInterface()  # the tip pages neither read nor write a session
    # Runs before Flask-SQLAlchemy's own teardown (teardowns run in reverse order): closing a session whose
    # connection died (a database restart) must not turn a finished answer into a bare 500 from the server.
    app.teardown_appcontext(close_session_quietly)
    app.jinja_env.globals["account_locked"] = is_locked

    @app.errorhandler(RateLimitExceeded)
    def _too_many(_exc):
        response = app.make_response((render_template("errors/429.html"), 429))
        response.headers["Retry-After"] = "60"
        return response

    logsafety.install(app)
