"""Security plumbing shared by every area: named rate limits, the session policy hook, proxy trust, log scrubbing.

Rate limits, for the engineer writing a route that takes input from the outside:

    from ..web.security import rate_limit

    @bp.route("/tip/<token>", methods=["GET", "POST"])
    @rate_limit("tip_submission")
    def tip(token): ...

Names: sign_in, invite, mfa, password_change, lead_submission, tip_submission, tip_lookup, notice_link, webhook.
Each name is one shared counter per client (across every route that uses the name), on POST unless methods= says
otherwise.
A route may count by something other than the client's address with key_func= (tip submission counts per tip
link; the tip look-up counts per address under its own purpose, see portal/tips/routes.py), and count only some
answers with deduct_when=.
Operators can change a value with the RATE_LIMITS setting, e.g. {"sign_in": "5 per minute"}.

Failure throttles (FAILURE_LIMITS) count failed attempts only, and are checked before the next attempt is tried:

    if too_many_failures("sign_in_failures", key):   # answer too_many() without trying the password
        ...
    note_failure("sign_in_failures", key)            # after a wrong one

They use moving windows, so one address can never pack more failures than the limit into any stretch of that
length; the sign-in limit sits below the account lockout (services/lockout.py), so a stranger from one address can
never lock a staff member out, only slow themselves down. Keys are keyed hashes (address_key), never addresses.
"""
from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Callable

from flask import Blueprint, Flask, Response, abort, current_app, render_template, request
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many
from limits.strategies import MovingWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from ..extensions import limiter
from ..models.types import MAX_DB_INT
from .urls import REDIRECT_FIELD

# Each value allows a person who mistypes a few times, and stops a script.
DEFAULT_LIMITS: dict[str, str] = {
    "sign_in": "10 per minute;60 per hour",
    "invite": "10 per minute;40 per hour",
    "mfa": "10 per minute;40 per hour",
    "password_change": "5 per minute;20 per hour",
    "lead_submission": "10 per minute;60 per hour",  # per signed-in family member
    "tip_submission": "5 per minute;20 per hour",  # per tip link (never per address: tipsters stay unidentified)
    "tip_lookup": "10 per minute;30 per 15 minutes",  # tip look-ups per address (a keyed hash), across codes
    "notice_link": "10 per minute;60 per hour",  # wrong one-time links (404s), per address
    "webhook": "60 per minute",  # unsigned requests only: Twilio's own (signed) ones are never counted
}
# Failed attempts, counted by note_failure and checked by too_many_failures (moving windows).
FAILURE_LIMITS: dict[str, str] = {
    # per address and email typed: below the lockout's 5, so one address alone never locks an account
    "sign_in_failures": "4 per 20 minutes",
    "sign_in_failures_address": "30 per hour",  # per address, across emails: spraying many accounts
    "tip_lookup_failures": "5 per 15 minutes",  # wrong passphrases per address and tip code: slows that guesser only
}
# Which view functions carry which named limit; tests read this to prove each limit is applied.
LIMITED_VIEWS: dict[str, set[str]] = defaultdict(set)
LIMITED_BLUEPRINTS: dict[str, set[str]] = defaultdict(set)  # a limit on every route of these blueprints


def address_key(purpose: str = "", *parts: str) -> str:
    """A keyed hash (HMAC-SHA256 under SECRET_KEY) of the client's address, the purpose and any parts: a counter
    key that holds no raw IP (anonymous tipsters stay unidentified even in Redis) and cannot be reversed by trying
    every address without the app's secret. A purpose keeps one area's counters unlinkable to another's."""
    secret = (current_app.config.get("SECRET_KEY") or "").encode()
    address = request.remote_addr or "unknown"
    message = address if not purpose else "\x1f".join((purpose, address, *parts))
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()[:32]


def client_key() -> str:
    """The rate-limit key for this client: a keyed hash of its address (address_key)."""
    return address_key()


def _failure_items(name: str):
    value = (current_app.config.get("RATE_LIMITS") or {}).get(name, FAILURE_LIMITS[name])
    return parse_many(value)


def _failure_window():
    if not (limiter.enabled and limiter.initialized):
        return None
    return MovingWindowRateLimiter(limiter.storage)


def too_many_failures(name: str, key: str) -> bool:
    """Whether the failures counted under this name and key reached the limit (then do not even try)."""
    window = _failure_window()
    return window is not None and not all(window.test(item, "failures", name, key) for item in _failure_items(name))


def note_failure(name: str, key: str) -> None:
    """Count one failed attempt under this name and key."""
    window = _failure_window()
    if window is not None:
        for item in _failure_items(name):
            window.hit(item, "failures", name, key)


def too_many() -> Response:
    """The answer to a throttled attempt: the same 429 page (and Retry-After) as every other limit."""
    response = current_app.make_response((render_template("errors/429.html"), 429))
    response.headers["Retry-After"] = "60"
    return response


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


def _checked(items) -> list[str]:
    # A redirect target is never stored, and safe_next answers any control character in it (NUL too) with the
    # safe default: bad input gets a safe redirect there, not this 400.
    return [part for key, value in items for part in (key, value) if key != REDIRECT_FIELD]


def refuse_nul_bytes() -> None:
    """before_request: 400 for a NUL character in the address, query or form (but for a redirect target, which
    safe_next handles). No person types one, and PostgreSQL cannot store one (it would otherwise surface as a
    server error deep inside a save)."""
    parts = [request.path, *_checked(request.args.items(multi=True))]
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        parts += _checked(request.form.items(multi=True))
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
        return too_many()

    logsafety.install(app)
