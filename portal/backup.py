"""Backups: SQLite through its online backup API (safe while the portal runs), checked with integrity_check;
PostgreSQL through pg_dump's custom format, checked by listing it with pg_restore. Restore for SQLite too."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess  # nosec B404
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    """A backup or restore could not be made or did not verify; the message says why."""


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def sqlite_path(uri: str) -> Path:
    """The database file of a sqlite:/// URL."""
    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError("not a SQLite database file")
    return Path(url.database)


def integrity_check(path: Path) -> str:
    """PRAGMA integrity_check of a SQLite file: 'ok' when sound."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()
    return "; ".join(str(row[0]) for row in rows)


def backup_sqlite(uri: str, dest_dir: Path) -> Path:
    """Copy the live SQLite database with the online backup API into dest_dir, then check the copy."""
    source_path = sqlite_path(uri)
    if not source_path.exists():
        raise BackupError(f"no database file at {source_path}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"portal-{_stamp()}.db"
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)  # a consistent snapshot, WAL content included, while writers keep working
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dest.close()
        source.close()
    os.chmod(target, 0o600)  # it holds everything the portal knows
    result = integrity_check(target)
    if result != "ok":
        raise BackupError(f"the backup {target} failed integrity_check: {result}")
    return target


def restore_sqlite(uri: str, backup: Path) -> None:
    """Replace the SQLite database's contents with a checked backup, through the backup API (stop the portal)."""
    result = integrity_check(backup)
    if result != "ok":
        raise BackupError(f"{backup} failed integrity_check: {result}")
    target_path = sqlite_path(uri)
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dest = sqlite3.connect(target_path)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def _libpq(uri: str) -> tuple[str, dict]:
    """A libpq URL without the password, and an environment that carries it (so `ps` never shows it)."""
    url = make_url(uri)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def backup_postgresql(uri: str, dest_dir: Path) -> Path:
    """pg_dump --format=custom into dest_dir, then pg_restore --list to prove the archive reads back.

    Both run with an argument list, never through a shell.
    """
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if not pg_dump or not pg_restore:
        raise BackupError("pg_dump and pg_restore are needed (install the PostgreSQL client of the server's version)")
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"portal-{_stamp()}.dump"
    dsn, env = _libpq(uri)
    done = subprocess.run([pg_dump, "--format=custom", "--no-owner", "--file", str(target), dsn],  # noqa: S603
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    os.chmod(target, 0o600)
    listed = subprocess.run([pg_restore, "--list", str(target)],  # noqa: S603
                            capture_output=True, text=True, check=False)
    if listed.returncode != 0 or "TABLE DATA" not in listed.stdout:
        raise BackupError(f"the dump {target} does not read back: {listed.stderr.strip()[:500]}")
    return target


def backup(uri: str, dest_dir: Path) -> Path:
    """Back up the database at uri into dest_dir; returns the checked backup file."""
    backend = make_url(uri).get_backend_name()
    if backend == "sqlite":
        return backup_sqlite(uri, dest_dir)
    if backend == "postgresql":
        return backup_postgresql(uri, dest_dir)
    raise BackupError(f"no backup method for {backend}")
