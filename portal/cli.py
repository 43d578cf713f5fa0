"""Flask commands: seed-demo, create-user, worker."""
from __future__ import annotations

import click
from flask import Flask

from .extensions import db


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
        click.echo("")

    @app.cli.command("create-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice(["liaison", "supervisor", "admin"]), required=True)
    @click.password_option()
    def create_user_command(email: str, name: str, role: str, password: str) -> None:
        """Create a staff account."""
        from .services.accounts import AccountError, create_user

        try:
            create_user(email=email, name=name, role=role, password=password)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"Created {role} {email}.")

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
        run_consumer(app, workers=workers, periodic=not no_periodic)
