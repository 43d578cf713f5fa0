"""Safe redirects (only to paths on this site), and which paths are the anonymous tip pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from ..logsafety import TIP_PATH_PREFIXES


def safe_next(target: str | None, default: str) -> str:
    """target if it is a local path (no scheme, no host, no //), else default."""
    if not target or not isinstance(target, str):
        return default
    # Printable ASCII only: a newline would break the Location header (a 500), and tabs, other controls and
    # look-alike characters (fullwidth solidus, bidi overrides, zero-width spaces) can hide a host from us.
    if not target.isascii() or not target.isprintable() or any(ch.isspace() for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# The anonymous tip link and the check page (blueprint tips); kept with the log scrubbing, which needs them too.
TIP_PAGE_PREFIXES = TIP_PATH_PREFIXES


def is_tip_page(path: str, blueprint: str | None) -> bool:
    """Whether a request is one of the anonymous tip pages, where nothing may identify or track the tipster."""
    return blueprint == "tips" or path.startswith(TIP_PAGE_PREFIXES)
