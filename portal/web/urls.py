"""Safe redirects (only to paths on this site), and which paths are the anonymous tip pages."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

from ..logsafety import NOTICE_PATH_PREFIX, TIP_PATH_PREFIXES

REDIRECT_FIELD = "next"  # the form field and query argument that carry a redirect target, wherever one is taken


def _has_control(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def safe_next(target: str | None, default: str) -> str:
    """target if it is a local path (no scheme, no host, no //), else default: bad input, never an error.

    Refused: any control character (a newline would break the Location header), as typed or percent-encoded
    (%0a, %00); spaces, tabs and look-alike characters (fullwidth solidus, bidi overrides, zero-width spaces) that
    can hide a host; backslashes (browsers read them as slashes); a scheme or a host, also once decoded."""
    if not target or not isinstance(target, str):
        return default
    if not target.isascii() or not target.isprintable() or any(ch.isspace() for ch in target):
        return default
    decoded = unquote(target)
    if _has_control(decoded) or "\\" in decoded or decoded.startswith("//") or not decoded.isascii():
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if urlsplit(decoded).scheme or urlsplit(decoded).netloc:
        return default
    return target


# The anonymous tip link and the check page (blueprint tips); kept with the log scrubbing, which needs them too.
TIP_PAGE_PREFIXES = TIP_PATH_PREFIXES


def is_tip_page(path: str, blueprint: str | None) -> bool:
    """Whether a request is one of the anonymous tip pages, where nothing may identify or track the tipster."""
    return blueprint == "tips" or path.startswith(TIP_PAGE_PREFIXES)


def is_notice_page(path: str) -> bool:
    """Whether a request is a one-time link from a text (/n/<token>), known or not."""
    return path.startswith(NOTICE_PATH_PREFIX)
