"""Settings for the Family Liaison Portal, read from environment variables."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PORTAL_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _normalize_db_url(url: str) -> str:
    # Heroku-style URLs say postgres://; SQLAlchemy wants an explicit driver (psycopg 3).
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _ratelimit_storage_uri() -> str:
    """Where rate-limit counters live: RATELIMIT_STORAGE_URI, else Redis when REDIS_URL is set, else memory."""
    return os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"


def _dev_secret_key() -> str:
    """A random key kept in instance/ so development sessions survive restarts; never used in production."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "dev_secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _dev_key_file() -> str:
    """A key file in instance/ for development, made on first use; production names its own (README: Keys)."""
    from portal.crypto import new_key_line  # config is read before the app; the key format lives with the cipher

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "encryption.keys"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("# Development keys: the first line writes, every line reads. Never used in production.\n")
            handle.write(new_key_line("dev1") + "\n")
    return str(path)


class Config:
    """Shared settings; every value can be set through the environment."""

    ENV_NAME = "base"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _normalize_db_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'portal.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    AGENCY_NAME = os.environ.get("AGENCY_NAME", "Demo County Police Department")
    AGENCY_TIMEZONE = os.environ.get("AGENCY_TIMEZONE", "America/Chicago")
    DEFAULT_PHONE_REGION = os.environ.get("DEFAULT_PHONE_REGION", "US")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # Passkeys (WebAuthn) are bound to a host name and an origin, both taken from PUBLIC_BASE_URL unless set here.
    # Browsers refuse an IP address as the RP ID: to try passkeys in development, open http://localhost:5000 and
    # set PUBLIC_BASE_URL to it.
    WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "")
    WEBAUTHN_ORIGIN = os.environ.get("WEBAUTHN_ORIGIN", "")
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
    # inline: deliver right after the request commits (development); none: leave rows queued for a worker.
    SMS_DELIVERY = os.environ.get("SMS_DELIVERY", "inline")
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = _ratelimit_storage_uri()
    RATE_LIMITS: dict = {}  # override a named limit of portal/security.py, e.g. {"sign_in": "5 per minute"}
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # Encryption at rest (portal/crypto.py): "id:key[,id:key]" or a file of such lines, outside the database.
    ENCRYPTION_KEYS = os.environ.get("ENCRYPTION_KEYS")
    ENCRYPTION_KEY_FILE = os.environ.get("ENCRYPTION_KEY_FILE")
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 110 * 1024 * 1024)
    INVITE_TTL_HOURS = _int("INVITE_TTL_HOURS", 72)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
    SESSION_ABSOLUTE_HOURS = _int("SESSION_ABSOLUTE_HOURS", 12)
    # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none; 1: one TLS proxy such as nginx).
    TRUSTED_PROXY_HOPS = _int("TRUSTED_PROXY_HOPS", 0)
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # the session's own lifetime bounds the token
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("en", "es")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # Where "Leave this page quickly" goes (sign-in, family and tip pages): a neutral site, opened in place of the
    # portal's page so that Back does not return to it.
    QUICK_EXIT_URL = os.environ.get("QUICK_EXIT_URL", "https://www.google.com/")
    # Texts through Twilio and the background worker (README: "Texts (Twilio)").
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN")
    TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID")
    TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER")
    TWILIO_API_BASE_URL = os.environ.get("TWILIO_API_BASE_URL")  # only for the fake Twilio in tests and benchmarks
    TWILIO_TIMEOUT = float(os.environ.get("TWILIO_TIMEOUT") or 10)
    SMS_BATCH_SIZE = _int("SMS_BATCH_SIZE", 20)
    SMS_CLAIM_LEASE_SECONDS = _int("SMS_CLAIM_LEASE_SECONDS", 300)
    # A family-visible notice waits this long so that several (an update, a stage change, a message...) become one.
    NOTICE_BATCH_SECONDS = _int("NOTICE_BATCH_SECONDS", 600)
    # The largest picture texted to us (MMS) that is downloaded; the download stops as soon as it passes this.
    MMS_MAX_BYTES = _int("MMS_MAX_BYTES", 25 * 1024 * 1024)
    # Email, the second channel (README: "Email"): smtp sends through MAIL_SERVER (Flask-Mailman), console prints,
    # memory keeps a list (tests).
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "console")
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = _int("MAIL_PORT", 587)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", True)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER")
    MAIL_TIMEOUT = float(os.environ.get("MAIL_TIMEOUT") or 10)
    HUEY_NAME = os.environ.get("HUEY_NAME", "portal")
    HUEY_SQLITE_PATH = os.environ.get("HUEY_SQLITE_PATH", str(INSTANCE_DIR / "huey.db"))
    TESTING = False
    DEBUG = False


class DevelopmentConfig(Config):
    """Local development: SQLite in instance/, texts printed to the console."""

    ENV_NAME = "development"
    DEBUG = _bool("FLASK_DEBUG", False)

    def __init__(self) -> None:
        if not self.SECRET_KEY:
            self.SECRET_KEY = _dev_secret_key()
        if not (self.ENCRYPTION_KEYS or self.ENCRYPTION_KEY_FILE):
            self.ENCRYPTION_KEY_FILE = _dev_key_file()


class TestingConfig(Config):
    """The test suite: SQLite unless TEST_DATABASE_URL is set, texts kept in memory."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105  (tests only)
    # Tests run with encryption on, under a fixed key that protects nothing real.
    ENCRYPTION_KEYS = "test1:dGVzdC1vbmx5LWtleS1wcm90ZWN0cy1ub3RoaW5nISE"  # noqa: S105  (tests only)
    ENCRYPTION_KEY_FILE = None
    SQLALCHEMY_DATABASE_URI = _normalize_db_url(os.environ.get("TEST_DATABASE_URL", "sqlite://"))
    SMS_BACKEND = "memory"
    EMAIL_BACKEND = "memory"
    MAIL_DEFAULT_SENDER = "Demo County Police Department <family-liaison@agency.example>"
    SMS_DELIVERY = "none"
    NOTICE_BATCH_SECONDS = 0  # tests that batch notices set the window themselves
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    PUBLIC_BASE_URL = "http://localhost"
    SERVER_NAME = None


class ProductionConfig(Config):
    """Production: PostgreSQL and Redis; refuses to start without its secrets."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = True
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "twilio")
    SMS_DELIVERY = os.environ.get("SMS_DELIVERY", "worker")

    def __init__(self) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if not (os.environ.get("ENCRYPTION_KEYS") or os.environ.get("ENCRYPTION_KEY_FILE")):
            missing.append("ENCRYPTION_KEYS (or ENCRYPTION_KEY_FILE)")
        if missing:
            raise RuntimeError(
                "Production configuration refuses to start: set " + ", ".join(missing) + " in the environment."
            )
        if len(os.environ["SECRET_KEY"]) < 32:
            raise RuntimeError("Production configuration refuses to start: SECRET_KEY must be at least 32 characters.")
        self.EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "smtp")
        if self.EMAIL_BACKEND == "smtp":
            no_mail = [name for name in ("MAIL_SERVER", "MAIL_DEFAULT_SENDER") if not os.environ.get(name)]
            if no_mail:
                raise RuntimeError("Production configuration refuses to start: EMAIL_BACKEND=smtp needs "
                                   + " and ".join(no_mail) + " in the environment.")
            self.MAIL_SERVER = os.environ["MAIL_SERVER"]
            self.MAIL_DEFAULT_SENDER = os.environ["MAIL_DEFAULT_SENDER"]
        self.ENCRYPTION_KEYS = os.environ.get("ENCRYPTION_KEYS")
        self.ENCRYPTION_KEY_FILE = os.environ.get("ENCRYPTION_KEY_FILE")


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Instantiate the config named by the argument or PORTAL_CONFIG (default: development)."""
    name = name or os.environ.get("PORTAL_CONFIG", "development")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"Unknown PORTAL_CONFIG {name!r}; use one of {', '.join(CONFIGS)}") from None
