"""Operations as commands (flaskr's `flask init-db` habit): `flask --app wsgi migrate`.

`make run` and the container call it before serving; gunicorn's master calls the same
function on start unless PROC_MIGRATE_ON_START=0 (gunicorn.conf.py).
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from .data.migrate import upgrade
from .services import delivery


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest migration (a no-op when it is there)."""
    upgrade(url)


def init_app(app: Flask) -> None:
    @app.cli.command("migrate")
    def migrate_command() -> None:
        """Bring the database (PROC_DATABASE_URL) to the newest migration."""
        migrate(current_app.config["DATABASE_URL"])
        click.echo("database at the newest migration")

    events = click.Group("events", help="The event dispatcher (docs/api.md §15).")
    app.cli.add_command(events)

    @events.command("run")
    def events_run() -> None:
        """Deliver events to subscriptions until SIGTERM (several may run at once)."""
        delivery.run_forever(current_app._get_current_object())
