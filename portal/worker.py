"""Entry point for a huey consumer started on its own: `huey_consumer portal.worker.huey` (`flask worker` is the
usual way). The jobs in portal/tasks cannot import the app factory (it imports them), so it is handed over here."""
from . import logsafety
from .app import create_app
from .tasks import bind_app_factory, huey

logsafety.install_record_factory()  # the consumer's own lines too, before any job has built the app
bind_app_factory(create_app)

__all__ = ["huey"]
