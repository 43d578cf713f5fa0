import logging
from logging.config import fileConfig

from flask import current_app

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Keep the app's loggers working when migrations run inside a process (tests, make run).
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    try:
        # this works with Flask-SQLAlchemy<3 and Alchemical
        return current_app.extensions['migrate'].db.get_engine()
    except (TypeError, AttributeError):
        # this works with Flask-SQLAlchemy>=3
        return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def render_item(type_, obj, autogen_context):
    """Write our UTCDateTime as a plain timezone-aware DateTime, so revisions never import the app."""
    from portal.models.types import EncryptedText, UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EncryptedText):  # the database holds the enc1:... text
        return "sa.Text()"
    return False


# The chain was renumbered in order (issue 12) before any deployment; a database made by an earlier checkout (a
# developer's or a demo's instance/portal.db) is still stamped with an old id. Same revisions, new names.
RENUMBERED = {
    'edda10d62ac8': '0001_initial_schema',
    '0005_security': '0002_security',
    '0006_perf': '0003_perf_indexes',
    '0004_staff': '0004_staff_daily_digest',
    '0007_perf_flags': '0005_perf_flags',
}


def restamp_renumbered(connection):
    """Give a database stamped with a pre-renumbering revision id the same revision's new id."""
    from sqlalchemy import inspect, text

    if inspect(connection).has_table('alembic_version'):
        for old, new in RENUMBERED.items():
            connection.execute(text('UPDATE alembic_version SET version_num = :new WHERE version_num = :old'),
                               {'new': new, 'old': old})
    connection.commit()  # always: the look-up began a transaction, and alembic must start its own


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives
    conf_args.setdefault("render_item", render_item)

    connectable = get_engine()

    with connectable.connect() as connection:
        restamp_renumbered(connection)
        sqlite = connection.dialect.name == 'sqlite'
        if sqlite:
            # Batch mode rebuilds a SQLite table (copy, drop, rename); with foreign keys on, dropping a table that
            # other rows refer to fails. The pragma only works outside a transaction, so it is set here, and the
            # references are checked before it is set back on.
            connection.exec_driver_sql('PRAGMA foreign_keys=OFF')
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=get_metadata(),
                **conf_args
            )

            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql('PRAGMA foreign_key_check').fetchall()
                connection.commit()
                if broken:
                    raise RuntimeError(f'the migration left rows whose foreign keys point nowhere: {broken[:10]}')
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql('PRAGMA foreign_keys=ON')
                connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
