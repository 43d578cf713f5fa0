"""Configuration comes from the environment; production refuses to start without its secrets."""
import pytest

from config import ProductionConfig, _normalize_db_url, load_config
from portal import create_app
from portal.crypto import new_key_line


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/portal")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_refuses_to_start_without_database_url(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        ProductionConfig()


def test_production_refuses_a_short_secret_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "short")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/portal")
    monkeypatch.setenv("ENCRYPTION_KEYS", new_key_line("p1"))
    with pytest.raises(RuntimeError, match="at least 32"):
        ProductionConfig()


def test_production_starts_with_its_secrets(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'p.db'}")
    monkeypatch.setenv("ENCRYPTION_KEYS", new_key_line("p1"))
    monkeypatch.setenv("MAIL_SERVER", "smtp.agency.example")
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "liaison@agency.example")
    config = ProductionConfig()
    assert config.SESSION_COOKIE_SECURE is True
    assert config.EMAIL_BACKEND == "smtp" and config.MAIL_SERVER == "smtp.agency.example"


@pytest.mark.parametrize("unset", ["MAIL_SERVER", "MAIL_DEFAULT_SENDER"])
def test_production_refuses_smtp_email_without_a_server_or_sender(monkeypatch, unset):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/portal")
    monkeypatch.setenv("ENCRYPTION_KEYS", new_key_line("p1"))
    monkeypatch.setenv("MAIL_SERVER", "smtp.agency.example")
    monkeypatch.setenv("MAIL_DEFAULT_SENDER", "liaison@agency.example")
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)  # smtp is production's default
    monkeypatch.delenv(unset)
    with pytest.raises(RuntimeError, match=unset):
        ProductionConfig()


def test_production_without_email_needs_no_mail_server(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db.example/portal")
    monkeypatch.setenv("ENCRYPTION_KEYS", new_key_line("p1"))
    monkeypatch.setenv("EMAIL_BACKEND", "console")
    monkeypatch.delenv("MAIL_SERVER", raising=False)
    assert ProductionConfig().EMAIL_BACKEND == "console"


def test_unknown_config_name_is_refused():
    with pytest.raises(RuntimeError, match="Unknown PORTAL_CONFIG"):
        load_config("staging")


@pytest.mark.parametrize("given, expected", [
    ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_database_urls_get_the_psycopg_driver(given, expected):
    assert _normalize_db_url(given) == expected


def test_app_factory_works_with_no_arguments(monkeypatch):
    monkeypatch.delenv("PORTAL_CONFIG", raising=False)
    app = create_app()
    assert app.config["ENV_NAME"] == "development"
    assert app.config["SECRET_KEY"]
