"""Staff commands: flask send-digests."""
import click

from ..extensions import db
from ..services.digest import send_digests
from . import bp


@bp.cli.command("send-digests")
@click.option("--print", "print_only", is_flag=True, help="Print every digest instead of texting it.")
@click.option("--all-liaisons", "everyone", is_flag=True, help="Every active liaison, not only those who asked.")
def send_digests_command(print_only: bool, everyone: bool) -> None:
    """Send the daily "who needs contact" digest (texts go through the outbox)."""
    counts = send_digests(print_only=print_only, everyone=everyone, echo=click.echo)
    db.session.commit()
    click.echo(f"Digests: {counts['texted']} texted, {counts['printed']} printed, "
               f"{counts['nothing_due']} with nothing due.")
