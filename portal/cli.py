"""Flask commands: seed-demo, create-user, backup, restore, new-encryption-key, rotate-keys, demo-totp, worker,
retention."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from .extensions import db


def retention_report(plans, *, heading: str) -> str:
    """Counts per case and kind (never contents), one line per case, for the retention command."""
    from .services.retention import COUNTED

    if not plans:
        return "Nothing is due for purging."
    lines = [f"{heading} (counts per case; cases on legal hold are left out):"]
    for plan in plans:
        parts = ", ".join(f"{kind.replace('_', ' ')} {plan.counts[kind]}" for kind in COUNTED if plan.counts.get(kind))
        lines.append(f"  {plan.case_number}: {parts}")
    lines.append(f"  total: {sum(p.total for p in plans)} records in {len(plans)} case(s)")
    return "\n".join(lines)


def register(app: Flask) -> None:
    """Attach the commands to the app's CLI."""

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create demo data once (fictional people) and print the demo sign-ins."""
        from .demo import DEMO_PASSWORD, seed_demo

        created, logins = seed_demo()
        db.session.commit()
        click.echo("Demo data created." if created else "Demo data already present; nothing added.")
        click.echo(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD})")
        for role, email in logins:
            click.echo(f"  {role:<11} {email}")
        click.echo("\nStaff also need a code from an authenticator app: the first sign-in shows a QR code to scan.")
        click.echo("Without a phone at hand: flask --app portal demo-totp EMAIL prints the current code.")
        click.echo("")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice(["liaison", "supervisor", "admin"]), required=True)
    @click.password_option()
    def create_user_command(email: str, name: str, role: str, password: str) -> None:
        """Create a staff account."""
        from .errors import ServiceError
        from .services.accounts import create_user

        try:
            create_user(email=email, name=name, role=role, password=password, actor=None)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
        db.session.commit()
        click.echo(f"Created {role} {email}.")

    @app.cli.command("backup")
    @click.option("--to", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="Folder for the backup (default: instance/backups).")
    def backup_command(dest: Path | None) -> None:
        """Back up the database: SQLite with the online backup API + integrity_check; PostgreSQL with pg_dump."""
        from .backup import BackupError, backup

        dest = dest or Path(app.instance_path) / "backups"
        try:
            path = backup(app.config["SQLALCHEMY_DATABASE_URI"], dest)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Backup written and checked: {path} ({path.stat().st_size} bytes)")

    @app.cli.command("restore")
    @click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Confirm: the database's current contents are replaced.")
    def restore_command(backup_file: Path, yes: bool) -> None:
        """Restore a SQLite backup made by `flask backup` (stop the portal first). PostgreSQL: see README."""
        from .backup import BackupError, restore_sqlite

        if not yes:
            raise click.ClickException("This replaces every record in the database. Run again with --yes.")
        db.session.remove()
        db.engine.dispose()
        try:
            restore_sqlite(app.config["SQLALCHEMY_DATABASE_URI"], backup_file)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Restored {backup_file}.")

    @app.cli.command("new-encryption-key")
    @click.option("--id", "key_id", default=None, help="The key's id (default: a random one).")
    def new_encryption_key_command(key_id: str | None) -> None:
        """Print a new encryption key as id:key. Put it first in ENCRYPTION_KEYS or the key file, then rotate-keys."""
        from .crypto import KeyringError, new_key_line

        try:
            click.echo(new_key_line(key_id))
        except KeyringError as exc:
            raise click.ClickException(str(exc)) from None

    @app.cli.command("rotate-keys")
    @click.option("--dry-run", is_flag=True, help="Only count the values not yet under the current key.")
    @click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
                  help="Rows re-encrypted and committed at a time.")
    def rotate_keys_command(dry_run: bool, batch_size: int) -> None:
        """Re-encrypt every stored value under the first (current) key; safe to run again after an interruption."""
        from tqdm import tqdm

        from .crypto import KeyringError
        from .tasks.rotation import rotate_keys

        keyring = app.extensions["keyring"]
        bar = None

        def start(total: int) -> None:
            nonlocal bar
            if total and not dry_run:
                bar = tqdm(total=total, unit=" values", desc=f"re-encrypting under {keyring.current_id}")

        try:
            results = rotate_keys(keyring, batch_size=batch_size, dry_run=dry_run, on_total=start,
                                  progress=lambda n: bar.update(n) if bar is not None else None)
        except KeyringError as exc:
            raise click.ClickException(f"{exc}. Values re-encrypted so far are committed; add the missing key to "
                                       "the keys (after the current one) and run rotate-keys again.") from None
        finally:
            if bar is not None:
                bar.close()
        for result in results:
            if result.stale:
                verb = "to re-encrypt" if dry_run else "re-encrypted"
                count = result.stale if dry_run else result.rotated
                click.echo(f"  {result.context:<32} {count:>9,} {verb}")
        total = sum(r.stale if dry_run else r.rotated for r in results)
        if not dry_run:  # the audit keeps that keys were rotated, and how much: ids and counts, no value
            from . import audit

            audit.record("keys.rotate", None, actor=None, key_id=keyring.current_id, values=total)
            db.session.commit()
        if dry_run:
            click.echo(f"Dry run: {total:,} values in {len(results)} encrypted columns are not under key "
                       f"{keyring.current_id!r}; nothing changed.")
        else:
            click.echo(f"Re-encrypted {total:,} values under key {keyring.current_id!r} ({len(results)} encrypted "
                       "columns checked). Every value is now under the current key: older keys can be removed.")

    @app.cli.command("demo-totp")
    @click.argument("email")
    def demo_totp_command(email: str) -> None:
        """Print the current authenticator code of a demo staff account (development only; demo accounts only)."""
        import pyotp

        from .services.accounts import find_user_by_email

        if app.config.get("ENV_NAME") == "production" or not email.lower().endswith("@demo.example"):
            raise click.ClickException("Only for the demo accounts (…@demo.example), and never in production.")
        user = find_user_by_email(email)
        if user is None or not user.totp_secret:
            raise click.ClickException("Sign in once with the password first: the setup page creates the key.")
        click.echo(pyotp.TOTP(user.totp_secret).now())
    @app.cli.command("retention")
    @click.option("--dry-run", is_flag=True, help="Only report what would be purged; change nothing.")
    def retention_command(dry_run: bool) -> None:
        """Purge the contents of closed cases whose retention period ran out (cases on legal hold never)."""
        from .models import utcnow
        from .services import retention
        from .tasks.retention import purge_due

        now = utcnow()
        plans = retention.plan(now)
        click.echo(retention_report(plans, heading="Would purge" if dry_run else "Purging"))
        held = retention.held_closed_cases()
        if held:
            click.echo(f"Kept on legal hold: {held} closed case(s).")
        if dry_run:
            db.session.rollback()  # the plan may have made the agency row: a dry run leaves no trace
            click.echo("Dry run: nothing was purged.")
            return
        done = purge_due(plans, now=now)
        click.echo(f"Purged {sum(p.total for p in done)} records from {len(done)} case(s); "
                   f"each case has one retention.purge audit event.")

    @app.cli.command("worker")
    @click.option("--workers", "-w", default=4, show_default=True, help="Threads in this consumer.")
    @click.option("--no-periodic", is_flag=True, help="Do not run the every-minute sweep and reminders here.")
    @click.option("--verbose", "-v", is_flag=True, help="Also log every job huey runs.")
    def worker_command(workers: int, no_periodic: bool, verbose: bool) -> None:
        """Run a background-job consumer (huey): delivers texts, retries them, sends reminders."""
        import logging

        from .tasks import run_consumer

        logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if not verbose:  # huey logs two lines for every job at INFO
            logging.getLogger("huey").setLevel(logging.WARNING)
        app.logger.propagate = False  # portal.* already print through the app's (scrubbing) handler: not twice
        run_consumer(app, workers=workers, periodic=not no_periodic)
