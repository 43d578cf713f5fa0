"""Safe redirects: only to paths on this site."""
from __future__ import annotations

from urllib.parse import urlsplit


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
