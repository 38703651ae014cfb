"""Alembic environment of the trellis metadata store.

trellis runs migrations itself (see ``trellis.metadata._migrator``) and hands
Alembic an open connection inside a transaction through
``config.attributes["connection"]``. Without one, the database comes from
``-x url=...`` or the ``sqlalchemy.url`` option, which is how a developer writes
the next migration::

    from alembic import command
    from trellis.metadata._migrator import alembic_config

    config = alembic_config()
    config.set_main_option("sqlalchemy.url", "sqlite:////tmp/scratch.db")
    command.upgrade(config, "head")
    command.revision(config, "add tags", autogenerate=True, rev_id="0002")

Then tidy the script into a frozen snapshot (no trellis imports), name it
``0002_<slug>.py`` and append ``"0002"`` to ``KNOWN_REVISIONS`` in ``_revision.py``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from trellis.metadata._schema import METADATA


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if url is None:
        raise RuntimeError(
            "No database to migrate: set the sqlalchemy.url option or pass -x url=<database URL>."
        )
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=METADATA, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _configure_and_run(conn)
    finally:
        engine.dispose()


_run()
