"""One-time links out of stored texts: once a text is sent (or can never be), the token in any link to a page that
takes one (/invite/<token>, tip links...) is replaced, so that an outbox row, even decrypted with the keys, cannot
take over an unused invitation. The pages are found in the app's URL map: a route added later with a `token` in
its path is covered without being listed here."""
from __future__ import annotations

import re

from flask import current_app

REDACTED = "[sent]"
# The tokens we issue are URL-safe base64 (secrets.token_urlsafe); stop at anything else.
_URLSAFE_RUN = r"[A-Za-z0-9_\-]{8,}"


def _pattern() -> re.Pattern:
    """The static part of each route before its <token>, each followed by a token, cached per app."""
    cached = current_app.extensions.get("one_time_link_pattern")
    if cached is None:
        prefixes = sorted({rule.rule.split("<", 1)[0] for rule in current_app.url_map.iter_rules()
                           if "token" in rule.arguments and rule.rule.split("<", 1)[0].endswith("/")},
                          key=len, reverse=True)
        alternatives = "|".join(re.escape(prefix) for prefix in prefixes) or r"(?!)"
        cached = re.compile(rf"(?P<path>(?:{alternatives})){_URLSAFE_RUN}")
        current_app.extensions["one_time_link_pattern"] = cached
    return cached


def redact_one_time_links(body: str) -> str:
    """The text with the token of every one-time link replaced by REDACTED (unchanged if it holds none)."""
    return _pattern().sub(lambda m: m.group("path") + REDACTED, body)
