"""Key rotation: re-encrypt every stored value not under the keyring's current key (`flask rotate-keys`).

The encrypted columns are found in the models (every EncryptedText column, EncryptedJSON included), so a column
added later is rotated without being listed here. Values are read and written as the raw ``enc1:...`` text, a
batch at a time in id order, and each batch is committed: an interrupted run keeps what it did, and a second run
picks up only what is still under an old key (the query skips values already under the current one).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Integer, Text, bindparam, column, func, select, table, update
from sqlalchemy.orm import Session

from ..crypto import PREFIX, Keyring, is_encrypted
from ..extensions import db
from ..models.types import encrypted_columns


@dataclass
class ColumnRotation:
    """What one column held and what the run did with it."""

    context: str
    stale: int = 0  # values not under the current key when the run began (a plain leftover counts too)
    rotated: int = 0


def _raw(table_name: str, column_name: str):
    """The table with the column as plain text: no decryption on the way out, no encryption on the way in."""
    t = table(table_name, column("id", Integer), column(column_name, Text))
    return t, t.c[column_name]


def _stale(value_col, current_id: str):
    # Underscores are LIKE wildcards and key ids may hold them: compare the prefix exactly instead.
    prefix = f"{PREFIX}:{current_id}:"
    return func.substr(value_col, 1, len(prefix)) != prefix


def rotate_keys(keyring: Keyring, *, batch_size: int = 500, dry_run: bool = False,
                progress: Callable[[int], object] | None = None,
                on_total: Callable[[int], object] | None = None) -> list[ColumnRotation]:
    """Re-encrypt every value not under keyring's current key; returns one ColumnRotation per encrypted column.

    dry_run only counts. progress(n) is called after each committed batch; on_total(total) once, before any work.
    KeyringError if a value was written under a key the keyring no longer holds (nothing after it is touched).
    """
    targets = []
    with Session(db.engine) as session:
        for table_name, column_name, kind in encrypted_columns(db.metadata):
            t, value_col = _raw(table_name, column_name)
            stale = session.scalar(select(func.count()).select_from(t)
                                   .where(value_col.is_not(None), _stale(value_col, keyring.current_id)))
            targets.append((t, value_col, ColumnRotation(context=kind.context, stale=stale or 0)))
        if on_total is not None:
            on_total(sum(r.stale for _t, _c, r in targets))
        if dry_run:
            return [r for _t, _c, r in targets]
        for t, value_col, result in targets:
            if not result.stale:
                continue
            write = update(t).where(t.c.id == bindparam("_id")).values({value_col.name: bindparam("_value")})
            last_id = 0
            while True:
                rows = session.execute(
                    select(t.c.id, value_col)
                    .where(t.c.id > last_id, value_col.is_not(None), _stale(value_col, keyring.current_id))
                    .order_by(t.c.id).limit(batch_size)).all()
                if not rows:
                    break
                last_id = rows[-1][0]
                changes = [{"_id": row_id, "_value": keyring.reencrypt(value, context=result.context)
                            if is_encrypted(value) else keyring.encrypt_text(value, context=result.context)}
                           for row_id, value in rows]
                session.connection().execute(write, changes)
                session.commit()  # per batch: an interruption keeps what is done
                result.rotated += len(changes)
                if progress is not None:
                    progress(len(changes))
    return [r for _t, _c, r in targets]


def not_under(keyring: Keyring) -> int:
    """How many stored values are not under the current key (0 after a complete rotation)."""
    total = 0
    with Session(db.engine) as session:
        for table_name, column_name, _kind in encrypted_columns(db.metadata):
            t, value_col = _raw(table_name, column_name)
            total += session.scalar(select(func.count()).select_from(t).where(
                value_col.is_not(None), _stale(value_col, keyring.current_id))) or 0
    return total
