"""Password rules: 12 to 128 characters, any characters, and not a common or trivially patterned password."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from flask_babel import lazy_gettext as _l

MIN_PASSWORD = 12
MAX_PASSWORD = 128
BANNED_LIST = Path(__file__).resolve().parent.parent / "data" / "banned_passwords.txt"
# "password2024!" is as weak as "password": the base word before trailing digits and symbols is checked too.
_TRAILING = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def banned_passwords() -> frozenset[str]:
    """The banned list kept in the repository (portal/data/banned_passwords.txt), lower case."""
    with BANNED_LIST.open(encoding="utf-8") as handle:
        return frozenset(line.rstrip("\n") for line in handle if line.strip() and not line.startswith("#"))


def _repeats_a_short_unit(password: str) -> bool:
    """'aaaaaaaaaaaa', 'abcabcabcabc', '121212121212': one short piece said over and over."""
    for size in range(1, 5):
        unit = password[:size]
        if len(password) % size == 0 and unit * (len(password) // size) == password:
            return True
    return False


def _is_a_run(password: str) -> bool:
    """'123456789012', 'abcdefghijkl': each character one more (or one less) than the one before."""
    steps = {(ord(b) - ord(a)) % 10 if a.isdigit() and b.isdigit() else ord(b) - ord(a)
             for a, b in zip(password, password[1:], strict=False)}
    return steps in ({1}, {-1}, {9})


def is_banned(password: str) -> bool:
    """Whether the password is on the banned list, is a banned word plus digits or symbols, or is a pattern."""
    lowered = password.lower()
    banned = banned_passwords()
    if lowered in banned or _repeats_a_short_unit(lowered) or _is_a_run(lowered):
        return True
    base = _TRAILING.sub("", lowered)
    return base != lowered and len(base) >= 4 and base in banned


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable (a message for the person), or None when it is."""
    if len(password) < MIN_PASSWORD:
        return str(_l("Use at least %(n)d characters. A short sentence is easy to remember.", n=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        return str(_l("Use at most %(n)d characters.", n=MAX_PASSWORD))
    if is_banned(password):
        return str(_l("This password is too common and easy to guess. Try a short sentence only you would say."))
    return None
