"""One-time links from a text: a family member without an account reads one update or message, signed in as nobody."""
from flask import Blueprint

bp = Blueprint("notices", __name__)
