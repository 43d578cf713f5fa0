"""The page's language when nobody is signed in yet but we know whom the page is for (an invite link)."""
from __future__ import annotations

from flask import g, session
from flask_babel import refresh

from ..models.accounts import LANGUAGES

PAGE_LANGUAGE_KEY = "page_language"


def speak_members_language(language: str | None) -> None:
    """Render this request in the invited member's language, unless the visitor chose one with the switch."""
    if language in LANGUAGES and session.get("lang") not in LANGUAGES:
        setattr(g, PAGE_LANGUAGE_KEY, language)
        refresh()  # forget a locale worked out earlier in this request


def page_language() -> str | None:
    """The language speak_members_language() chose for this request, if any."""
    return g.get(PAGE_LANGUAGE_KEY)
