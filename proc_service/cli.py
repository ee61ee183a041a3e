"""Operations as commands (flaskr's `flask init-db` habit): `flask --app wsgi migrate`.

`make run` and the container call it before serving; gunicorn's master calls the same
function on start unless PROC_MIGRATE_ON_START=0 (gunicorn.conf.py).
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from .data.migrate import upgrade


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest migration (a no-op when it is there)."""
    upgrade(url)


def init_app(app: Flask) -> None:
    @app.cli.command("migrate")
    def migrate_command() -> None:
        """Bring the database (PROC_DATABASE_URL) to the newest migration."""
        migrate(current_app.config["DATABASE_URL"])
        click.echo("database at the newest migration")
