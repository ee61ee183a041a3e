"""`flask --app app run`: the development server, on a database migrated first."""

from proc_service import create_app
from proc_service.config import database_url
from proc_service.migrate import upgrade

upgrade(database_url())
app = create_app()
