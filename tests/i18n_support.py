"""The Spanish catalog for the tests: compile it, and find the messages the family side and the texts use.

Messages are found the way `make translations-extract` finds them (babel's extractors, the same keywords and
Jinja options as babel.cfg), straight from the sources, so a string someone adds today is checked today.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "portal" / "translations"
SPANISH_PO = TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
JINJA_OPTIONS = {"extensions": "jinja2.ext.do", "silent": "false"}  # as babel.cfg; a broken template fails loudly

# What a family member, an anonymous tipster or a text recipient can read: the pages, the texts and the
# messages built in Python for them (upload refusals, inbound-text replies, flashes, form errors).
# test_i18n_spanish checks that each of these paths exists, so a rename cannot silently drop one.
FAMILY_TEMPLATES = ("templates/family", "templates/tips", "templates/auth", "templates/errors", "templates/sms",
                    "templates/base.html", "templates/_macros.html")
FAMILY_PYTHON = ("portal/family", "portal/tips", "portal/auth", "portal/services", "portal/providers",
                 "portal/web/forms.py", "portal/uploads.py", "portal/models/stages.py", "portal/display.py")


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every messages.po under directory to its .mo (fuzzy entries left out, as pybabel does)."""
    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        mo_path = po_path.with_suffix(".mo")
        # Write then rename, so a parallel test worker never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=po_path.parent, suffix=".mo.tmp")
        with os.fdopen(fd, "wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        os.replace(tmp, mo_path)
        written.append(mo_path)
    return written


def _files(entries: Iterable[str], suffixes: tuple[str, ...], root: Path) -> list[Path]:
    found: list[Path] = []
    for entry in entries:
        path = root / entry
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix in suffixes)
    return found


def extract_messages(*, templates: Iterable[str] = FAMILY_TEMPLATES, python: Iterable[str] = FAMILY_PYTHON,
                     root: Path = ROOT) -> dict[str | tuple, list[str]]:
    """Every message id used in those sources, with the files it appears in."""
    messages: dict[str | tuple, list[str]] = {}
    sources = [("python", path, None) for path in _files(python, (".py",), root)]
    sources += [("jinja2", path, JINJA_OPTIONS) for path in _files(templates, (".html", ".txt"), root)]
    for method, path, options in sources:
        for lineno, message, _comments, _context in extract_from_file(method, path, keywords=KEYWORDS,
                                                                      options=options):
            where = f"{path.relative_to(root)}:{lineno}"
            messages.setdefault(message, []).append(where)
    return messages


def load_spanish():
    """The Spanish catalog as babel reads it."""
    with SPANISH_PO.open("rb") as po_file:
        return read_po(po_file, locale="es")


def untranslated(messages: dict[str | tuple, list[str]], catalog) -> list[str]:
    """Messages with no Spanish, or only a fuzzy (unchecked) one, each with where it is used."""
    problems = []
    for msgid, where in sorted(messages.items(), key=lambda item: str(item[0])):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        entry = catalog.get(key)
        if entry is None:
            problems.append(f"missing: {msgid!r} (used in {', '.join(where)})")
        elif entry.fuzzy:
            problems.append(f"fuzzy (check it, then remove the fuzzy flag): {msgid!r}")
        elif not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
            problems.append(f"not translated: {msgid!r} (used in {', '.join(where)})")
    return problems
