"""The Family Liaison Portal. `flask --app portal ...` finds create_app here; it is built in portal/app.py."""
from .app import create_app

__all__ = ["create_app"]
