"""Column types and helpers shared by every model module."""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import CheckConstraint, DateTime, MetaData, Text, column
from sqlalchemy.sql import ColumnElement, operators
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.types import TypeDecorator

from .. import crypto


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def one_of(name: str, values: Iterable[str]) -> CheckConstraint:
    """A CHECK that column `name` holds a value of the vocabulary; named ck_<table>_<name> by the convention.

    NULL passes (SQL's CHECK refuses only false), so the same check serves a nullable column.
    """
    return CheckConstraint(column(name).in_(tuple(values)), name=name)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store timezone-aware UTC times")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# The largest id or page number taken from outside: every integer column on SQLite and PostgreSQL holds it.
# A bigger number would not fit the database's integer (SQLite raises OverflowError; PostgreSQL "out of range").
MAX_DB_INT = 2**31 - 1


def db_int(value) -> int | None:
    """A positive whole number typed in a form or query string that the database can hold, else None.

    Only ASCII digits count: "²".isdigit() is true, but int("²") fails.
    """
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_DB_INT else None


class EncryptedText(TypeDecorator):
    """Text encrypted at rest (portal/crypto.py): the database holds only ``enc1:<key id>:...`` values.

    `context` names the column ("leads.details"): a value copied into another column will not open there. None
    stays NULL; everything else, the empty string too, is encrypted. A column of this type cannot be searched,
    sorted or compared in SQL: read the rows and look in Python.
    """

    impl = Text
    cache_ok = True

    class comparator_factory(Text.Comparator):  # noqa: N801  (the name SQLAlchemy looks for)
        """Refuses every SQL comparison but IS [NOT] NULL: each value has its own nonce, so `col == "x"`, LIKE or
        IN would match nothing, silently. Failing loudly sends the caller to filter in Python instead."""

        def operate(self, op, *other, **kwargs):
            # IS [NOT] NULL works; so does a comparison with another column, which SQLAlchemy itself makes when
            # it matches columns (and which never encrypts a Python value into a condition that cannot hold).
            if op in (operators.is_, operators.is_not) or (
                    op in (operators.eq, operators.ne)
                    and all(isinstance(o, ColumnElement) and not isinstance(o, BindParameter) for o in other)):
                return super().operate(op, *other, **kwargs)
            raise TypeError(f"{self.type.context} is encrypted: it cannot be compared, searched or sorted in SQL")

        def reverse_operate(self, op, other, **kwargs):
            raise TypeError(f"{self.type.context} is encrypted: it cannot be compared, searched or sorted in SQL")

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{self.context} holds text, not {type(value).__name__}")
        return crypto.keyring().encrypt_text(value, context=self.context)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return crypto.keyring().decrypt_text(value, context=self.context)


class EncryptedJSON(EncryptedText):
    """A JSON document (list or dict) encrypted at rest like EncryptedText."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return crypto.keyring().encrypt_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")),
                                             context=self.context)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return json.loads(crypto.keyring().decrypt_text(value, context=self.context))


def encrypted_columns(metadata: MetaData) -> list[tuple[str, str, EncryptedText]]:
    """(table, column, type) of every encrypted column in the models: rotate-keys and the tests find them here, so a
    column added later is covered without being listed anywhere."""
    return sorted(((table.name, col.name, col.type) for table in metadata.sorted_tables for col in table.columns
                   if isinstance(col.type, EncryptedText)), key=lambda item: (item[0], item[1]))
