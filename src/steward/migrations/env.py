from __future__ import annotations

from alembic import context

from steward.contexts import load_models
from steward.db import Base, make_engine
from steward.migrate import on_backend

load_models()
target_metadata = Base.metadata


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True,
                          include_object=on_backend(connectable.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          include_object=on_backend(connection.dialect.name))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
