"""The webhooks blueprint: Twilio's status callbacks and incoming texts (signed, not CSRF-protected)."""
from flask import Blueprint

bp = Blueprint("webhooks", __name__)
