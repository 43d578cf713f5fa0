"""Leaves that talk to the outside world: one client per channel (texts now, email next).

Nothing here imports the portal's services, models, extensions or Flask: a client gets its settings and callbacks
when it is built (portal/app.py) and raises our own exception types. The import-linter contracts in .importlinter
hold this in CI.
"""
